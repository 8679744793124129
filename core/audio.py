"""WAV rendering: FluidSynth with a General MIDI soundfont when installed, else a small NumPy synth.

FluidSynth renders a MIDI file in a subprocess; the NumPy synth sums a few harmonics per note
under an ADSR envelope. Both know nothing of chords: :func:`core.notation.to_wav` hands them the
MIDI file or the voicing and the length. :func:`synth_backend` says which one will be used.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

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
FLUIDSYNTH_TIMEOUT_S = 60
FLUIDSYNTH_GAIN = "1.6"
FADE_OUT_S = 0.08
#: Relative amplitudes of the NumPy synth's harmonics (a soft, organ-like piano stand-in).
HARMONICS = (1.0, 0.5, 0.25, 0.12)
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


def fluidsynth_binary() -> str | None:
    """Path of the ``fluidsynth`` program, if installed."""
    return shutil.which("fluidsynth")


def synth_backend(backend: Backend = "auto") -> Literal["fluidsynth", "numpy"]:
    """Which synthesiser :func:`core.notation.to_wav` uses: ``fluidsynth`` when it and a soundfont are installed, else ``numpy``.

    ``backend="numpy"`` forces the NumPy synth; ``backend="fluidsynth"`` raises
    :class:`AudioError` when FluidSynth or a soundfont is missing.
    """
    if backend == "numpy":
        return "numpy"
    available = fluidsynth_binary() is not None and find_soundfont() is not None
    if backend == "fluidsynth" and not available:
        raise AudioError("FluidSynth rendering needs the `fluidsynth` program and a General MIDI .sf2 soundfont")
    return "fluidsynth" if available else "numpy"


# --- FluidSynth -----------------------------------------------------------------------------------


def render_midi_fluidsynth(midi_bytes: bytes, seconds: float | None = None) -> bytes:
    """Render a MIDI file to a 44.1 kHz 16-bit stereo WAV with FluidSynth; trimmed or padded to ``seconds`` if given."""
    binary, soundfont = fluidsynth_binary(), find_soundfont()
    if binary is None or soundfont is None:
        raise AudioError("FluidSynth or a General MIDI soundfont is not installed")
    with tempfile.TemporaryDirectory(prefix="chordsmith-audio-") as tmp:
        midi_path, wav_path = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        midi_path.write_bytes(midi_bytes)
        command = [binary, "-ni", "-q", "-g", FLUIDSYNTH_GAIN, "-r", str(SAMPLE_RATE), "-T", "wav", "-O", "s16",
                   "-F", str(wav_path), str(soundfont), str(midi_path)]
        result = subprocess.run(command, capture_output=True, timeout=FLUIDSYNTH_TIMEOUT_S, check=False)
        if result.returncode != 0 or not wav_path.is_file():
            raise AudioError(f"fluidsynth failed ({result.returncode}): {result.stderr.decode(errors='replace')[-500:]}")
        wav_bytes = wav_path.read_bytes()
    return wav_bytes if seconds is None else _fit_length(wav_bytes, seconds)


def _fit_length(wav_bytes: bytes, seconds: float) -> bytes:
    """The same 16-bit WAV cut or zero-padded to ``seconds``, fading out at the end.

    FluidSynth renders until its reverb and releases die away, past the progression's end.
    """
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        params = reader.getparams()
        frames = reader.readframes(params.nframes)
    frame_size = params.sampwidth * params.nchannels
    wanted = int(round(seconds * params.framerate)) * frame_size
    samples = np.frombuffer(frames[:wanted].ljust(wanted, b"\0"), dtype="<i2").reshape(-1, params.nchannels)
    fade = min(len(samples), int(FADE_OUT_S * params.framerate))
    samples = samples.astype(np.float64)
    samples[len(samples) - fade:] *= np.linspace(1.0, 0.0, fade)[:, None]
    frames = samples.astype("<i2").tobytes()
    return _wav_bytes(frames, params.nchannels, params.sampwidth, params.framerate)


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


def synth_chord(pitches: Sequence[int], seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One block chord as float samples in [-1, 1]: each note a few harmonics, all under one envelope."""
    n_samples = int(round(seconds * sample_rate))
    t = np.arange(n_samples) / sample_rate
    freqs = midi_frequency(np.asarray(pitches))[:, None]
    tone = np.zeros(n_samples)
    for number, amplitude in enumerate(HARMONICS, start=1):
        tone += amplitude * np.sin(2 * np.pi * number * freqs * t).sum(axis=0)
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
