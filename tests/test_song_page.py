"""The Generate page's Song mode under AppTest (tiny model): write a song, edit a chord, redraw a section, share it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_pages_dataset_training import page, studio  # noqa: F401 - the shared fixture

from core.training import active_model
from studio.song_url import read_song_text, song_text
from tests.tiny_models import saved_tiny_model

GENERATE = "pages/4_generate.py"


@pytest.fixture
def model(studio: Path) -> Path:  # noqa: F811 - pytest fixture injection
    folder = saved_tiny_model(studio / "runs" / "tiny", end_bias=-3.0)
    active_model.set_active("tiny")
    return folder


def _opened(**query: str):
    at = page(GENERATE)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run(timeout=60)


def _song(at):
    text = at.query_params.get("song")
    text = text[0] if isinstance(text, list) else text
    return read_song_text(text) if text else None


def test_song_mode_writes_a_song_in_the_form_and_puts_it_in_the_address(model: Path) -> None:
    at = _opened(view="song", genre="pop", key="G")
    assert not at.exception, at.exception
    assert _song(at) is None and any("Write the song" in i.value for i in at.info)
    at.selectbox(key="song-preset").select("jazz-aaba").run(timeout=60)
    assert at.text_input(key="song-form").value == "A A' B A"
    at.text_input(key="song-bars").set_value("4,4,4,4").run(timeout=60)
    at.button(key="song-write").click().run(timeout=60)
    assert not at.exception, at.exception
    song = _song(at)
    assert song is not None and [s.name for s in song.sections] == ["A", "A", "B", "A"]
    assert song.key == (7, "major") and song.genre == "pop" and song.sections[0] == song.sections[3]
    assert all(sum(s.durations) == 16 for s in song.sections)
    assert not at.error, [e.value for e in at.error]
    assert at.button(key="song-chord-2-0").label == song.symbols(2)[0]


def test_chord_edits_and_a_redrawn_section_follow_into_the_link(model: Path) -> None:
    at = _opened(view="song", genre="rock", key="C")
    at.text_input(key="song-form").set_value("Verse Chorus Verse").run(timeout=60)
    at.text_input(key="song-bars").set_value("2,2,2").run(timeout=60)
    at.button(key="song-write").click().run(timeout=60)
    song = _song(at)
    at.button(key="song-chord-0-0").click().run(timeout=60)  # opens its panel and plays it
    assert not at.exception, at.exception
    at.button(key="song-lock-0-0").click().run(timeout=60)
    locked = _song(at)
    assert locked.sections[0].locked == (0,) and locked.sections[2].locked == (0,)
    before = locked.sections[0].durations
    at.button(key="song-shorten-0-0").click().run(timeout=60)
    shorter = _song(at)
    if before[0] > 1:
        assert shorter.sections[0].durations[0] == before[0] - 1 and shorter.sections[2] == shorter.sections[0]
    else:
        assert shorter == locked and any("one beat long" in e.value for e in at.error)
    at.button(key="song-regen-0").click().run(timeout=60)
    redrawn = _song(at)
    assert redrawn.sections[0].chords[0] == song.sections[0].chords[0]  # the lock held
    assert redrawn.sections[1] == song.sections[1]
    at.button(key="song-undo").click().run(timeout=60)
    assert _song(at) == shorter


def test_a_shared_song_link_shows_the_same_song_and_a_bad_one_says_why(model: Path) -> None:
    at = _opened(view="song", genre="pop", key="G")
    at.button(key="song-write").click().run(timeout=60)
    song = _song(at)
    fresh = _opened(view="song", song=song_text(song))
    assert not fresh.exception, fresh.exception
    assert _song(fresh) == song
    labels = [fresh.button(key=f"song-chord-1-{p}").label for p in range(len(song.sections[1].chords))]
    assert labels == song.symbols(1)
    broken = _opened(view="song", song="1~4/4~100~~pop~~~Verse:8:C.4 G.3")
    assert not broken.exception, broken.exception
    assert any("song=" in w.value and "add up to 7 beats" in w.value for w in broken.warning)
    assert _song(broken) is None


def test_an_alternative_from_the_chord_panel_replaces_the_chord_everywhere_it_returns(model: Path) -> None:
    at = _opened(view="song", genre="pop", key="C")
    at.text_input(key="song-form").set_value("Verse Chorus Verse").run(timeout=60)
    at.text_input(key="song-bars").set_value("2,2,2").run(timeout=60)
    at.button(key="song-write").click().run(timeout=60)
    at.button(key="song-chord-0-0").click().run(timeout=60)
    song = _song(at)
    choice = next(b for b in at.button if b.key and b.key.startswith("song-alt-0-0-")
                  and b.label.split(" · ")[0] != song.symbols(0)[0])
    choice.click().run(timeout=60)
    assert not at.exception, at.exception
    changed = _song(at)
    assert changed.symbols(0)[0] == choice.label.split(" · ")[0] and changed.sections[2] == changed.sections[0]
    assert changed.sections[0].durations == song.sections[0].durations


def test_a_chords_bass_and_a_starred_section(model: Path) -> None:
    at = _opened(view="song", genre="pop", key="C")
    at.text_input(key="song-form").set_value("Verse Chorus").run(timeout=60)
    at.text_input(key="song-bars").set_value("2,2").run(timeout=60)
    at.button(key="song-write").click().run(timeout=60)
    at.button(key="song-chord-1-0").click().run(timeout=60)
    at.button(key="song-bass-1-0-1").click().run(timeout=60)
    assert not at.exception, at.exception
    song = _song(at)
    assert song.sections[1].chords[0].inversion == 1
    at.button(key="song-star-1").click().run(timeout=60)
    favourites = at.query_params.get("fav")
    favourites = favourites[0] if isinstance(favourites, list) else favourites
    assert favourites and "/" in favourites.split(";")[0]  # the inverted chord is kept in the favourite
    assert at.button(key="song-star-1").label == "Starred"


def test_vary_makes_a_returning_section_its_own(model: Path) -> None:
    at = _opened(view="song", genre="pop", key="C")
    at.text_input(key="song-form").set_value("Chorus Verse Chorus").run(timeout=60)
    at.text_input(key="song-bars").set_value("4,2,4").run(timeout=60)
    at.button(key="song-write").click().run(timeout=60)
    assert "song-vary-0" not in [b.key for b in at.button]  # the first time is no return
    at.button(key="song-vary-2").click().run(timeout=60)
    assert not at.exception, at.exception
    song = _song(at)
    assert song.sections[2].variation and not song.sections[0].variation
    assert song.sections[2].durations == song.sections[0].durations
