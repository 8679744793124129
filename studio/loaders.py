"""Cached loaders: the one place pages read the corpus and render notation and audio.

The corpus table is a read-only shared resource (``st.cache_resource``: no copy per rerun);
figures derived from it are small and cached with ``st.cache_data`` keyed by the table path and
the filter values, never by a DataFrame argument (hashing a large frame on each rerun is slow).
Run folders are *not* cached: training writes them while the page watches.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core import paths
from core.chords import Chord
from core.conditions import Conditions
from core.corpus import browse
from core.corpus.stats import chord_frequencies, corpus_stats, filter_frame, length_distribution, transition_matrix
from core.corpus.table import load_table
from core.errors import InputError
from core.generation.ensemble import load_ensemble
from core.generation.generate import Sample
from studio.generate_url import GenerateRequest


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


@st.cache_data(show_spinner="Engraving…", max_entries=64)
def notation_svg(chords: str, key: tuple[int, str] | None, title: str) -> str:
    """The progression as SVG notation (verovio, via :mod:`core.notation`)."""
    from core.notation import build_score, to_svg

    return to_svg(build_score(browse.window_chords({"chords": chords}), title=title, key=key))


@st.cache_data(show_spinner="Rendering audio…", max_entries=64)
def progression_wav(chords: str, bpm: float | None = None) -> bytes:
    """The progression as WAV bytes at ``bpm`` beats per minute (default: notation's tempo) via :mod:`core.notation`."""
    from core.notation import to_wav

    return to_wav(browse.window_chords({"chords": chords}), **({"bpm": float(bpm)} if bpm else {}))


# --- models: generation, scoring, evaluation -----------------------------------------------------


@st.cache_data(show_spinner="Writing progressions…", max_entries=64)
def generated(request: GenerateRequest, model_folder: str, model_version: float) -> list[Sample]:
    """The request's progressions as the page shows them (deterministic; ``model_version`` keys the cache).

    ``model_folder`` may join several folders with ``os.pathsep``: an ensemble (:func:`core.generation.ensemble.load_ensemble`).
    """
    return request.run(load_ensemble(model_folder))


@st.cache_data(show_spinner="Weighing alternatives…", max_entries=256)
def alternatives(request: GenerateRequest, model_folder: str, model_version: float, sample_index: int,
                 position: int) -> list[tuple[Chord, float]]:
    """The most probable chords at one position of one shown sample, given both neighbours."""
    shown = generated(request, model_folder, model_version)[sample_index]
    return request.alternatives(load_ensemble(model_folder), shown, position)


@st.cache_data(show_spinner="Scoring…", max_entries=64)
def analysis(text: str, conditions: Conditions, model_folder: str, model_version: float) -> dict[str, object]:
    """Per-chord probability and surprise of a typed progression, and the genre and mood posteriors."""
    from core.generation.score import rank_condition, score_progression

    generator = load_ensemble(model_folder)
    return {
        "score": score_progression(generator, text, conditions),
        "genre": rank_condition(generator, text, conditions, "genre"),
        "mood": rank_condition(generator, text, conditions, "mood"),
    }


@st.cache_data(show_spinner="Writing MIDI…", max_entries=64)
def progression_midi(chords: str, bpm: float) -> bytes:
    """The progression as a MIDI file (via :mod:`core.notation`)."""
    from core.notation import to_midi

    return to_midi(browse.window_chords({"chords": chords}), bpm=bpm)


@st.cache_data(show_spinner="Writing MusicXML…", max_entries=64)
def progression_musicxml(chords: str, key: tuple[int, str] | None, title: str, bpm: float) -> bytes:
    """The progression as MusicXML, with chord symbols and Roman numerals (via :mod:`core.notation`)."""
    from core.notation import build_score, to_musicxml

    return to_musicxml(build_score(browse.window_chords({"chords": chords}), title=title, key=key, bpm=bpm))


def test_results(folder: Path) -> dict | None:
    """The folder's ``test_results.json`` (``None`` when missing or unreadable); not cached: it is small."""
    import json

    from core.training.run_folder import TEST_RESULTS_FILE

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
