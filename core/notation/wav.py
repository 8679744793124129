"""A score played as WAV (:mod:`core.audio`: FluidSynth in process, or a NumPy synth): the progression or one chord."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from core import audio
from core.chords import Chord, SlashChord
from core.errors import InputError
from core.notation.score import DEFAULT_BEATS_PER_CHORD, DEFAULT_TEMPO, Score, build_score
from core.voicing import VoicingStyle


def synth_backend(backend: audio.Backend = "auto") -> Literal["fluidsynth", "numpy"]:
    """Which synthesiser :func:`score_to_wav` uses: ``fluidsynth`` (installed, with a GM soundfont) or ``numpy``."""
    return audio.synth_backend(backend)


def score_to_wav(score: Score, backend: audio.Backend = "auto") -> bytes:
    """The score's voicing as 44.1 kHz 16-bit WAV bytes, exactly ``len(chords) * beats_per_chord`` beats long.

    ``backend``: ``"auto"`` (FluidSynth if installed, falling back to NumPy if it fails),
    ``"fluidsynth"`` (raise :class:`core.audio.AudioError` if unavailable or failing) or
    ``"numpy"``. FluidSynth gives stereo General MIDI piano, NumPy a mono additive synth.
    """
    return audio.render_voicings(score.voicings, score.seconds / len(score.chords), backend)


def to_wav(
    chords: Sequence[Chord | SlashChord],
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    backend: audio.Backend = "auto",
    voicing: VoicingStyle = "voice-led",
) -> bytes:
    """The voiced progression as WAV bytes (:func:`score_to_wav` of :func:`build_score`)."""
    return score_to_wav(build_score(chords, bpm=bpm, beats_per_chord=beats_per_chord, voicing=voicing), backend)


def chord_wav(score: Score, index: int, backend: audio.Backend = "auto") -> bytes:
    """Chord ``index`` alone as WAV, voiced as it sounds in the progression (to hear it before choosing)."""
    if not 0 <= index < len(score.chords):
        raise InputError(f"chord {index + 1} is outside the progression (1..{len(score.chords)})")
    return score_to_wav(score.only(index), backend)
