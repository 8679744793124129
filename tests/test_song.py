"""Song mode's core: form reading and its refusals, presets, durations, chord edits, JSON, charts, generation."""

from __future__ import annotations

import numpy as np
import pytest

from core.chords import SlashChord, parse_symbol
from core.conditions import Conditions
from core.config import MAX_SECTION_BARS, MAX_SECTION_CHORDS, MAX_SONG_BARS, MAX_SONG_SECTIONS, GenerationSettings, SongSettings
from core.errors import InputError
from core.generation.loading import load_generator
from core.generation.song import generate_song, regenerate_section
from core.generation.song_rhythm import genre_rhythm, propose_durations, rhythm_table
from core.song.chart import to_chordpro, to_text
from core.song.form import PRESETS, TimeSignature, form_text, read_form
from core.song.model import Section, Song, lengthen, merge, same_section, shorten, song_from_dict, split, toggle_lock
from tests.tiny_models import saved_tiny_model

FOUR = TimeSignature(4, 4)


def _chords(text: str) -> tuple[SlashChord, ...]:
    return tuple(SlashChord(parse_symbol(s)) for s in text.split())


def _song() -> Song:
    verse = Section("Verse", "verse", 2, _chords("C Am F G"), (2, 2, 2, 2))
    chorus = Section("Chorus", "chorus", 2, _chords("F G C"), (4, 2, 2))
    return Song((verse, chorus, verse, chorus), FOUR, 100, (0, "major"), "pop", seed=5)


# --------------------------------------------------------------------------- the form


def test_form_reads_names_labels_bars_and_variations() -> None:
    form = read_form(SongSettings(form="Intro verse, Pre-Chorus Refrain Solo A' b", bars="2 4 4 8 8 8 8",
                                  time_signature="6/8", tempo=90))
    assert [(s.name, s.label, s.bars, s.variation) for s in form.sections] == [
        ("Intro", "intro", 2, False), ("Verse", "verse", 4, False), ("Pre-Chorus", "pre-chorus", 4, False),
        ("Refrain", "chorus", 8, False), ("Solo", "instrumental", 8, False), ("A", "A", 8, True), ("B", "B", 8, False)]
    assert form.time == TimeSignature(6, 8) and form.time.quarters_per_beat == 0.5 and form.tempo == 90
    assert read_form(SongSettings(form=form_text(form.sections), bars="2,4,4,8,8,8,8",
                                  time_signature="6/8", tempo=90)) == form


def test_usual_bars_when_none_are_given() -> None:
    form = read_form(SongSettings(form="Intro Verse Chorus Outro"))
    assert [s.bars for s in form.sections] == [4, 8, 8, 4]


@pytest.mark.parametrize(("form", "bars", "message"), [
    ("Intro Versee Chorus", None, "unknown section name 'Versee'"),
    ("", None, "the form is empty"),
    (" ".join(["Verse"] * (MAX_SONG_SECTIONS + 1)), None, f"at most {MAX_SONG_SECTIONS}"),
    ("Verse Chorus", "8", "1 value(s) given for 2 section(s)"),
    ("Verse Chorus", "8,0", "'0' is not a whole number from 1"),
    ("Verse Chorus", f"8,{MAX_SECTION_BARS + 1}", f"from 1 to {MAX_SECTION_BARS}"),
    ("Verse Chorus", "8,x", "'x' is not a whole number"),
    (" ".join(["Verse"] * 9), ",".join([str(MAX_SECTION_BARS)] * 9), f"at most {MAX_SONG_BARS} fit"),
    ("Verse 2", None, "unknown section name '2'"),
])
def test_form_refusals_say_what_is_wrong(form: str, bars: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_form(SongSettings(form=form, bars=bars))


def test_time_signature_outside_the_list_is_refused() -> None:
    with pytest.raises(InputError, match="unknown time signature '7/8'"):
        SongSettings(time_signature="7/8")


def test_every_preset_reads() -> None:
    for name, preset in PRESETS.items():
        form = read_form(preset.settings())
        assert form.sections and form.total_bars <= MAX_SONG_BARS, name
    assert [s.bars for s in read_form(PRESETS["blues"].settings()).sections if s.label == "verse"] == [12, 12, 12]


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize("time", [TimeSignature(4, 4), TimeSignature(3, 4), TimeSignature(6, 8), TimeSignature(5, 4)])
def test_proposed_durations_fill_every_bar_without_crossing_bar_lines(time: TimeSignature) -> None:
    rhythm = {0.25: 0.2, 0.5: 0.3, 1.0: 0.3, 2.0: 0.2}
    for seed in range(20):
        durations = propose_durations(8, time, rhythm, np.random.default_rng(seed))
        assert sum(durations) == 8 * time.beats and min(durations) >= 1
        beat = 0
        for duration in durations:
            if beat % time.beats:  # starts inside a bar: ends by its bar line
                assert beat % time.beats + duration <= time.beats
            else:
                assert duration <= time.beats or duration % time.beats == 0
            beat += duration


def test_proposed_durations_follow_the_rhythm_and_the_chord_limit() -> None:
    rng = np.random.default_rng(0)
    halves = propose_durations(8, FOUR, {0.5: 1.0}, rng)
    assert halves == (2,) * 16
    assert len(propose_durations(MAX_SECTION_BARS, FOUR, {0.25: 1.0}, rng)) <= MAX_SECTION_CHORDS


def test_rhythm_table_counts_bar_fractions_per_genre() -> None:
    import pandas as pd

    frame = pd.DataFrame({"genre": ["jazz", "jazz", "jazz", "rock", "rock"], "beats": [2.0, 4.0, None, 8.0, 3.0],
                          "metre": [4, 4, 4, 4, 3]})
    table = rhythm_table(frame)
    assert table["jazz"]["0.5"] == 1 and table["jazz"]["1.0"] == 1 and sum(table["jazz"].values()) == 2
    assert table["rock"]["2.0"] == 1 and table["rock"]["1.0"] == 1 and sum(table["all"].values()) == 4
    assert genre_rhythm("jazz", table) == genre_rhythm("all", table)  # too few chords: every genre's together
    assert genre_rhythm("pop", {}) == {1.0: 1.0}


# --------------------------------------------------------------------------- the song and its edits


def test_edits_keep_bars_full_and_change_every_time_the_section_is_played() -> None:
    song = _song()
    longer = lengthen(song, 1, 1)
    assert longer.sections[1].durations == (4, 3, 1) and longer.sections[3].durations == (4, 3, 1)
    assert shorten(song, 0, 3).sections[0].durations == (2, 2, 3, 1)  # the last chord gives to the one before
    parted = split(song, 1, 0)
    assert parted.sections[1].durations == (2, 2, 2, 2) and len(parted.sections[3].chords) == 4
    joined = merge(toggle_lock(song, 0, 3), 0, 2)
    assert joined.sections[0].durations == (2, 2, 4) and joined.sections[0].locked == ()
    assert toggle_lock(split(toggle_lock(song, 0, 3), 0, 0), 0, 4).sections[2].locked == ()
    for edited in (longer, parted, joined):
        edited.check()
        assert edited.sections[0] == edited.sections[2] and edited.sections[1] == edited.sections[3]


@pytest.mark.parametrize(("edit", "position", "message"), [
    (shorten, 1, "one beat long"), (split, 1, "cannot be split"), (merge, 1, "no next chord"),
    (lengthen, 0, "one beat left"), (lengthen, 2, "chord 3 is outside Verse"),
])
def test_edits_refuse_what_cannot_be_done(edit, position: int, message: str) -> None:
    song = Song((Section("Verse", "verse", 1, _chords("C G"), (3, 1)),), FOUR, 100)
    with pytest.raises(InputError, match=message):
        edit(song, 0, position)


def test_json_round_trip_and_bad_songs() -> None:
    song = toggle_lock(_song(), 1, 2)
    assert song_from_dict(song.to_dict()) == song
    payload = song.to_dict()
    assert payload["sections"][1] == {"name": "Chorus", "label": "chorus", "bars": 2, "variation": False,
                                      "chords": ["F", "G", "C"], "durations": [4, 2, 2], "locked": [3]}
    payload["sections"][0]["durations"] = [2, 2, 2, 1]
    with pytest.raises(InputError, match="add up to 7 beats"):
        song_from_dict(payload)
    with pytest.raises(InputError, match="not a song"):
        song_from_dict({"sections": []})


def test_charts_write_sections_bars_and_beats() -> None:
    song = _song()
    chordpro = to_chordpro(song)
    assert chordpro.count("{start_of_chorus: label=\"Chorus\"}") == 2 and chordpro.count("{end_of_verse}") == 2
    assert "| [F] / / / | [G] / [C] / |" in chordpro and "{key: C}" in chordpro and "{time: 4/4}" in chordpro
    text = to_text(song)
    assert "Verse (2 bars)\n| C / Am / | F / G / |" in text


# --------------------------------------------------------------------------- generation


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return load_generator(saved_tiny_model(tmp_path_factory.mktemp("tiny-song")))


def test_generated_song_fills_its_form_and_repeats_returning_sections(generator) -> None:
    song_settings = SongSettings(form="Intro Verse Chorus Verse Chorus' Outro", bars="4,8,8,8,8,2")
    conditions = Conditions.parse(genre="pop", key="G")
    song = generate_song(generator, song_settings, conditions, GenerationSettings(random_seed=11))
    song.check()
    assert [s.name for s in song.sections] == ["Intro", "Verse", "Chorus", "Verse", "Chorus", "Outro"]
    assert same_section(song, 1) == [1, 3] and song.sections[1] == song.sections[3]
    variation, chorus = song.sections[4], song.sections[2]
    assert variation.variation and variation.durations == chorus.durations
    kept = [p for p, onset in enumerate(chorus.onsets) if onset < sum(chorus.durations) / 2]
    assert [variation.chords[p] for p in kept] == [chorus.chords[p] for p in kept]
    assert song.key == (7, "major") and song.seed == 11 and song.genre == "pop"
    again = generate_song(generator, song_settings, conditions, GenerationSettings(random_seed=11))
    assert again == song
    other = generate_song(generator, song_settings, conditions, GenerationSettings(random_seed=12))
    assert other != song


def test_regenerated_section_keeps_locks_durations_and_its_repeats(generator) -> None:
    song = generate_song(generator, SongSettings(form="Verse Chorus Verse Chorus", bars="4,4,4,4"),
                         Conditions.parse(genre="rock"), GenerationSettings(random_seed=3))
    locked = toggle_lock(song, 1, 0)
    redrawn = regenerate_section(generator, locked, 1, draw=1)
    assert redrawn.sections[1].chords[0] == song.sections[1].chords[0]
    assert redrawn.sections[1].durations == song.sections[1].durations
    assert redrawn.sections[3] == redrawn.sections[1] and redrawn.sections[0] == song.sections[0]
    draws = {regenerate_section(generator, locked, 1, draw=d).sections[1].chords for d in range(1, 5)}
    assert len(draws) > 1  # a new draw each time
    assert regenerate_section(generator, locked, 1, draw=2) == regenerate_section(generator, locked, 1, draw=2)
    with pytest.raises(InputError, match="section 5 is outside"):
        regenerate_section(generator, song, 4)


def test_the_shipped_harmonic_rhythm_reads_for_every_genre() -> None:
    from core.conditions import GENRES
    from core.generation.song_rhythm import corpus_rhythm

    source, table = corpus_rhythm()
    assert "harmonic_rhythm.json" in source
    for genre in GENRES:
        rhythm = genre_rhythm(genre, table)
        assert sum(rhythm.values()) == pytest.approx(1.0) and len(rhythm) > 1, genre


def test_section_alternatives_rank_chords_given_both_neighbours(generator) -> None:
    from core.generation.song import section_alternatives

    song = generate_song(generator, SongSettings(form="Verse Chorus", bars="2,2"), Conditions.parse(genre="pop"),
                         GenerationSettings(random_seed=5))
    ranked = section_alternatives(generator, song, 1, 0, k=4)
    probabilities = [p for _, p in ranked]
    assert len(ranked) == 4 and probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0
    with pytest.raises(InputError, match="not in the song"):
        section_alternatives(generator, song, 1, 99)


def test_a_returning_section_made_a_variation_keeps_its_first_half_and_leaves_the_others(generator) -> None:
    from core.generation.song import vary_section

    song = generate_song(generator, SongSettings(form="Chorus Verse Chorus Chorus", bars="4,2,4,4"),
                         Conditions.parse(genre="pop", key="C"), GenerationSettings(random_seed=8))
    varied = vary_section(generator, song, 2, draw=3)
    section, first = varied.sections[2], varied.sections[0]
    assert section.variation and section.durations == first.durations and section.locked == ()
    kept = [p for p, onset in enumerate(first.onsets) if onset < sum(first.durations) / 2]
    assert [section.chords[p] for p in kept] == [first.chords[p] for p in kept]
    assert varied.sections[0] == varied.sections[3] == song.sections[0] and same_section(varied, 2) == [2]
    assert "Chorus'" in varied.form


def test_the_harmonic_rhythm_snapshot_is_the_song_tables_count() -> None:
    import json
    from pathlib import Path

    from core.corpus.songs import load_songs
    from core.generation.song_rhythm import SNAPSHOT_FILE, SONGS_FILE

    data = Path(__file__).resolve().parent.parent / "data"
    snapshot = json.loads((data / SNAPSHOT_FILE).read_text(encoding="utf-8"))["chords"]
    assert snapshot == rhythm_table(load_songs(data / SONGS_FILE)), (
        "data/harmonic_rhythm.json is stale: rewrite it with core.generation.song_rhythm.write_snapshot")
