"""studio.loaders' audio store: a sound rendered once (in the background when asked), the latest kept within a size and bytes."""

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


def test_the_store_holds_at_most_its_bytes_and_always_the_newest_sound() -> None:
    store = AudioStore(size=10, max_bytes=1000, render=lambda size, name: b"x" * size)
    for name in "abcde":
        store.wav((300, name))
    assert [key[1] for key in store._renders] == ["c", "d", "e"]  # noqa: SLF001 - the eviction is the behaviour
    assert store.held_bytes() == 900
    assert len(store.wav((5000, "huge"))) == 5000  # larger than the whole store: kept alone, until the next one
    assert [key[1] for key in store._renders] == ["huge"]  # noqa: SLF001
    store.wav((10, "small"))
    assert [key[1] for key in store._renders] == ["small"] and store.held_bytes() == 10  # noqa: SLF001
