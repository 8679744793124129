"""free-midi-chords parser on real lines of chords.py.txt (major, minor and modal lists)."""

from pathlib import Path

import pytest

from core.corpus import free_midi_chords
from core.corpus.rows import BuildReport

FIXTURE = Path(__file__).parent.parent / "fixtures" / "free-midi-chords"


@pytest.fixture(scope="module")
def songs() -> dict:
    return {song.song_id.split(":")[1]: song for song in free_midi_chords.parse(FIXTURE, BuildReport())}


def symbols(song) -> str:
    return " ".join(chord.symbol for chord in song.segments[0].chords)


def key(song) -> tuple[int, str]:
    return song.segments[0].key_tonic, song.segments[0].scale_type


def test_one_song_per_progression_string_of_prog_lists_only(songs: dict) -> None:
    assert list(songs) == ["maj-001", "maj-002", "maj-003", "min-001", "min-002", "modal-001", "modal-002", "modal-003"]
    assert all(s.genre == "" and s.genre_raw == "" and len(s.segments) == 1 for s in songs.values())


def test_major_list_in_c_major(songs: dict) -> None:
    assert key(songs["maj-003"]) == (0, "major")
    assert symbols(songs["maj-003"]) == "C G Am F"
    assert songs["maj-003"].title == "I V vi IV"
    assert symbols(songs["maj-002"]) == "C Cmaj7 C7 Cmaj7"  # I7 = diatonic seventh, Idom7 = dominant
    assert symbols(songs["maj-001"]) == "C C C C F F G Gsus2"  # IM-5 (flat fifth) mapped to C


def test_minor_list_in_a_minor(songs: dict) -> None:
    assert key(songs["min-001"]) == (9, "minor")
    assert symbols(songs["min-001"]) == "Am F C G"
    assert symbols(songs["min-002"]) == "Am7 F Cmaj7 G6 Am Am7 Cmaj7 Dm7"


def test_modal_list_relative_to_ionian(songs: dict) -> None:
    assert (key(songs["modal-001"]), symbols(songs["modal-001"])) == ((0, "major"), "Cmaj7 B7 E7 Dm7 G7")
    assert (key(songs["modal-002"]), symbols(songs["modal-002"])) == ((9, "minor"), "Am C G D")  # Dorian
    assert symbols(songs["modal-003"]) == "Eb G7 C"


def test_mood_majority_with_first_word_tie_break(songs: dict) -> None:
    assert (songs["maj-001"].mood, songs["maj-001"].mood_evidence) == ("happy", "free-midi words: Joyful Triumphant")
    assert songs["maj-002"].mood == "calm"  # Relaxed (calm) vs Playful (happy): first word wins
    assert songs["maj-003"].mood == "happy"  # Hopeful (happy) vs Romantic (calm)
    assert songs["min-002"].mood == "tense"  # Dark (tense) vs Nostalgic (sad)
    assert (songs["modal-003"].mood, songs["modal-003"].mood_evidence) == ("", "free-midi words: Cadence")


def test_chords_counted_and_mapped() -> None:
    report = BuildReport()
    free_midi_chords.parse(FIXTURE, report)
    assert report.chords_read["free-midi-chords"] == 8 + 4 + 4 + 4 + 8 + 5 + 4 + 3
    assert report.mapped["free-midi-chords"]["IM-5 -> maj"] == 2


def test_malformed_lines_skipped_with_line_numbers(tmp_path: Path) -> None:
    lines = (FIXTURE / "chords.py.txt").read_text(encoding="utf-8").splitlines()
    lines[3:3] = ['    "I Xq V =Sad",', "    some_name,"]  # after line 3, inside prog_maj
    (tmp_path / "chords.py.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = BuildReport()
    songs = free_midi_chords.parse(tmp_path, report)
    assert len(songs) == 8
    skipped = report.skipped["free-midi-chords"]
    assert len(skipped) == 2
    assert skipped[0].startswith(f"{tmp_path / 'chords.py.txt'}:4:") and "Xq" in skipped[0]
    assert skipped[1].startswith(f"{tmp_path / 'chords.py.txt'}:5:") and "some_name" in skipped[1]
