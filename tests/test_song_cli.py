"""``python -m core song``, called in-process through core.cli.main: JSON, charts, presets, refusals, export."""

from __future__ import annotations

import json

import pytest

from core.cli import main
from core.config import MAX_SONG_SECTIONS
from tests.tiny_models import saved_tiny_model

FORM = "Intro Verse Chorus Verse Chorus Bridge Chorus Outro"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return str(saved_tiny_model(tmp_path_factory.mktemp("song-cli")))


def _error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    return captured.err.strip()


def test_song_json_has_sections_labels_chords_and_durations(model_dir, capsys) -> None:
    code = main(["song", "--model", model_dir, "--form", FORM, "--genre", "pop", "--key", "G",
                 "--bars", "4,8,8,8,8,8,8,4", "--time", "3/4", "--random-seed", "7", "--format", "json"])
    assert code == 0
    song = json.loads(capsys.readouterr().out)
    assert song["key"] == "G major" and song["time_signature"] == "3/4" and song["tempo"] == 100
    assert [s["label"] for s in song["sections"]] == ["intro", "verse", "chorus", "verse", "chorus", "bridge",
                                                      "chorus", "outro"]
    for section in song["sections"]:
        assert len(section["chords"]) == len(section["durations"])
        assert sum(section["durations"]) == 3 * section["bars"]
    assert song["sections"][2]["chords"] == song["sections"][4]["chords"] == song["sections"][6]["chords"]
    assert main(["song", "--model", model_dir, "--form", FORM, "--genre", "pop", "--key", "G",
                 "--bars", "4,8,8,8,8,8,8,4", "--time", "3/4", "--random-seed", "7", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == song  # the same seed, the same song


def test_song_preset_and_chart_formats(model_dir, capsys) -> None:
    assert main(["song", "--model", model_dir, "--preset", "jazz-aaba", "--random-seed", "1", "--format", "chordpro"]) == 0
    chart = capsys.readouterr().out
    assert chart.count('{start_of_part: label="A"}') == 3 and "{time: 4/4}" in chart and "{meta: genre jazz}" in chart
    assert main(["song", "--model", model_dir, "--preset", "blues", "--tempo", "80", "--random-seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "80 bpm" in text and text.count("Verse (12 bars)") == 3


@pytest.mark.parametrize(("args", "message"), [
    (["--form", "Intro Versus Outro"], "unknown section name 'Versus'"),
    (["--form", " ".join(["Verse"] * (MAX_SONG_SECTIONS + 1))], f"at most {MAX_SONG_SECTIONS}"),
    (["--form", "Verse Chorus", "--bars", "8,8,8"], "3 value(s) given for 2 section(s)"),
    (["--form", "Verse Chorus", "--bars", "8,99"], "bars: '99'"),
    (["--time", "7/8"], "unknown time signature '7/8'"),
    (["--tempo", "500"], "tempo must be a whole number from 40 to 240"),
    (["--genre", "polka"], "unknown genre 'polka'"),
    (["--in-key"], "--in-key needs a key"),
    (["--length", "4"], "unrecognized arguments"),
])
def test_song_refusals_are_one_error_line_and_status_2(model_dir, capsys, args: list[str], message: str) -> None:
    assert main(["song", "--model", model_dir, *args]) == 2
    line = _error_line(capsys)
    assert line.startswith("error:") and message in line, line
