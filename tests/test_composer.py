"""The composer ("what comes next?", "what fits here?"): the core ranking, and the CLI and the API giving the same one."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "use httpx2" (httpx works)
    from fastapi.testclient import TestClient

from core.chords import parse_symbol
from core.cli import main
from core.conditions import Conditions
from core.errors import InputError
from core.generation.alternatives import position_distribution
from core.generation.composer import next_chords
from core.generation.loading import load_generator
from core.generation.sampling import condition_rows
from core.numerals import in_scale
from core.serving.api import create_app
from core.vocabulary import END_ID, VOCAB
from tests.tiny_models import saved_tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return saved_tiny_model(tmp_path_factory.mktemp("composer"), seed=2, scale=1.0)


@pytest.fixture(scope="module")
def generator(model_dir):
    return load_generator(model_dir)


def _ids(ranking) -> list[int]:
    return [VOCAB.id_of(r.chord) for r in ranking.chords]


def test_next_is_the_models_next_chord_distribution_without_repeats(generator) -> None:
    conditions = Conditions.parse(genre="rock", key="G")
    ranking = next_chords(generator, "G D Em", conditions, top=192)
    state = generator.decoder.initial(condition_rows(conditions, 1))
    for symbol in ("G", "D", "Em"):
        state = generator.decoder.advance(state, np.array([VOCAB.id_of(parse_symbol(symbol))]))
    expected = np.exp(state.log_probs[0])
    expected[[0, 1, END_ID, VOCAB.id_of(parse_symbol("Em"))]] = 0.0  # specials, END, the chord before
    expected /= expected.sum()
    probabilities = [r.probability for r in ranking.chords]
    assert len(ranking.chords) == 191 and sum(probabilities) == pytest.approx(1.0)
    assert probabilities == sorted(probabilities, reverse=True)
    np.testing.assert_allclose(probabilities, expected[_ids(ranking)], rtol=1e-6)
    assert ranking.key == "G major" and ranking.notes == []
    assert [r.symbol for r in next_chords(generator, "G D Em", conditions, top=3).chords] == \
        [r.symbol for r in ranking.chords[:3]]


def test_in_key_keeps_the_scale_and_spells_in_key(generator) -> None:
    ranking = next_chords(generator, ["A", "E"], Conditions.parse(key="A"), in_key=True, top=192)
    assert ranking.chords and all(in_scale(r.chord, 9, "major") for r in ranking.chords)
    assert sum(r.probability for r in ranking.chords) == pytest.approx(1.0)
    sharp = [r.symbol for r in ranking.chords if r.chord.root in (1, 6, 8)]
    assert sharp and all("#" in s for s in sharp)  # C#m, F#m, G#m7b5: never Db, Gb, Ab in A major
    with pytest.raises(InputError, match="key"):
        next_chords(generator, "C G", Conditions(), in_key=True)


def test_what_fits_between_is_the_both_sides_conditional(generator) -> None:
    conditions = Conditions.parse(mood="calm")
    ranking = next_chords(generator, "C G", conditions, followed_by="F C", ends=True, top=192)
    exact = position_distribution(generator, ["C", "G", "C", "F", "C"], 2, conditions, ends=True)
    exact[[VOCAB.id_of(parse_symbol("G")), VOCAB.id_of(parse_symbol("F"))]] = 0.0  # neither neighbour
    exact /= exact.sum()
    np.testing.assert_allclose([r.probability for r in ranking.chords], exact[_ids(ranking)], rtol=1e-6)
    assert {"G", "F"}.isdisjoint(r.symbol for r in ranking.chords)


def test_typed_symbols_are_read_with_a_note_and_bad_input_refused(generator) -> None:
    ranking = next_chords(generator, "C/E G7sus4", Conditions(), top=2)
    assert ranking.notes == ["G7sus4 read as Gsus4"] and len(ranking.chords) == 2
    opening = next_chords(generator, "", Conditions(), top=5)
    assert len(opening.chords) == 5
    for bad, message in ((dict(chords="C Hm"), "Hm"), (dict(top=0), "top"), (dict(top=193), "top"),
                         (dict(chords="C " * 64), "at most")):
        with pytest.raises(InputError, match=message):
            next_chords(generator, **{"chords": "C", **bad})


def test_cli_api_and_core_give_the_same_ranking(model_dir, generator, capsys) -> None:
    conditions = Conditions.parse(genre="jazz", key="Bb")
    core = next_chords(generator, "Bbmaj7 Gm7 C7sus4", conditions, followed_by="F7", in_key=False, top=8, guidance=1.5)
    assert main(["next", "--model", str(model_dir), "--chords", "Bbmaj7 Gm7 C7sus4", "--followed-by", "F7",
                 "--genre", "jazz", "--key", "Bb", "--top", "8", "--guidance", "1.5", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == core.to_list()
    assert captured.err.strip() == "note: C7sus4 read as Csus4"
    with TestClient(create_app(model_dir)) as client:
        answer = client.post("/next", json={"chords": ["Bbmaj7", "Gm7", "C7sus4"], "followed_by": ["F7"],
                                            "genre": "jazz", "key": "Bb", "top": 8, "guidance": 1.5})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ranking": core.to_list(), "key": "Bb major", "notes": ["C7sus4 read as Csus4"]}
        for body in ({"chords": ["Hm"]}, {"top": 0}, {"in_key": True}, {"chords": ["C"] * 64},
                     {"chords": ["C"], "mystery": 1}):
            assert client.post("/next", json=body).status_code == 422, body
    assert main(["next", "--model", str(model_dir), "--chords", "C Hm"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: unknown chord symbol 'Hm'")
    assert main(["next", "--model", str(model_dir), "--chords", "C", "--top", "0"]) == 2
