"""studio.loaders' audio store: a progression's audio rendered once, in the background when asked, the latest kept."""

from __future__ import annotations

from core.chords import read_symbol
from core.notation.score import build_score
from core.notation.wav import score_to_wav
from studio.loaders import AudioStore


def same_sound(wav: bytes, chords: str, bpm: float) -> bool:
    """The WAV of ``chords`` at ``bpm``: the same header (format, length) and not silent (FluidSynth's samples vary a
    little from one render to the next)."""
    expected = score_to_wav(build_score([read_symbol(s).slash for s in chords.split()], bpm=bpm))
    return wav[:44] == expected[:44] and len(wav) == len(expected) and any(wav[44:])


def test_audio_prepared_in_the_background_is_the_audio_of_the_progression() -> None:
    store = AudioStore(size=4)
    key = ("C G/B Am F", 120.0, "voice-led")
    store.prepare(key)
    assert same_sound(store.wav(key), "C G/B Am F", 120.0)
    assert same_sound(store.wav(("Dm G7", 90.0, "voice-led")), "Dm G7", 90.0)  # never prepared: rendered on asking


def test_the_store_keeps_the_latest_renders_only() -> None:
    store = AudioStore(size=2)
    keys = [(chords, 100.0, "voice-led") for chords in ("C", "F", "G")]
    for key in keys:
        store.wav(key)
    assert list(store._renders) == keys[1:]  # noqa: SLF001 - the eviction order is the behaviour under test
    store.wav(keys[1])
    store.prepare(keys[0])
    assert list(store._renders) == [keys[1], keys[0]]  # noqa: SLF001
