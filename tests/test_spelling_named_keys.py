"""Spelling by the named key's scale degrees in every key (issue 23, item 5): symbols, numerals, notation, CLI, API.

In F# major the VI chord is D#maj7 (not Ebmaj7) beside its numeral VImaj7; a key named Gb is spelled
in flats and one named F# in sharps, though both are the same pitch class to the model. Checked over
all 24 keys and the enharmonic pairs Gb/F#, Db/C#, Cb/B, Ebm/D#m, Abm/G#m, Bbm/A#m, through the
conditions the CLI and the API parse, generation, MusicXML and MIDI.
"""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from core.chords import QUALITY_NAMES, Chord
from core.cli import main
from core.conditions import Conditions
from core.notation.musicxml import to_musicxml
from core.notation.score import build_score
from core.numerals import scale_degree
from core.spelling import KEY_TONICS, Spelling
from tests.tiny_models import saved_tiny_model

TWENTY_FOUR = [f"{KEY_TONICS[mode][tonic]} {mode}" for mode in ("major", "minor") for tonic in range(12)]
#: (named key, its enharmonic twin, key signature of the first, of the second)
PAIRS = [("Gb major", "F# major", -6, 6), ("Db major", "C# major", -5, 7), ("Cb major", "B major", -7, 5),
         ("Eb minor", "D# minor", -6, 6), ("Ab minor", "G# minor", -7, 5), ("Bb minor", "A# minor", -5, 7)]
NAMED = sorted({*TWENTY_FOUR, *(key for pair in PAIRS for key in pair[:2])})


@pytest.mark.parametrize("name", NAMED)
def test_every_root_is_named_by_its_scale_degree_in_the_named_key(name: str) -> None:
    spelling = Spelling.from_name(name)
    assert spelling.name == name
    for root in range(12):
        degree, _ = scale_degree(root - spelling.tonic, spelling.mode)
        for quality in QUALITY_NAMES:
            spelled = spelling.root(Chord(root, quality))
            assert spelled.pitch_class == root and abs(spelled.alter) <= 1
            if abs((root - spelling.scale[degree].pitch_class + 6) % 12 - 6 + spelling.scale[degree].alter) <= 1:
                assert spelled.letter == spelling.scale[degree].letter, (name, root, quality, spelled)


@pytest.mark.parametrize(("named", "twin", "fifths", "twin_fifths"), PAIRS)
def test_enharmonic_keys_are_spelled_apart(named: str, twin: str, fifths: int, twin_fifths: int) -> None:
    first, second = Spelling.from_name(named), Spelling.from_name(twin)
    assert first.key == second.key and (first.fifths, second.fifths) == (fifths, twin_fifths)
    diatonic = [Chord((first.tonic + step) % 12, "maj") for step in (0, 2, 4, 5, 7, 9, 11)]
    assert not any("#" in s for s in first.symbols(diatonic)) if fifths < 0 else True
    assert not any("b" in s[1:2] for s in second.symbols(diatonic)) if twin_fifths > 0 else True
    assert Conditions.parse(key=named).key == named and Conditions.parse(key=twin).key == twin
    assert Conditions.parse(key=named).ids() == Conditions.parse(key=twin).ids()  # one key to the model


def test_f_sharp_major_spells_its_chromatic_chords_by_their_numerals() -> None:
    f_sharp = Spelling.from_name("F# major")
    shown = {f_sharp.symbol(Chord(3, "maj7")): f_sharp.roman(Chord(3, "maj7")),
             f_sharp.symbol(Chord(3, "dim7")): f_sharp.roman(Chord(3, "dim7")),
             f_sharp.symbol(Chord(8, "maj7")): f_sharp.roman(Chord(8, "maj7")),
             f_sharp.symbol(Chord(0, "7")): f_sharp.roman(Chord(0, "7"))}
    assert shown == {"D#maj7": "VImaj7", "D#dim7": "vio7", "G#maj7": "IImaj7", "B#7": "#IV7"}
    assert Spelling.from_name("B major").symbol(Chord(3, "maj7")) == "D#maj7"
    assert Spelling.from_name("Gb major").symbol(Chord(3, "maj7")) == "Ebmaj7"


@pytest.mark.parametrize(("key", "accidental", "fifths"), [("F#", "-1", 6), ("Gb", "1", -6), ("D#m", "-1", 6)])
def test_the_notation_writes_the_named_keys_side_under_its_signature(key: str, accidental: str, fifths: int) -> None:
    spelling = Spelling.from_name(Conditions.parse(key=key).key)
    chords = [Chord((spelling.tonic + step) % 12, q) for step, q in ((0, "maj7"), (9, "maj7"), (2, "maj7"), (7, "7"))]
    xml = to_musicxml(build_score(chords, key=spelling.named_key)).decode()
    assert f"<fifths>{fifths}</fifths>" in xml
    assert f"<alter>{accidental}</alter>" not in xml  # no flat in a sharp key, no sharp in a flat one


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(saved_tiny_model(tmp_path_factory.mktemp("named-keys")))


@pytest.mark.parametrize(("key", "shown_key", "foreign"), [
    ("Gb", "Gb major", "#"), ("C#", "C# major", "b"), ("D#m", "D# minor", "b"), ("Abm", "Ab minor", "#"),
])
def test_the_cli_keeps_the_key_it_was_given(model_dir: str, capsys: pytest.CaptureFixture, key: str, shown_key: str,
                                            foreign: str) -> None:
    code = main(["generate", "--model", model_dir, "--key", key, "--in-key", "--length", "8", "--num-samples", "3",
                 "--random-seed", "4", "--format", "json"])
    assert code == 0
    for sample in json.loads(capsys.readouterr().out):
        assert sample["roman_key"] == shown_key and sample["conditions"]["key"] == shown_key
        roots = [re.match(r"[A-G][#b]?", symbol).group(0) for symbol in sample["chords"]]
        assert not any(foreign in root for root in roots), (key, sample["chords"])


def test_the_api_keeps_the_key_it_was_given(model_dir: str) -> None:
    from core.serving.api import create_app

    with TestClient(create_app(model_dir)) as client:
        response = client.post("/generate", json={"key": "Gb", "in_key": True, "length": 6, "num_samples": 2,
                                                  "random_seed": 1})
    assert response.status_code == 200, response.text
    for sample in response.json()["samples"]:
        assert sample["roman_key"] == "Gb major" and not any("#" in chord for chord in sample["chords"])
