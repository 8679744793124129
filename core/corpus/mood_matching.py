"""Mood evidence matched across sources, for songs whose own source carries none (RS200, jazz standards).

Every rule ends in a Deezer valence/arousal match (quadrants as in :mod:`core.corpus.mood`) and
leaves a song without mood rather than guess:

**RS200 by artist and title.** The RS200 files name no artists. An artist is used only where a
shipped source gives one:

1. the analysis credits it itself: a ``% Artist - Title`` header comment or a ``(Artist)`` after the
   title (``Mr. Tambourine Man (Byrds)``); the credit must match exactly one Deezer recording of the
   title (``Dylan`` matches ``Bob Dylan``, whole words at the end of the name);
2. otherwise a Billboard transcription of the same (normalised) title, when Billboard has exactly one
   artist for that title *and* transcribes it in the same key (tonic) as the RS200 analysis — a cover
   in another key or another song of that title is left out; the (artist, title) pair must then match
   Deezer exactly.

**Jazz standards by several recordings.** A standard is recorded by many artists, so a title-only
match is accepted only when the title is *distinctive* (at least two words, not the title of a
Billboard or RS200 song, not in :data:`EXCLUDED_TITLES`) and at least two Deezer recordings (distinct
artists) of it all fall in the same quadrant (:func:`core.corpus.mood.consensus_mood`).

:data:`EXCLUDED_TITLES` holds the matches a check of every match by hand found to be a cover of a
different recording or another song with the same title (data/README.md lists the check).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from core.chords import ChordError, pitch_class
from core.corpus.mood import DeezerMoods, consensus_mood, mood_from_valence_arousal, normalise_title

#: normalised title -> why a match for it is left out (found by checking every match by hand).
EXCLUDED_TITLES: dict[str, str] = {
    "not fade away": "RS200 analyses Buddy Holly's recording; Billboard and Deezer hold the Rolling Stones' cover",
    "all through the night": "Deezer's Cyndi Lauper recording is her own 1984 song, not Cole Porter's",
    "cry me a river": "Deezer's Justin Timberlake recording is a different song from Arthur Hamilton's standard",
    "angel eyes": "Deezer's Ace of Base and Wet Wet Wet recordings are two other songs, not Matt Dennis's standard",
    "my song": "Deezer's Jerry Cantrell and Brandi Carlile recordings are two other songs, not Keith Jarrett's tune",
}
_HEADER = re.compile(r"^#\s*([a-z]+)\s*:\s*(.*?)\s*$")
_CREDIT_DASH = re.compile(r"^\s*%\s*(?P<artist>[^%-][^%]*?)\s+-\s+(?P<title>.+?)\s*$")
_CREDIT_PAREN = re.compile(r"\((?P<artist>[^()]+)\)\s*$")


def billboard_credits(billboard_dir: Path) -> dict[str, list[tuple[str, int | None]]]:
    """Normalised title -> ``(artist, tonic pitch class)`` of every Billboard transcription with that title."""
    credits: dict[str, list[tuple[str, int | None]]] = {}
    for path in sorted((Path(billboard_dir) / "salami_chords").glob("*.txt")):
        headers: dict[str, str] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # the Billboard parser reports unreadable files
        for line in lines:
            match = _HEADER.match(line.strip())
            if match:
                headers.setdefault(*match.groups())
            elif line.strip():
                break
        if headers.get("title") and headers.get("artist"):
            credits.setdefault(normalise_title(headers["title"]), []).append((headers["artist"], _tonic(headers.get("tonic"))))
    return credits


def _tonic(text: str | None) -> int | None:
    try:
        return pitch_class(text) if text else None
    except ChordError:
        return None


def file_credit(title: str, header_comments: list[str]) -> str:
    """The artist an RS200 analysis credits itself (``(Byrds)`` after the title, ``% Dylan - Title``), else ``""``."""
    match = _CREDIT_PAREN.search(title)
    if match:
        return match.group("artist").strip()
    for comment in header_comments:
        match = _CREDIT_DASH.match(comment)
        if match and normalise_title(match.group("title")) == normalise_title(title):
            return match.group("artist").strip()
    return ""


def rs200_mood(title: str, tonic: int, credit: str, billboard: dict[str, list[tuple[str, int | None]]],
               deezer: DeezerMoods | None) -> tuple[str, str, str]:
    """``(artist, mood, evidence)`` for an RS200 song by the rules in the module docstring; ``("", "", "")`` if none."""
    title_key = normalise_title(title)
    if deezer is None or title_key in EXCLUDED_TITLES:
        return "", "", ""
    if credit:
        found = deezer.lookup_credit(credit, title)
        if found is None:
            return "", "", ""
        artist, (_, valence, arousal) = credit, found
        how = f"artist credited in the analysis: {credit}"
    else:
        candidates = billboard.get(title_key, [])
        if len({normalise_title(a) for a, _ in candidates}) != 1 or any(t != tonic for _, t in candidates):
            return "", "", ""
        artist = candidates[0][0]
        found = deezer.lookup(artist, title)
        if found is None:
            return "", "", ""
        valence, arousal = found
        how = f"artist from the Billboard transcription in the same key: {artist}"
    evidence = f"deezer valence={valence:.2f} arousal={arousal:.2f} ({how})"
    return artist, mood_from_valence_arousal(valence, arousal), evidence


def known_song_titles(sources_root: Path) -> set[str]:
    """Normalised titles of the Billboard and RS200 songs (a jazz title among them is not distinctive)."""
    titles = set(billboard_credits(Path(sources_root) / "billboard"))
    songs_json = Path(sources_root) / "rs200" / "songs.json"
    if songs_json.exists():
        try:
            songs = json.loads(songs_json.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            songs = {}  # the RS200 parser reports an unreadable songs.json
        titles |= {normalise_title(str((value or {}).get("title", key))) for key, value in songs.items()}
    return titles


def distinctive(title: str, known_titles: set[str]) -> bool:
    """At least two words, not a Billboard/RS200 song title and not excluded by hand."""
    title_key = normalise_title(title)
    return len(title_key.split()) >= 2 and title_key not in known_titles and title_key not in EXCLUDED_TITLES


def jazz_mood(title: str, deezer: DeezerMoods | None, known_titles: set[str]) -> tuple[str, str]:
    """``(mood, evidence)`` for a jazz standard from the consensus of its Deezer recordings, or ``("", "")``."""
    if deezer is None or not distinctive(title, known_titles):
        return "", ""
    return consensus_mood(deezer.recordings(title))
