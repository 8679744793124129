"""The Dataset page's Songs tab (issue 20) under AppTest: figures, a song's strip, a section's notation and audio."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_corpus import write_sample_table
from streamlit.testing.v1 import AppTest

from core import paths
from core.chords import Chord
from core.corpus.build import song_group
from core.corpus.rows import Segment, Song
from core.corpus.songs import SONGS_FILE, songs_frame, write_songs
from tests.private_output import private_output

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
C, G, AM, F = Chord(0, "maj"), Chord(7, "maj"), Chord(9, "min"), Chord(5, "maj")


def _songs() -> list[Song]:
    verse = Segment([C, G, AM, F], 0, "major", "verse", metre=4, beats=[4.0, 4.0, 2.0, 2.0])
    chorus = Segment([F, G, C], 0, "major", "chorus", metre=4, beats=[2.0, 2.0, 4.0])
    plain = Segment([AM, F, C, G], 9, "minor", "")
    return [Song("billboard", "billboard:0001", "Strip Song", "Tester", genre="pop", segments=[verse, chorus, verse]),
            Song("free-midi-chords", "free-midi-chords:1", "Loop", segments=[plain])]


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = private_output(tmp_path, monkeypatch)
    table = write_sample_table(tmp_path / "data" / "progressions.csv.gz")
    monkeypatch.setattr(paths, "CORPUS_TABLE", table)
    frame = songs_frame(_songs(), song_group)
    frame["split"] = "train"
    write_songs(frame, table.parent / SONGS_FILE)
    return out


def _dataset_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/1_dataset.py")
    return at.run()


def test_songs_tab_shows_section_figures_a_strip_and_a_section(studio: Path) -> None:
    at = _dataset_page()
    assert not at.exception, at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Songs with sections"] == "1" and metrics["Chords with a duration"] == "73.3%"  # 11 of 15 timed
    assert at.selectbox(key="section").options == ["1. verse", "2. chorus", "3. verse"]
    at.selectbox(key="section").set_value(1).run()
    assert not at.exception, at.exception
    images = len(at.get("image"))
    assert len(at.get("audio")) >= 2 and images >= 2  # the browse tab's progression and the picked section
    at.selectbox(key="song").set_value(0).run()
    at.text_input(key="song-query").set_value("loop").run()
    assert at.selectbox(key="section").options == ["1. other"]
    assert not at.exception, at.exception


def test_songs_tab_says_how_to_build_a_missing_song_table(studio: Path) -> None:
    (paths.CORPUS_TABLE.parent / SONGS_FILE).unlink()
    at = _dataset_page()
    assert not at.exception, at.exception
    assert any("song table" in info.value and "data build" in info.value for info in at.info)
