"""Mood evidence matched across sources: RS200 by artist and title, jazz standards by several agreeing recordings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.corpus import jazz_standards, rs200
from core.corpus.mood import DeezerMoods, consensus_mood
from core.corpus.mood_matching import (
    billboard_credits,
    distinctive,
    file_credit,
    jazz_mood,
    known_song_titles,
    rs200_mood,
)
from core.corpus.rows import BuildReport

DEEZER_ROWS = [  # artist, title, valence, arousal
    ("The Ronettes", "Be My Baby", 1.3, 1.2),
    ("Bob Dylan", "Blowin' In The Wind", -0.5, -1.0),
    ("Joan Baez", "Blowin' In The Wind", 1.0, 0.8),
    ("Ray Charles", "Eleanor Rigby", -0.3, 0.2),
    ("Eva Cassidy", "Autumn Leaves", -0.8, -0.4),
    ("Roger Williams", "Autumn Leaves", -0.6, -0.2),
    ("Diana Krall", "Peel Me A Grape", 0.5, 0.5),
    ("Diana Krall Ray Brown", "Peel Me A Grape", 0.6, 0.4),
    ("Singer One", "Lush Life Again", 0.5, -0.5),
    ("Singer Two", "Lush Life Again", -0.5, -0.5),
    ("Singer One", "Cry Me A River", -0.5, 0.5),
    ("Singer Two", "Cry Me A River", -0.4, 0.6),
]


@pytest.fixture()
def sources(tmp_path: Path) -> Path:
    """A sources root with deezer-mood, billboard (two songs) and rs200 (three songs) folders."""
    deezer = tmp_path / "deezer-mood"
    deezer.mkdir()
    lines = ["dzr_sng_id,MSD_sng_id,MSD_track_id,valence,arousal,artist_name,track_name"]
    lines += [f"{i},S{i},T{i},{v},{a},{artist},{title}" for i, (artist, title, v, a) in enumerate(DEEZER_ROWS)]
    (deezer / "train.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    salami = tmp_path / "billboard" / "salami_chords"
    salami.mkdir(parents=True)
    for number, (title, artist, tonic) in enumerate([("Be My Baby", "The Ronettes", "E"),
                                                      ("Eleanor Rigby", "Ray Charles", "D")]):
        (salami / f"{number:04d}.txt").write_text(
            f"# title: {title}\n# artist: {artist}\n# metre: 4/4\n# tonic: {tonic}\n\n0.0\tA, verse, | E:maj | A:maj |\n",
            encoding="utf-8")
    harmony = tmp_path / "rs200" / "rs200_harmony"
    harmony.mkdir(parents=True)
    songs = {}
    for stem, title, key, header in [("be_my_baby", "Be My Baby", "E", "% Be My Baby"),
                                     ("blowin_in_the_wind", "Blowin' In The Wind", "G", "% Dylan - Blowin' in the Wind"),
                                     ("eleanor_rigby", "Eleanor Rigby", "E", "% Eleanor Rigby")]:
        songs[title] = {"title": title, "key": key, "meter": "4/4"}
        (harmony / f"{stem}_dt.har").write_text(f"{header}\n\nVr: I | IV | V | I |\nS: [{key}] $Vr*2\n", encoding="utf-8")
    (tmp_path / "rs200" / "songs.json").write_text(json.dumps(songs), encoding="utf-8")
    return tmp_path


def test_consensus_needs_two_artists_in_one_quadrant() -> None:
    mood, evidence = consensus_mood([("eva cassidy", -0.8, -0.4), ("roger williams", -0.6, -0.2)])
    assert mood == "sad" and "consensus of 2 recordings" in evidence and "eva cassidy; roger williams" in evidence
    assert consensus_mood([("a", 0.5, -0.5), ("b", -0.5, -0.5)]) == ("", "")  # calm vs sad
    assert consensus_mood([("a", 0.5, -0.5)]) == ("", "")
    assert consensus_mood([("diana krall", 0.5, 0.5), ("diana krall ray brown", 0.6, 0.4)]) == ("", "")  # one artist


def test_credits_from_the_analysis_itself() -> None:
    assert file_credit("Mr. Tambourine Man (Byrds)", []) == "Byrds"
    assert file_credit("Blowin' In The Wind", ["% Dylan - Blowin' in the Wind"]) == "Dylan"
    assert file_credit("Be-Bop-A-Lula", ["% Be-Bop-A-Lula"]) == ""
    assert file_credit("Help", ["% Somebody - Another Title"]) == ""


def test_rs200_rules(sources: Path) -> None:
    deezer = DeezerMoods(sources / "deezer-mood")
    billboard = billboard_credits(sources / "billboard")
    artist, mood, evidence = rs200_mood("Be My Baby", 4, "", billboard, deezer)
    assert (artist, mood) == ("The Ronettes", "happy") and "Billboard transcription in the same key" in evidence
    assert rs200_mood("Be My Baby", 9, "", billboard, deezer) == ("", "", "")  # Billboard has it in another key
    assert rs200_mood("Eleanor Rigby", 4, "", billboard, deezer) == ("", "", "")  # Billboard's is in D: a cover
    artist, mood, _ = rs200_mood("Blowin' In The Wind", 7, "Dylan", billboard, deezer)
    assert (artist, mood) == ("Dylan", "sad")  # the credit picks Bob Dylan, not Joan Baez's cover
    assert rs200_mood("Blowin' In The Wind", 7, "", billboard, deezer) == ("", "", "")  # no artist: no title-only match
    assert rs200_mood("Not Fade Away", 4, "Rolling Stones", billboard, deezer) == ("", "", "")  # excluded by hand
    billboard["be my baby"].append(("Another Artist", 4))
    assert rs200_mood("Be My Baby", 4, "", billboard, deezer) == ("", "", "")  # two artists: ambiguous


def test_rs200_parse_uses_the_billboard_and_deezer_folders_beside_it(sources: Path) -> None:
    songs = {song.title: song for song in rs200.parse(sources / "rs200", BuildReport())}
    assert (songs["Be My Baby"].artist, songs["Be My Baby"].mood) == ("The Ronettes", "happy")
    assert (songs["Blowin' In The Wind"].artist, songs["Blowin' In The Wind"].mood) == ("Dylan", "sad")
    assert (songs["Eleanor Rigby"].artist, songs["Eleanor Rigby"].mood, songs["Eleanor Rigby"].mood_evidence) == ("", "", "")


def test_jazz_titles_need_to_be_distinctive_and_agree(sources: Path) -> None:
    deezer = DeezerMoods(sources / "deezer-mood")
    known = known_song_titles(sources)
    assert {"be my baby", "eleanor rigby", "blowin in the wind"} <= known
    assert jazz_mood("Autumn Leaves", deezer, known)[0] == "sad"
    assert jazz_mood("Lush Life Again", deezer, known) == ("", "")  # recordings disagree
    assert jazz_mood("Cry Me A River", deezer, known) == ("", "")  # excluded by hand: another song of that title
    assert not distinctive("Solitude", known) and not distinctive("Be My Baby", known)
    assert distinctive("Autumn Leaves", known)


def test_jazz_parse_adds_moods_from_the_deezer_folder_beside_it(sources: Path) -> None:
    folder = sources / "jazz-standards"
    folder.mkdir()
    tunes = [{"Title": title, "Composer": "X", "Key": "C", "Rhythm": "Ballad",
              "Sections": [{"MainSegment": {"Chords": "Cmaj7|Dm7,G7|Cmaj7|A7"}}]}
             for title in ("Autumn Leaves", "Lush Life Again")]
    (folder / "JazzStandards.json").write_text(json.dumps(tunes), encoding="utf-8")
    songs = {song.title: song for song in jazz_standards.parse(folder, BuildReport())}
    assert songs["Autumn Leaves"].mood == "sad" and "eva cassidy; roger williams" in songs["Autumn Leaves"].mood_evidence
    assert songs["Lush Life Again"].mood == ""
