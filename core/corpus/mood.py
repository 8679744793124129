"""The documented mood rule shared by the source parsers.

Moods are the four quadrants of the valence x arousal plane (Russell's circumplex):

==============  ================  ==========
valence         arousal/energy    mood
==============  ================  ==========
high (>= mid)   high (>= mid)     happy
high (>= mid)   low  (< mid)      calm
low  (< mid)    high (>= mid)     tense
low  (< mid)    low  (< mid)      sad
==============  ================  ==========

``mid`` is 0.5 for Spotify's ``valence``/``energy`` (both in [0, 1]) and 0 for Deezer's
standardised ``valence``/``arousal`` (centred on 0). A value exactly on the midline counts as high.
Where a song has no evidence its mood stays ``""``: the model treats "no mood given" as its own value.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

#: Every distinct mood word after ``=`` in free-midi-chords ``chords.py.txt`` mapped to a mood.
#:
#: Rule: place each word on the valence x arousal plane and take its quadrant (see module docstring):
#: positive words with high energy -> happy; positive, low-energy words -> calm;
#: negative or uneasy words with high energy or suspense -> tense; negative, low-energy words -> sad.
#: Borderline choices: "Hopeful" is positive and forward-driving -> happy; "Nostalgic" is wistful
#: longing (low energy, bittersweet-to-negative) -> sad; "Romantic" and "Spiritual" are warm and
#: low-energy -> calm; "Mysterious", "Surprised" and "Dark" are uneasy/suspenseful -> tense.
#: The non-mood tags "New" (marks recently added rows) and "Cadence" (a progression type) are in
#: :data:`FREE_MIDI_NON_MOOD_WORDS` instead and carry no mood evidence.
FREE_MIDI_MOOD_WORDS: dict[str, str] = {
    # happy: positive valence, high arousal
    "Joyful": "happy",
    "Triumphant": "happy",
    "Hopeful": "happy",
    "Empowered": "happy",
    "Excited": "happy",
    "Playful": "happy",
    # calm: positive valence, low arousal
    "Peaceful": "calm",
    "Relaxed": "calm",
    "Tender": "calm",
    "Romantic": "calm",
    "Spiritual": "calm",
    # tense: negative/uneasy valence, high arousal
    "Mysterious": "tense",
    "Surprised": "tense",
    "Rebellious": "tense",
    "Dark": "tense",
    "Dramatic": "tense",
    "Fearful": "tense",
    "Anguished": "tense",
    # sad: negative valence, low arousal
    "Sad": "sad",
    "Lonely": "sad",
    "Nostalgic": "sad",
}

#: Words after ``=`` in chords.py.txt that are tags, not moods: they give no mood evidence.
FREE_MIDI_NON_MOOD_WORDS: frozenset[str] = frozenset({"New", "Cadence"})

#: a title matched to Deezer without an artist (jazz standards) needs this many recordings, all in one quadrant.
MIN_RECORDINGS = 2


def _quadrant(valence_high: bool, arousal_high: bool) -> str:
    if valence_high:
        return "happy" if arousal_high else "calm"
    return "tense" if arousal_high else "sad"


def mood_from_valence_energy(valence: float, energy: float) -> str:
    """Mood from Spotify ``valence`` and ``energy`` (both in [0, 1]); quadrants split at 0.5."""
    return _quadrant(valence >= 0.5, energy >= 0.5)


def mood_from_valence_arousal(valence: float, arousal: float) -> str:
    """Mood from Deezer's standardised ``valence`` and ``arousal`` (centred on 0); quadrant by sign."""
    return _quadrant(valence >= 0.0, arousal >= 0.0)


_BRACKETED = re.compile(r"[(\[{][^)\]}]*[)\]}]")
_FEATURING = re.compile(r"\s(?:feat\.?|featuring|ft\.)\s.*$")
_DROPPED = re.compile(r"['\u2019.`]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise_title(text: str) -> str:
    """Normalise a title or artist name for matching across sources.

    Lowercases, strips accents, drops parenthesised/bracketed parts and any "feat./featuring/ft."
    tail, turns ``&`` into ``and``, deletes apostrophes and dots (``P.Y.T.`` -> ``pyt``), turns other
    punctuation into spaces, drops a leading ``the`` and squeezes spaces.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    lowered = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    lowered = _BRACKETED.sub(" ", lowered)
    lowered = _FEATURING.sub(" ", f" {lowered} ")
    lowered = lowered.replace("&", " and ")
    lowered = _DROPPED.sub("", lowered)
    words = _NOT_WORD.sub(" ", lowered).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


class DeezerMoods:
    """Deezer valence/arousal per track, looked up by normalised artist + title.

    Reads ``train.csv``, ``validation.csv`` and ``test.csv`` of the deezer-mood folder (their split is
    irrelevant here). Where several tracks share a normalised artist + title, their values are averaged.
    """

    FILES = ("train.csv", "validation.csv", "test.csv")

    def __init__(self, folder: Path) -> None:
        sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for name in self.FILES:
            path = Path(folder) / name
            if not path.exists():
                continue
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    try:
                        valence, arousal = float(row["valence"]), float(row["arousal"])
                    except (KeyError, TypeError, ValueError):
                        continue
                    total = sums[(normalise_title(row.get("artist_name") or ""), normalise_title(row.get("track_name") or ""))]
                    total[0] += valence
                    total[1] += arousal
                    total[2] += 1
        self._values: dict[tuple[str, str], tuple[float, float]] = {
            key: (v / n, a / n) for key, (v, a, n) in sums.items()
        }
        self._artists_by_title: dict[str, list[str]] = defaultdict(list)
        for artist_key, title_key in self._values:
            self._artists_by_title[title_key].append(artist_key)

    def __len__(self) -> int:
        return len(self._values)

    def lookup(self, artist: str, title: str) -> tuple[float, float] | None:
        """``(valence, arousal)`` for a song, or ``None`` when no Deezer track matches."""
        return self._values.get((normalise_title(artist), normalise_title(title)))

    def recordings(self, title: str) -> list[tuple[str, float, float]]:
        """Every Deezer recording of a title: ``(normalised artist, valence, arousal)``, sorted by artist."""
        title_key = normalise_title(title)
        return sorted((artist, *self._values[(artist, title_key)]) for artist in self._artists_by_title.get(title_key, []))

    def lookup_credit(self, credit: str, title: str) -> tuple[str, float, float] | None:
        """The one recording of ``title`` whose artist matches a partial credit (``Dylan`` -> ``bob dylan``).

        The credit matches an artist whose normalised name is the credit or ends with it as whole
        words; ``None`` unless exactly one recording matches.
        """
        credit_key = normalise_title(credit)
        if not credit_key:
            return None
        found = [r for r in self.recordings(title) if r[0] == credit_key or r[0].endswith(f" {credit_key}")]
        return found[0] if len(found) == 1 else None

    def lookup_title(self, title: str) -> tuple[str, float, float] | None:
        """``(normalised artist, valence, arousal)`` when exactly one Deezer artist has this title, else ``None``.

        For sources without artists (RS200). A title shared by several artists (covers, common
        titles) is ambiguous and gives ``None``.
        """
        title_key = normalise_title(title)
        artists = self._artists_by_title.get(title_key, [])
        if len(artists) != 1:
            return None
        valence, arousal = self._values[(artists[0], title_key)]
        return artists[0], valence, arousal


def deezer_mood(moods: DeezerMoods | None, artist: str, title: str) -> tuple[str, str]:
    """``(mood, evidence)`` from a Deezer match, or ``("", "")`` when there is none."""
    found = moods.lookup(artist, title) if moods is not None else None
    if found is None:
        return "", ""
    valence, arousal = found
    return mood_from_valence_arousal(valence, arousal), f"deezer valence={valence:.2f} arousal={arousal:.2f}"


def consensus_mood(recordings: list[tuple[str, float, float]]) -> tuple[str, str]:
    """``(mood, evidence)`` when at least :data:`MIN_RECORDINGS` recordings (distinct artists) all fall in one quadrant.

    Artists are distinct when neither normalised name starts with the other's words (``diana krall``
    and ``diana krall ray brown stanley turrentine`` are one artist). The evidence gives the count,
    the mean valence/arousal and the artists; ``("", "")`` when the recordings are too few or disagree.
    """
    if _distinct_artists([artist for artist, _, _ in recordings]) < MIN_RECORDINGS:
        return "", ""
    quadrants = {mood_from_valence_arousal(valence, arousal) for _, valence, arousal in recordings}
    if len(quadrants) != 1:
        return "", ""
    valence = sum(v for _, v, _ in recordings) / len(recordings)
    arousal = sum(a for _, _, a in recordings) / len(recordings)
    artists = "; ".join(artist for artist, _, _ in recordings)
    return quadrants.pop(), (f"deezer consensus of {len(recordings)} recordings valence={valence:.2f} "
                             f"arousal={arousal:.2f} ({artists})")


def _distinct_artists(artists: list[str]) -> int:
    """How many artists remain when a name that starts with another's words is counted as that artist."""
    kept: list[str] = []
    for artist in sorted(set(artists), key=len):
        if not any(artist == other or artist.startswith(f"{other} ") for other in kept):
            kept.append(artist)
    return len(kept)


def spotify_mood(valence: float, energy: float) -> tuple[str, str]:
    """``(mood, evidence)`` from Spotify valence and energy."""
    return mood_from_valence_energy(valence, energy), f"spotify valence={valence:.2f} energy={energy:.2f}"
