"""WAV rendering of block chords: FluidSynth (its C library, in process) with a General MIDI soundfont, else a NumPy synth.

Both backends play the same thing, a list of voicings (MIDI pitches) each held for the same
time, so what :func:`core.notation.wav.score_to_wav` renders is exactly the score's voicing.

FluidSynth is loaded once per process through ``ctypes`` (``libfluidsynth``, installed with the
``fluidsynth`` package) together with the soundfont, and renders straight into memory: no
program start and no soundfont load per progression, which costs a ``fluidsynth`` subprocess
about 0.1 s each time. Renders are serialised by a lock. Chorus is off (the GM piano sends it
nothing, so it only cost time); the reverb stays on, and its slow modulation carries on between
renders, so two renders of one progression may differ inaudibly. The NumPy synth sums a few
harmonics per note (from a one-period wavetable) under an ADSR envelope. :func:`synth_backend`
says which one is used.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import io
import logging
import os
import threading
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

log = logging.getLogger(__name__)

Backend = Literal["auto", "fluidsynth", "numpy"]
SAMPLE_RATE = 44100
#: Tried in order; ``CHORDSMITH_SOUNDFONT`` overrides. TimGM6mb is small, so FluidSynth starts fast.
SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
)
FLUIDSYNTH_GAIN = 1.6
FLUIDSYNTH_BLOCK = 64  # FluidSynth acts on note events at block boundaries: onsets are placed on them
VELOCITY = 80
FADE_OUT_S = 0.08
#: Relative amplitudes of the NumPy synth's harmonics (a soft, organ-like piano stand-in).
HARMONICS = (1.0, 0.5, 0.25, 0.12)
WAVETABLE_SIZE = 4096
ATTACK_S, DECAY_S, SUSTAIN_LEVEL, RELEASE_S = 0.01, 0.25, 0.55, 0.12


class AudioError(RuntimeError):
    """Audio could not be rendered with the backend asked for."""


# --- backend choice -------------------------------------------------------------------------------


def find_soundfont() -> Path | None:
    """The General MIDI soundfont to use: ``$CHORDSMITH_SOUNDFONT`` or the first installed candidate."""
    override = os.environ.get("CHORDSMITH_SOUNDFONT")
    for candidate in ([override] if override else []) + list(SOUNDFONT_CANDIDATES):
        path = Path(candidate)
        if path.is_file():
            return path
    return None


@functools.cache
def fluidsynth_library() -> str | None:
    """The FluidSynth shared library's name (``libfluidsynth.so.3``), if installed."""
    return ctypes.util.find_library("fluidsynth")


def synth_backend(backend: Backend = "auto") -> Literal["fluidsynth", "numpy"]:
    """Which synthesiser renders: ``fluidsynth`` when its library and a soundfont are installed, else ``numpy``.

    ``backend="numpy"`` forces the NumPy synth; ``backend="fluidsynth"`` raises
    :class:`AudioError` when FluidSynth or a soundfont is missing.
    """
    if backend == "numpy":
        return "numpy"
    available = fluidsynth_library() is not None and find_soundfont() is not None
    if backend == "fluidsynth" and not available:
        raise AudioError("FluidSynth rendering needs libfluidsynth (apt: fluidsynth) and a General MIDI .sf2 soundfont")
    return "fluidsynth" if available else "numpy"


def render_voicings(voicings: Sequence[Sequence[int]], seconds_per_chord: float, backend: Backend = "auto") -> bytes:
    """Block chords, each held ``seconds_per_chord``, as 44.1 kHz 16-bit WAV bytes (stereo FluidSynth, mono NumPy).

    ``auto`` falls back to the NumPy synth (with a warning) if FluidSynth fails; ``fluidsynth``
    raises :class:`AudioError` instead.
    """
    if synth_backend(backend) == "fluidsynth":
        try:
            frames = _fluidsynth(fluidsynth_library(), str(find_soundfont())).render(voicings, seconds_per_chord)
            return _wav_bytes(frames.tobytes(), channels=2, sample_width=2, sample_rate=SAMPLE_RATE)
        except (AudioError, OSError) as error:
            if backend == "fluidsynth":
                raise AudioError(str(error)) from error
            log.warning("FluidSynth failed, using the NumPy synth instead: %s", error)
    return samples_to_wav(synth_voicings(voicings, seconds_per_chord))


# --- FluidSynth -----------------------------------------------------------------------------------


class _FluidSynth:
    """One FluidSynth synthesizer with the soundfont loaded, rendering into memory under a lock."""

    def __init__(self, library: str, soundfont: str) -> None:
        lib = ctypes.CDLL(library)
        pointer = ctypes.c_void_p
        for name, argtypes, restype in (
            ("new_fluid_settings", [], pointer), ("new_fluid_synth", [pointer], pointer),
            ("fluid_settings_setnum", [pointer, ctypes.c_char_p, ctypes.c_double], ctypes.c_int),
            ("fluid_settings_setint", [pointer, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
            ("fluid_set_log_function", [ctypes.c_int, pointer, pointer], pointer),
            ("fluid_synth_sfload", [pointer, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
            ("fluid_synth_system_reset", [pointer], ctypes.c_int),
            ("fluid_synth_program_change", [pointer, ctypes.c_int, ctypes.c_int], ctypes.c_int),
            ("fluid_synth_noteon", [pointer, ctypes.c_int, ctypes.c_int, ctypes.c_int], ctypes.c_int),
            ("fluid_synth_noteoff", [pointer, ctypes.c_int, ctypes.c_int], ctypes.c_int),
            ("fluid_synth_write_float", [pointer, ctypes.c_int, pointer, ctypes.c_int, ctypes.c_int, pointer,
                                         ctypes.c_int, ctypes.c_int], ctypes.c_int),
        ):
            getattr(lib, name).argtypes, getattr(lib, name).restype = argtypes, restype
        for level in range(1, 5):  # keep fatal errors only: warnings would go to the server's stderr
            lib.fluid_set_log_function(level, None, None)
        settings = lib.new_fluid_settings()
        lib.fluid_settings_setnum(settings, b"synth.sample-rate", float(SAMPLE_RATE))
        lib.fluid_settings_setnum(settings, b"synth.gain", FLUIDSYNTH_GAIN)
        lib.fluid_settings_setint(settings, b"synth.chorus.active", 0)
        self.synth = lib.new_fluid_synth(settings)
        if not self.synth or lib.fluid_synth_sfload(self.synth, soundfont.encode(), 1) < 0:
            raise AudioError(f"FluidSynth could not load the soundfont {soundfont}")
        self.lib, self.settings, self.lock = lib, settings, threading.Lock()

    def render(self, voicings: Sequence[Sequence[int]], seconds_per_chord: float) -> np.ndarray:
        """Stereo 16-bit frames ``(n, 2)`` of the chords, piano on channel 1, faded out at the end."""
        total = int(round(len(voicings) * seconds_per_chord * SAMPLE_RATE))
        onsets = [int(round(i * seconds_per_chord * SAMPLE_RATE / FLUIDSYNTH_BLOCK)) * FLUIDSYNTH_BLOCK
                  for i in range(len(voicings))] + [total]
        out = np.zeros((total, 2), dtype=np.float32)
        with self.lock:
            self.lib.fluid_synth_system_reset(self.synth)
            self.lib.fluid_synth_program_change(self.synth, 0, 0)
            sounding: Sequence[int] = ()
            for pitches, start, end in zip(voicings, onsets, onsets[1:], strict=False):
                for pitch in sounding:
                    self.lib.fluid_synth_noteoff(self.synth, 0, pitch)
                for pitch in pitches:
                    self.lib.fluid_synth_noteon(self.synth, 0, int(pitch), VELOCITY)
                sounding = pitches
                block = out[start:end]
                self.lib.fluid_synth_write_float(self.synth, end - start, block.ctypes.data, 0, 2,
                                                 block.ctypes.data, 1, 2)
            for pitch in sounding:
                self.lib.fluid_synth_noteoff(self.synth, 0, pitch)
        fade = min(total, int(FADE_OUT_S * SAMPLE_RATE))
        out[total - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
        return (np.clip(out, -1.0, 1.0) * 32767).astype("<i2")


@functools.cache
def _fluidsynth(library: str, soundfont: str) -> _FluidSynth:
    """The process's FluidSynth for a library and soundfont (loading the soundfont takes ~0.1 s, once)."""
    return _FluidSynth(library, soundfont)


# --- NumPy synth ----------------------------------------------------------------------------------


def midi_frequency(midi_number: int | np.ndarray) -> np.ndarray:
    """Equal-tempered frequency in Hz of MIDI note numbers (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(midi_number, dtype=np.float64) - 69) / 12)


def adsr_envelope(n_samples: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """An attack-decay-sustain-release envelope over ``n_samples``, released at the end so chords don't click."""
    t = np.arange(n_samples) / sample_rate
    length = n_samples / sample_rate
    attack = np.clip(t / ATTACK_S, 0.0, 1.0)
    decay = 1.0 - (1.0 - SUSTAIN_LEVEL) * np.clip((t - ATTACK_S) / DECAY_S, 0.0, 1.0)
    release = np.clip((length - t) / RELEASE_S, 0.0, 1.0)
    return attack * decay * release


@functools.cache
def _wavetable() -> np.ndarray:
    """One period of the harmonic tone, sampled at :data:`WAVETABLE_SIZE` points."""
    phase = np.arange(WAVETABLE_SIZE) / WAVETABLE_SIZE
    return sum(a * np.sin(2 * np.pi * k * phase) for k, a in enumerate(HARMONICS, start=1))


def synth_chord(pitches: Sequence[int], seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One block chord as float samples in [-1, 1]: each note a few harmonics, all under one envelope."""
    n_samples = int(round(seconds * sample_rate))
    cycles = np.outer(midi_frequency(np.asarray(pitches)) / sample_rate, np.arange(n_samples))
    indices = ((cycles % 1.0) * WAVETABLE_SIZE).astype(np.int64)
    tone = _wavetable()[indices].sum(axis=0)
    peak = len(pitches) * sum(HARMONICS)
    return 0.8 * tone / peak * adsr_envelope(n_samples, sample_rate)


def synth_voicings(voicings: Sequence[Sequence[int]], seconds_per_chord: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Block chords (MIDI pitches), each ``seconds_per_chord`` long, as float mono samples (NumPy additive synth)."""
    n_per_chord = int(round(seconds_per_chord * sample_rate))
    parts = [synth_chord(pitches, n_per_chord / sample_rate, sample_rate) for pitches in voicings]
    return np.concatenate(parts) if parts else np.zeros(0)


def samples_to_wav(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Float mono samples in [-1, 1] as a 16-bit PCM mono WAV file."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    return _wav_bytes(pcm.tobytes(), channels=1, sample_width=2, sample_rate=sample_rate)


def _wav_bytes(frames: bytes, channels: int, sample_width: int, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_width)
        writer.setframerate(sample_rate)
        writer.writeframes(frames)
    return buffer.getvalue()
