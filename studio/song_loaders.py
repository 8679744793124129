"""Cached renderings of a song for the Song mode: its audio, one chord's audio, its downloads and its notation.

Keyed by the song's ``song=`` text (:mod:`studio.song_url`), which is the whole song, so an unchanged
song is rendered once; the song's voicing is the page's voicing setting.
"""

from __future__ import annotations

import streamlit as st

from studio.loaders import AudioStore
from studio.song_url import read_song_text


def song_audio(text: str, sections: tuple[int, ...] | None, voicing: str) -> bytes:
    """The song (or only ``sections``) as WAV at its tempo; kept in a store bounded by bytes (a whole song's sound
    is tens of MB: :class:`studio.loaders.AudioStore`)."""
    return _SONG_AUDIO.wav((text, None if sections is None else tuple(sections), voicing))


def _render_song(text: str, sections: tuple[int, ...] | None, voicing: str) -> bytes:
    from core.notation.song import song_wav

    return song_wav(read_song_text(text), None if sections is None else list(sections), voicing)


_SONG_AUDIO = AudioStore(size=16, max_bytes=128 * 2**20, render=_render_song)


@st.cache_data(show_spinner=False, max_entries=96)  # four beats of one chord, ~0.4 MB: at most ~40 MB kept
def chord_audio(text: str, index: int, position: int, voicing: str) -> bytes:
    """Chord ``position`` of section ``index`` alone, voiced as in the song, four beats long."""
    from core.notation.song import chord_spans, song_score
    from core.notation.wav import chord_wav

    song = read_song_text(text)
    flat = next(i for i, span in enumerate(chord_spans(song)) if span[:2] == (index, position))
    return chord_wav(song_score(song, voicing), flat)


@st.cache_data(show_spinner=False, max_entries=64)
def song_downloads(text: str, voicing: str) -> dict[str, bytes]:
    """Every download of the song by extension (:func:`core.notation.song.song_files`)."""
    from core.notation.song import song_files

    return song_files(read_song_text(text), voicing)


@st.cache_data(show_spinner="Engraving the song…", max_entries=32)
def song_svg(text: str, voicing: str) -> str:
    """The song's notation (verovio engraves its MusicXML: a system per section)."""
    from core.notation.song import song_svg

    return song_svg(read_song_text(text), voicing)


@st.cache_data(show_spinner=False, max_entries=256)
def chord_alternatives(model_folder: str, version: float, text: str, index: int, position: int,
                       guidance: float) -> list[tuple[str, float]]:
    """The chords that could stand at a chord of the song given both neighbours: (symbol, probability), best first.

    ``version`` keys the cache to the model's file (a retrained model gives new alternatives).
    """
    from core.generation.ensemble import load_ensemble
    from core.generation.song import section_alternatives

    ranked = section_alternatives(load_ensemble(model_folder), read_song_text(text), index, position, guidance=guidance)
    return [(chord.symbol, probability) for chord, probability in ranked]
