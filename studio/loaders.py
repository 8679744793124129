"""Cached loaders: the one place pages read the corpus and render notation and audio.

The corpus table is a read-only shared resource (``st.cache_resource``: no copy per rerun);
figures derived from it are small and cached with ``st.cache_data`` keyed by the table path and
the filter values, never by a DataFrame argument (hashing a large frame on each rerun is slow).
Run folders are *not* cached: training writes them while the page watches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core import paths
from core.chords import Chord, SlashChord
from core.conditions import Conditions
from core.corpus import browse
from core.corpus.stats import chord_frequencies, corpus_stats, filter_frame, length_distribution, transition_matrix
from core.corpus.table import load_table
from core.errors import InputError
from core.generation.ensemble import load_ensemble
from core.generation.sample import Sample
from core.voicing import VOICING_STYLES
from studio.generate_url import Edited
from studio.page_settings import PageSettings, read_slash_chords

if TYPE_CHECKING:
    from core.generation.analysis import Analysis
    from core.generation.locks import ProgressCallback as Progress
    from core.notation.score import Score


def corpus_path() -> str:
    """The shipped table's path; :class:`InputError` with the command that builds it when it is missing."""
    if not paths.CORPUS_TABLE.exists():
        raise InputError(
            f"the corpus table {paths.CORPUS_TABLE.name} is not there yet: build it with "
            "'python -m core data build --sources ../shared/data'"
        )
    return str(paths.CORPUS_TABLE)


@st.cache_resource(show_spinner="Reading the corpus…")
def _table(path: str, mtime: float) -> pd.DataFrame:
    return load_table(Path(path))


def corpus() -> pd.DataFrame:
    """The progression table (cached per file version); raises :class:`InputError` when it is missing."""
    path = corpus_path()
    return _table(path, Path(path).stat().st_mtime)


@st.cache_data(show_spinner=False)
def headline(path: str) -> dict[str, object]:
    """Headline figures of the table (songs, windows, chords, counts per label)."""
    return corpus_stats(_table(path, Path(path).stat().st_mtime))


@st.cache_data(show_spinner=False)
def label_counts(path: str, column: str) -> pd.DataFrame:
    """Songs and windows per value of ``column``."""
    return browse.counts_frame(_table(path, Path(path).stat().st_mtime), column)


@st.cache_data(show_spinner=False)
def lengths(path: str, genre: str, mood: str, scale_type: str) -> pd.Series:
    """Windows per progression length among the filtered rows."""
    return length_distribution(_filtered(path, genre, mood, scale_type))


@st.cache_data(show_spinner="Counting chords…")
def chord_counts(path: str, genre: str, mood: str, scale_type: str, top: int) -> pd.Series:
    """The ``top`` most frequent chords among the filtered rows."""
    return chord_frequencies(_filtered(path, genre, mood, scale_type), top)


@st.cache_data(show_spinner="Counting transitions…")
def transitions(path: str, genre: str, mood: str, scale_type: str, top: int) -> pd.DataFrame:
    """Row-normalised chord-to-chord transitions among the ``top`` chords of the filtered rows."""
    return transition_matrix(_filtered(path, genre, mood, scale_type), top)


def _filtered(path: str, genre: str, mood: str, scale_type: str) -> pd.DataFrame:
    return filter_frame(_table(path, Path(path).stat().st_mtime), genre=genre, mood=mood, scale_type=scale_type)


@st.cache_data(show_spinner=False, max_entries=64)
def search(path: str, text: str, songs: bool) -> pd.DataFrame:
    """Windows (or songs) matching ``text`` in title, artist or chords."""
    matches = browse.search_windows(_table(path, Path(path).stat().st_mtime), text)
    return browse.songs_table(matches) if songs else matches.loc[:, list(browse.WINDOW_COLUMNS)]


# --- notation and audio: one voiced, spelled score per progression --------------------------------


def _slash_chords(chords: str) -> list[SlashChord]:
    return list(read_slash_chords(chords))


@st.cache_resource(show_spinner=False, max_entries=256)
def score(chords: str, key: tuple[int, str] | None, title: str, bpm: float | None = None,
          voicing: str = VOICING_STYLES[0]) -> Score:
    """The voiced, spelled :class:`core.notation.score.Score` of symbols (slash chords kept), shared: it is immutable."""
    from core.notation.score import DEFAULT_TEMPO, build_score

    return build_score(_slash_chords(chords), title=title, key=key, bpm=float(bpm or DEFAULT_TEMPO), voicing=voicing)


@st.cache_data(show_spinner=False, max_entries=128)
def notation_svg(chords: str, key: tuple[int, str] | None, title: str, bpm: float | None = None,
                 voicing: str = VOICING_STYLES[0]) -> str:
    """The progression as SVG notation (verovio), its tempo mark at ``bpm`` (via :mod:`core.notation`)."""
    from core.notation.svg import to_svg

    return to_svg(score(chords, key, title, bpm, voicing))


def progression_wav(chords: str, bpm: float | None = None, voicing: str = VOICING_STYLES[0]) -> bytes:
    """The progression as WAV bytes at ``bpm`` beats per minute (default: notation's tempo), voiced as notated.

    Rendered once per progression, tempo and voicing, on the first asking (:class:`AudioStore`), then kept.
    """
    return _AUDIO.wav((chords, float(bpm) if bpm else None, voicing))


def _render_wav(chords: str, bpm: float | None, voicing: str) -> bytes:
    from core.notation.score import DEFAULT_TEMPO, build_score
    from core.notation.wav import score_to_wav

    return score_to_wav(build_score(_slash_chords(chords), bpm=float(bpm or DEFAULT_TEMPO), voicing=voicing))


class AudioStore:
    """Rendered WAV bytes, the latest kept (at most ``size`` renders and ``max_bytes`` of sound), shared by every session.

    Audio is the costliest part of a progression (FluidSynth renders ~20 s of sound for 8 chords, about
    0.06 CPU-s, several times its notation), so the page renders it only when someone asks to hear it (Play):
    rendering every new progression in advance took most of the server's CPU per Generate-new click with ten
    visitors, for sounds hardly anyone played. :meth:`prepare` still starts a render in a background thread for a
    caller that knows a sound will be wanted (FluidSynth runs outside Python's lock, so drawing goes on
    meanwhile); :meth:`wav` returns it, waiting for a render in progress or rendering it itself. The thread keeps
    the ordinary priority: a chord heard on a click waits for the synthesiser's lock, which a starved low-priority
    render would hold for long.

    Sound is large (3.4 MB for 8 chords at 100 BPM, ten times that for the longest progression or a whole song),
    so the store is bounded by bytes as well as by count: however many visitors ask for however long sounds, it
    holds at most ``max_bytes`` of finished renders (the newest one always stays). ``render`` makes the WAV bytes
    of a key (a progression's by default).
    """

    def __init__(self, size: int, max_bytes: int = 64 * 2**20, render: Callable[..., bytes] | None = None) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._render = render or _render_wav
        self._renders: OrderedDict[tuple, Future] = OrderedDict()
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="chordsmith-audio")

    def prepare(self, key: tuple) -> None:
        """Queue ``key``'s render unless it is done or under way."""
        with self._lock:
            if key not in self._renders:
                self._keep(key, self._worker.submit(self._render, *key))

    def wav(self, key: tuple) -> bytes:
        """``key``'s WAV bytes (rendered here when nobody started it, or when a background render failed)."""
        with self._lock:
            render = self._renders.get(key)
            if render is not None:
                self._renders.move_to_end(key)
        if render is not None:
            try:
                return render.result()
            except Exception:  # noqa: BLE001 - a failed background render is retried here, where its error shows
                pass
        data = self._render(*key)
        done: Future = Future()
        done.set_result(data)
        with self._lock:
            self._keep(key, done)
        return data

    def held_bytes(self) -> int:
        """Bytes of the finished renders kept now."""
        with self._lock:
            return self._held()

    def _held(self) -> int:
        return sum(len(render.result()) for render in self._renders.values()
                   if render.done() and not render.cancelled() and render.exception() is None)

    def _keep(self, key: tuple, render: Future) -> None:
        self._renders[key] = render
        self._renders.move_to_end(key)
        while len(self._renders) > self._size or (len(self._renders) > 1 and self._held() > self._max_bytes):
            self._renders.popitem(last=False)


_AUDIO = AudioStore(size=32, max_bytes=64 * 2**20)


@st.cache_data(show_spinner=False, max_entries=96)  # one chord's sound is ~0.4 MB: at most ~40 MB kept
def chord_audition(chords: str, index: int, bpm: float | None = None, voicing: str = VOICING_STYLES[0]) -> bytes:
    """Chord ``index`` of the progression alone, voiced as it sounds in the progression (to hear it before choosing)."""
    from core.notation.wav import chord_wav

    return chord_wav(score(chords, None, "", bpm, voicing), int(index))


@st.cache_data(show_spinner=False, max_entries=64)
def progression_midi(chords: str, key: tuple[int, str] | None, title: str, bpm: float,
                     voicing: str = VOICING_STYLES[0]) -> bytes:
    """The progression as a MIDI file: key signature, tempo, track name, each chord's symbol at its onset."""
    from core.notation.midi import score_to_midi

    return score_to_midi(score(chords, key, title, bpm, voicing))


@st.cache_data(show_spinner=False, max_entries=64)
def progression_musicxml(chords: str, key: tuple[int, str] | None, title: str, bpm: float,
                         voicing: str = VOICING_STYLES[0]) -> bytes:
    """The progression as MusicXML: chord symbols as harmony, Roman numerals, the key and the tempo."""
    from core.notation.musicxml import to_musicxml

    return to_musicxml(score(chords, key, title, bpm, voicing))


# --- models: generation, scoring, evaluation -----------------------------------------------------


def generation_only(request: PageSettings) -> PageSettings:
    """The request with the settings that only change how progressions are shown put back to their defaults (a cache key)."""
    base = PageSettings()
    return replace(request, transpose=base.transpose, tempo=base.tempo, voicing=base.voicing, analyze=base.analyze)


def drawn(request: PageSettings, model_folder: str, model_version: float,
          legacy_locks: tuple[tuple[int, Chord], ...] = (), progress: Progress | None = None) -> list[Sample]:
    """The batch the settings and the random seed draw (generated key): progression ``i`` until it is edited."""
    return _drawn(generation_only(request), legacy_locks, model_folder, model_version, progress)


@st.cache_data(show_spinner=False, max_entries=32)
def _drawn(request: PageSettings, legacy_locks: tuple[tuple[int, Chord], ...], model_folder: str,
           model_version: float, _progress: Progress | None) -> list[Sample]:
    from core.generation.generate import generate

    return generate(load_ensemble(model_folder), request.conditions, request.settings(), seed_chords=request.seeds,
                    locks=dict(legacy_locks), progress=_progress)


def drawn_with(request: PageSettings, fixed: dict[int, SlashChord], seed: int, model_folder: str,
               model_version: float, count: int = 1, progress: Progress | None = None) -> list[Sample]:
    """``count`` progressions drawn in one batch with the same ``fixed`` chords (seed chords and padlocks), generated key."""
    return _drawn_with(generation_only(request), tuple(sorted(fixed.items())), int(seed), int(count), model_folder,
                       model_version, progress)


@st.cache_data(show_spinner=False, max_entries=256)
def _drawn_with(request: PageSettings, fixed: tuple[tuple[int, SlashChord], ...], seed: int, count: int,
                model_folder: str, model_version: float, _progress: Progress | None) -> list[Sample]:
    from core.generation.generate import generate

    settings = request.settings(num_samples=count, random_seed=seed)
    return generate(load_ensemble(model_folder), request.conditions, settings, locks=dict(fixed), progress=_progress)


@st.cache_data(show_spinner=False, max_entries=512)
def scored(conditions: Conditions, edited: Edited, model_folder: str, model_version: float) -> Sample:
    """An edited progression (generated key) as a sample: the model's p(chord | chords before) for each chord."""
    from core.generation.edits import rescored

    return rescored(load_ensemble(model_folder), list(edited.chords), conditions, edited.ended, edited.locks)


@st.cache_data(show_spinner=False, max_entries=256)
def ranked(conditions: Conditions, in_key: bool, guidance: float, before: tuple[Chord, ...], after: tuple[Chord, ...],
           ends: bool, model_folder: str, model_version: float) -> list[tuple[Chord, float]]:
    """Every chord that could stand between ``before`` and ``after`` (generated key), most probable first.

    Nothing after: "what comes next", p(chord | chords before); chords after: "what fits here" and a
    chord's alternatives, p(chord | both neighbours) (:func:`core.generation.composer.next_chords`).
    """
    from core.config import ComposerSettings
    from core.generation.composer import next_chords

    ranking = next_chords(load_ensemble(model_folder), list(before), conditions, followed_by=list(after), in_key=in_key,
                          top=int(ComposerSettings.settings()["top"].high), ends=ends, guidance=guidance)
    return [(item.chord, item.probability) for item in ranking.chords]


@st.cache_data(show_spinner="Scoring…", max_entries=64)
def analysis(text: str, conditions: Conditions, model_folder: str, model_version: float) -> Analysis:
    """A typed progression scored and fitted to a genre and a mood (:func:`core.generation.analysis.analyze`)."""
    from core.generation.analysis import analyze

    return analyze(load_ensemble(model_folder), text, conditions)


def test_results(folder: Path) -> dict | None:
    """The folder's ``test_results.json`` (``None`` when missing or unreadable); not cached: it is small."""
    import json

    from core.run_files import TEST_RESULTS_FILE

    try:
        return json.loads((Path(folder) / TEST_RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@st.cache_resource
def computed_reports() -> dict[tuple, object]:
    """Results of long analyses (confusion, conditioning checks), kept for the server's life.

    Keyed by model folder, model version, table version and settings; filled by the page
    while it shows progress, which a ``st.cache_data`` function could not do.
    """
    return {}
