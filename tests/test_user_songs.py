"""Your own songs: each format's reader on small fixture files (good and bad), the import's limits, splits and table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import paths
from core.cli import main
from core.corpus import user_import
from core.corpus.table import COLUMNS, load_table
from core.corpus.user_import import MIN_SONGS, fine_tune_config, import_songs, split_songs, write_import
from core.corpus.user_songs import MAX_FILE_BYTES, read_chordpro, read_file, read_text
from core.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "user-songs"
GOOD = ("charts.txt", "wayfaring.cho", "little_blue.musicxml", "four_chords.mid")


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def chords_of(reading) -> list[list[str]]:
    return [[" ".join(c.symbol for c in segment.chords) for segment in song.segments] for song in reading.songs]


@pytest.fixture
def output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(paths, "OUTPUT_DIR", tmp_path / "output")
    monkeypatch.setenv("CHORDSMITH_OUTPUT", str(tmp_path / "output"))
    return tmp_path / "output"


# --------------------------------------------------------------------------- the readers


def test_plain_text_chart_lines_keys_titles_and_what_was_not_read() -> None:
    reading = read_file(*fixture("charts.txt"))
    assert reading.format == "text"
    assert [song.title for song in reading.songs] == ["charts line 3", "charts line 4", "charts line 5", "Blue Evening"]
    assert chords_of(reading) == [["C G Am F"], ["C Am Dm7 G7"], ["G7 C F Fm6 C"],
                                  ["Cm7 F7 Bbmaj7 Ebmaj7", "Am7b5 D7 Gm7 Gm7", "Eb Bb Cm F7"]]
    blue = reading.songs[3]
    assert blue.artist == "Me" and {(s.key_tonic, s.scale_type) for s in blue.segments} == {(10, "major")}
    assert blue.segments[2].section == "Verse"  # a labelled line is a progression too
    assert reading.songs[0].segments[0].key_tonic == 0
    assert [str(p) for p in reading.problems] == [
        "charts.txt:11: unknown chord symbol 'Hmaj7' (try e.g. C, Am, G7, Fmaj7, Bm7b5, C/E)",
        "charts.txt:15: only one chord: a progression needs at least two",
    ]
    assert [str(n) for n in reading.notes] == ["charts.txt:5: G13 read as G7"]
    assert reading.slash_basses == 2 and reading.guessed_keys == 0


def test_plain_text_without_a_key_guesses_it_and_counts_the_guess() -> None:
    reading = read_text("song.txt", "Am F C G\nAm Dm E7 Am\n")
    assert [(s.segments[0].key_tonic, s.segments[0].scale_type) for s in reading.songs] == [(9, "minor"), (9, "minor")]
    assert reading.guessed_keys == 2 and not reading.problems


def test_chordpro_inline_chords_sections_key_and_capo() -> None:
    reading = read_file(*fixture("wayfaring.cho"))
    assert reading.format == "chordpro" and len(reading.songs) == 1
    song = reading.songs[0]
    assert (song.title, song.artist) == ("Wayfaring Stranger", "Traditional")
    assert chords_of(reading) == [["Dm Gm Dm A7 Dm", "Bb F Dm Asus4 Dm"]]
    assert {(s.key_tonic, s.scale_type) for s in song.segments} == {(2, "minor")}
    assert [str(p) for p in reading.problems] == [
        "wayfaring.cho:8: 'N.C.' (no chord) skipped",
        "wayfaring.cho:8: unknown chord symbol 'Q7' (try e.g. C, Am, G7, Fmaj7, Bm7b5, C/E)",
    ]
    assert [str(n) for n in reading.notes] == ["wayfaring.cho:13: A7sus4 read as Asus4"]
    capo = read_chordpro("capo.cho", "{title: Up}\n{capo: 2}\n[C]la [G]la [Am]la\n{new_song}\n{title: Two}\n[D]a [A]b\n")
    assert chords_of(capo) == [["D A Bm"], ["D A"]]  # the capo moves the first song only


def test_musicxml_chord_symbols_by_measure() -> None:
    reading = read_file(*fixture("little_blue.musicxml"))
    assert reading.format == "musicxml" and reading.songs[0].title == "Little Blue"
    assert chords_of(reading) == [["Gm7 C7 Fmaj7 D7 Gm7 C9 F"]]
    assert (reading.songs[0].segments[0].key_tonic, reading.songs[0].segments[0].scale_type) == (5, "major")
    assert [str(p) for p in reading.problems] == ["little_blue.musicxml, measure 8: 'N.C.' (no chord) skipped"]
    assert "little_blue.musicxml, measure 6: C13 read as C9" in [str(n) for n in reading.notes]


def test_midi_chords_from_simultaneous_notes() -> None:
    reading = read_file(*fixture("four_chords.mid"))
    assert reading.format == "midi"
    assert chords_of(reading) == [["C Am F G7 C"]]
    assert (reading.songs[0].segments[0].key_tonic, reading.songs[0].segments[0].scale_type) == (0, "major")
    assert [str(p) for p in reading.problems] == [
        "four_chords.mid: 1 moment with fewer than three different notes (no chord) skipped, in measure 5"]


@pytest.mark.parametrize(("name", "message"), [
    ("empty.txt", "empty.txt: the file is empty"),
    ("junk.txt", "junk.txt: binary data, not a text file"),
    ("latin1.txt", "latin1.txt: not UTF-8 text (byte 0xE9 at position 20); save it as UTF-8"),
    ("not_midi.mid", "not_midi.mid: not a MIDI file"),
    ("truncated.musicxml", "truncated.musicxml: cannot be read as MusicXML"),
])
def test_bad_files_are_one_clear_message(name: str, message: str) -> None:
    with pytest.raises(InputError) as error:
        read_file(*fixture(name))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_size_limit_and_unknown_binary_files() -> None:
    with pytest.raises(InputError, match=f"at most {MAX_FILE_BYTES:,} per file"):
        read_file("big.txt", b"C G Am F\n" * (MAX_FILE_BYTES // 9 + 1))
    with pytest.raises(InputError, match="not a chord chart, MusicXML or MIDI file"):
        read_file("photo.jpg", b"\xff\xd8\xff\x00\x10JFIF")
    assert read_file("song", b"{title: X}\n[C]a [G]b\n").format == "chordpro"  # no ending: told by the content
    text = "title: A\nC F\ntitle: B\nG C\n"
    assert read_file("utf16.txt", b"\xff\xfe" + text.encode("utf-16-le")).songs[1].title == "B"


# --------------------------------------------------------------------------- the import


def test_import_holds_songs_out_deterministically_whatever_the_file_order() -> None:
    first = import_songs([fixture(name) for name in GOOD], genre="jazz")
    again = import_songs([fixture(name) for name in reversed(GOOD)], genre="jazz")
    splits = dict(zip(first.table["title"], first.table["split"], strict=True))
    assert splits == dict(zip(again.table["title"], again.table["split"], strict=True))
    summary = first.summary()
    assert summary["songs"] == {"train": 5, "validation": 1, "test": 1}
    assert len(summary["validation_songs"]) == len(summary["test_songs"]) == 1  # named by what they are held out for
    assert sorted(summary["validation_songs"] + summary["test_songs"]) == summary["held_out_songs"]
    assert set(first.table["source"]) == {"user"} and set(first.table["genre"]) == {"jazz"}
    assert list(first.table.columns) == list(COLUMNS)
    assert [entry["file"] for entry in summary["files"]] == list(GOOD)
    assert summary["files"][0]["not_read"][0].startswith("charts.txt:11: unknown chord symbol 'Hmaj7'")


def test_import_refuses_too_few_songs_too_many_files_and_unknown_labels() -> None:
    with pytest.raises(InputError, match=f"at least {MIN_SONGS} are needed"):
        import_songs([fixture("wayfaring.cho"), fixture("little_blue.musicxml")])
    with pytest.raises(InputError, match="at most 50 per import"):
        import_songs([(f"f{i}.txt", b"C G\n") for i in range(51)])
    with pytest.raises(InputError, match="unknown genre 'metal'"):
        import_songs([fixture("charts.txt")], genre="metal")
    with pytest.raises(InputError, match="no progressions read: a.txt:1: unknown chord symbol 'xyz'"):
        import_songs([("a.txt", b"xyz\n")])
    with pytest.raises(InputError, match="charts.txt given twice"):
        import_songs([fixture("charts.txt"), fixture("charts.txt")])
    with pytest.raises(InputError):
        split_songs([])


def test_write_import_puts_a_loadable_table_under_output_and_a_fine_tune_config(output: Path) -> None:
    result = import_songs([fixture(name) for name in GOOD])
    table = write_import(result, "mine")
    assert table == output / "imports" / "mine" / "progressions.csv.gz"
    assert len(load_table(table)) == len(result.table)
    report = json.loads((table.parent / "import.json").read_text())
    assert report["name"] == "mine" and report["songs"]["test"] == 1
    with pytest.raises(InputError, match="already exists"):
        write_import(result, "mine")
    config = fine_tune_config(table, run_name="mine-tuned")
    assert config.init_from == str(paths.DEFAULT_MODEL_DIR) and config.corpus_table == str(table)
    assert config.lr == user_import.FINE_TUNE_RECIPE["lr"]


def test_data_import_command_prints_what_was_read_and_refuses_bad_files(output: Path, capsys) -> None:
    files = [str(FIXTURES / name) for name in GOOD]
    assert main(["data", "import", *files, "--name", "cli", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["table"] == str(output / "imports" / "cli" / "progressions.csv.gz")
    assert main(["data", "import", *files, "--name", "cli2"]) == 0
    text = capsys.readouterr().out
    assert "charts.txt (text): 4 songs, 24 chords, 2 slash basses dropped" in text
    assert "not read: " in text and "python -m core train --init-from models/default --table" in text
    for bad in ("junk.txt", "latin1.txt", "empty.txt", "missing.txt"):
        assert main(["data", "import", str(FIXTURES / bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert not (output / "imports" / "junk").exists()
