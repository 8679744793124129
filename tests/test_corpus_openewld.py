"""OpenEWLD lead sheets (issue 20): chords and beats from MusicXML, metre and key checked, Discogs genre rule."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from core.corpus import openewld
from core.corpus.rows import BuildReport
from core.errors import InputError

FIXTURE = Path(__file__).parent / "fixtures" / "openewld"


def test_sheets_give_songs_with_chords_on_their_beats() -> None:
    report = BuildReport()
    songs = openewld.parse(FIXTURE, report)
    assert [song.title for song in songs] == ["Le temps des cerises", "Happy Birthday to You"]
    cerises = songs[0]
    assert cerises.artist == "Antoine Renard" and cerises.genre == "rock"  # Discogs "Rock:1"
    segment = cerises.segments[0]
    assert segment.metre == 3 and (segment.key_tonic, segment.scale_type) == (7, "major")  # G major, 3/4
    assert [chord.symbol for chord in segment.chords[:4]] == ["G", "D", "G", "G7"]
    assert segment.beats[:4] == [6.0, 6.0, 3.0, 3.0]  # two bars, two bars, one, one
    assert sum(segment.beats) % 3 == 0
    assert report.chords_read["openewld"] == sum(len(song.segments[0].chords) for song in songs)
    assert not report.skipped["openewld"]


def _harmony(xml: str) -> ElementTree.Element:
    return ElementTree.fromstring(f"<harmony>{xml}</harmony>")


def test_harmony_kinds_and_degrees_map_to_the_vocabulary() -> None:
    chord, label, mapped = openewld.harmony_chord(_harmony(
        "<root><root-step>B</root-step><root-alter>-1</root-alter></root><kind>minor-seventh</kind>"))
    assert (chord.symbol, label, mapped) == ("Bbm7", "Bb:minor-seventh", False)
    chord, label, mapped = openewld.harmony_chord(_harmony(
        "<root><root-step>C</root-step></root><kind>dominant</kind>"
        "<degree><degree-value>9</degree-value><degree-alter>-1</degree-alter><degree-type>add</degree-type></degree>"))
    assert chord.symbol == "C7" and mapped and "(add9-)" in label
    assert openewld.harmony_chord(_harmony("<kind>none</kind>"))[0] is None
    with pytest.raises(Exception, match="unknown chord kind"):
        openewld.harmony_chord(_harmony("<root><root-step>C</root-step></root><kind>wobbly</kind>"))


def test_discogs_genre_takes_the_most_votes_and_maps_it() -> None:
    assert openewld.discogs_genre("Jazz:3, Pop:5", "") == "pop"
    assert openewld.discogs_genre("Folk, World, & Country:5", "Country:2, Folk:1") == "country"
    assert openewld.discogs_genre("Folk, World, & Country:5", "Folk:3") == "folk"
    assert openewld.discogs_genre("Reggae:4", "Roots Reggae:4") == ""
    assert openewld.discogs_genre("", "") == ""


def test_a_wrong_written_metre_is_corrected_from_the_bars_and_noted() -> None:
    reading = openewld._SheetReading()
    reading.time_signature, reading.bar_lengths = (4, 4), [1.0, 3.0, 3.0, 3.0, 2.0]
    report = BuildReport()
    assert openewld.checked_metre(reading, "x.mxl", report) == (3, 4)
    assert report.notes["openewld"] == ["x.mxl: metre 4/4 written, bars hold 3/4"]
    reading.bar_lengths = [4.0, 4.0, 4.0]
    assert openewld.checked_metre(reading, "y.mxl", BuildReport()) == (4, 4)


def test_damaged_sheet_reported_with_its_file_and_missing_index_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "openewld"
    shutil.copytree(FIXTURE, folder)
    damaged = folder / "dataset" / "Antoine_Renard" / "Le_temps_des_cerises" / "Le_temps_des_cerises.mxl"
    damaged.write_bytes(b"not a zip")
    report = BuildReport()
    songs = openewld.parse(folder, report)
    assert [song.title for song in songs] == ["Happy Birthday to You"]
    assert any(line.startswith("dataset/Antoine_Renard/Le_temps_des_cerises/") and "cannot be read" in line
               for line in report.skipped["openewld"])
    (folder / openewld.INDEX_FILE).unlink()
    with pytest.raises(InputError, match="genres_styles.csv cannot be read"):
        openewld.parse(folder, BuildReport())
