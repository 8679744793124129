"""Mood rule, title normalisation and Deezer lookup (on a real excerpt of deezer-mood)."""

from pathlib import Path

import pytest

from core.conditions import MOODS
from core.corpus.mood import (
    FREE_MIDI_MOOD_WORDS,
    FREE_MIDI_NON_MOOD_WORDS,
    DeezerMoods,
    mood_from_valence_arousal,
    mood_from_valence_energy,
    normalise_title,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

#: every word after '=' in free-midi-chords chords.py.txt (hand-copied; tests never read /work/shared)
FREE_MIDI_WORDS = {
    "Anguished", "Cadence", "Dark", "Dramatic", "Empowered", "Excited", "Fearful", "Hopeful", "Joyful", "Lonely",
    "Mysterious", "New", "Nostalgic", "Peaceful", "Playful", "Rebellious", "Relaxed", "Romantic", "Sad", "Spiritual",
    "Surprised", "Tender", "Triumphant",
}


@pytest.mark.parametrize(
    ("valence", "energy", "mood"),
    [(0.9, 0.9, "happy"), (0.7, 0.2, "calm"), (0.2, 0.8, "tense"), (0.38, 0.11, "sad"), (0.5, 0.5, "happy")],
)
def test_spotify_quadrants(valence: float, energy: float, mood: str) -> None:
    assert mood_from_valence_energy(valence, energy) == mood


@pytest.mark.parametrize(
    ("valence", "arousal", "mood"),
    [(1.5, 1.7, "happy"), (0.37, -0.92, "calm"), (-1.06, 0.74, "tense"), (-1.9, -0.66, "sad")],
)
def test_deezer_quadrants(valence: float, arousal: float, mood: str) -> None:
    assert mood_from_valence_arousal(valence, arousal) == mood


def test_free_midi_words_all_mapped_to_moods() -> None:
    assert set(FREE_MIDI_MOOD_WORDS) | FREE_MIDI_NON_MOOD_WORDS == FREE_MIDI_WORDS
    assert not set(FREE_MIDI_MOOD_WORDS) & FREE_MIDI_NON_MOOD_WORDS
    assert set(FREE_MIDI_MOOD_WORDS.values()) == set(MOODS) - {"unspecified"}
    assert FREE_MIDI_MOOD_WORDS["Joyful"] == "happy" and FREE_MIDI_MOOD_WORDS["Sad"] == "sad"


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Beatles", "beatles"),
        ("P.Y.T. (Pretty Young Thing)", "pyt"),
        ("How Blue Can You Get?", "how blue can you get"),
        ("Don't Stop feat. Someone", "dont stop"),
        ("Simon & Garfunkel", "simon and garfunkel"),
        ("Beyoncé", "beyonce"),
        ("The", "the"),
    ],
)
def test_normalise_title(text: str, normalised: str) -> None:
    assert normalise_title(text) == normalised


def test_deezer_lookup_on_excerpt() -> None:
    moods = DeezerMoods(FIXTURES / "deezer-mood")
    assert len(moods) == 5
    valence, arousal = moods.lookup("B.B. King", "How Blue Can You Get")
    assert valence == pytest.approx(-1.05657234488) and arousal == pytest.approx(0.736206377828)
    assert moods.lookup("the calla", "Strangler (live)") == pytest.approx((-1.17664007943, -0.31471974969))
    assert moods.lookup("B.B. King", "The Thrill Is Gone") is None
    assert moods.lookup_title("Fast As You Can")[0] == "fiona apple"
