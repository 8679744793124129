"""The NumPy naive-Bayes judge: key-relative n-grams, uniform prior, recall per value."""

from __future__ import annotations

import pytest

from core.chords import parse_progression
from core.errors import InputError
from core.evaluation.judge import NaiveBayesJudge, roman_ngrams


def test_ngrams_are_key_relative() -> None:
    assert roman_ngrams(parse_progression("C F G C")) == roman_ngrams(parse_progression("D G A D"))
    assert roman_ngrams(parse_progression("C G"))[:2] == ["u:I", "u:V"] and "b:^>I" in roman_ngrams(parse_progression("C G"))


def test_judge_tells_apart_what_it_was_trained_on() -> None:
    blues = [parse_progression(p) for p in ("C7 F7 C7 G7 F7 C7", "A7 D7 A7 E7 D7 A7", "G7 C7 G7 D7")]
    pop = [parse_progression(p) for p in ("C G Am F", "G D Em C", "F C Dm Bb")]
    judge = NaiveBayesJudge.fit("genre", blues + pop, ["blues"] * 3 + ["pop"] * 3)
    assert judge.values == ["blues", "pop"]
    assert judge.predict([parse_progression("E7 A7 E7 B7"), parse_progression("D A Bm G")]) == ["blues", "pop"]
    recall = judge.recall(blues + pop, ["blues"] * 3 + ["pop"] * 3)
    assert recall == {"blues": 1.0, "pop": 1.0}
    with pytest.raises(InputError, match="at least two"):
        NaiveBayesJudge.fit("mood", pop, ["happy"] * 3)
