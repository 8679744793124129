"""bench.adherence: per-progression measures, judges and the generation helpers (fast, no training)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bench import adherence as ad
from core.chords import parse_progression
from core.errors import InputError
from core.generation.decoder import make_decoder
from core.generation.loading import Generator
from tests.sample_corpus import sample_frame
from tests.tiny_models import tiny_model


def test_roman_tokens_do_not_depend_on_the_key() -> None:
    assert ad.roman_tokens("C G Am F") == ["I", "V", "vi", "IV"]
    assert ad.roman_tokens("D A Bm G") == ad.roman_tokens("C G Am F")
    assert ad.progression_features("Eb Bb Cm Ab") == ad.progression_features("C G Am F")


def test_features_count_bigrams_with_ends() -> None:
    features = ad.progression_features("C F C")
    assert features["b:^>I"] == 1 and features["b:I>IV"] == 1 and features["b:IV>I"] == 1 and features["b:I>$"] == 1
    assert features["u:I"] == 2
    assert features["minor_share"] == 0.0
    assert features["variety"] == pytest.approx(2 / 3)


def test_variety_and_repeat_rate() -> None:
    assert ad.variety("C G C G") == 0.5
    assert math.isnan(ad.variety([]))
    assert ad.immediate_repeat_rate(["C C G", "Am F"]) == pytest.approx(1 / 3)
    assert math.isnan(ad.immediate_repeat_rate(["C"]))


def test_in_key_rate() -> None:
    assert ad.in_key_rate(["C F G Am"], 0, "major") == 1.0
    assert ad.in_key_rate(["C E"], 0, "major") == 0.5  # E major holds G#
    assert ad.in_key_rate(["Am Dm E"], 9, "minor") == pytest.approx(2 / 3)  # natural minor has no G#


def test_labelled_in_key_rate_uses_each_windows_key() -> None:
    frame = pd.DataFrame({"chords": ["C G", "Am E", "D"], "key_tonic": ["C", "A", ""], "scale_type": ["major", "minor", "major"]})
    assert ad.labelled_in_key_rate(frame) == pytest.approx(3 / 4)  # the keyless window is skipped


def test_progression_novelty_exact_and_any_key() -> None:
    training = ["C G Am F", "Dm G C"]
    assert ad.progression_novelty(["C G Am F", "D A Bm G"], training) == 0.5
    assert ad.progression_novelty(["C G Am F", "D A Bm G"], training, transposition_invariant=True) == 1.0
    figures = ad.novelty_figures([parse_progression("D A Bm G")], training)
    assert figures["copied_4grams"] == 0.0 and figures["copied_4grams_any_key"] == 1.0


def test_sample_perplexity() -> None:
    assert ad.sample_perplexity([[0.5, 0.5], [0.5]]) == pytest.approx(2.0)
    assert math.isnan(ad.sample_perplexity([]))


def _judge_frame() -> pd.DataFrame:
    rows = []
    for i in range(40):
        pop, blues = ["C G Am F", "D A Bm G", "F C Dm Bb"][i % 3], ["C7 F7 C7 G7", "A7 D7 A7 E7"][i % 2]
        rows.append({"chords": pop, "genre": "pop", "mood": "happy", "scale_type": "major"})
        rows.append({"chords": blues, "genre": "blues", "mood": "", "scale_type": "major"})
    return pd.DataFrame(rows)


def test_judge_learns_separable_genres_and_reports_balanced_accuracy() -> None:
    judge = ad.train_judge(_judge_frame(), "genre", max_rows=None)
    assert judge.labels == ["blues", "pop"] and judge.train_rows == 80
    assert list(judge.predict(["G D Em C", "G7 C7 G7 D7"])) == ["pop", "blues"]
    scores = judge.accuracy(["G D Em C", "G D Em C", "G D Em C", "G7 C7 G7 D7"], ["pop", "pop", "pop", "pop"])
    assert scores["accuracy"] == 0.75 and scores["balanced_accuracy"] == 0.75 and scores["count"] == 4


def test_judge_needs_two_values() -> None:
    with pytest.raises(InputError, match="two mood values"):
        ad.train_judge(_judge_frame(), "mood")
    with pytest.raises(InputError, match="no judge"):
        ad.train_judge(_judge_frame(), "key")


def test_adherence_hit_rates_against_unconditioned() -> None:
    judge = ad.train_judge(_judge_frame(), "genre", max_rows=None)
    generated = ad.GeneratedSet(
        [parse_progression(p) for p in ("G D Em C", "G7 C7 G7 D7", "G7 C7 G7 D7", "G7 C7 G7 D7")],
        ["pop", "pop", "blues", "blues"], [[0.5]] * 4,
    )
    result = ad.adherence(judge, generated, [parse_progression("C G Am F")] * 3 + [parse_progression("C7 F7 C7 G7")])
    assert result["per_value"]["pop"] == {"requested_hit_rate": 0.5, "unconditioned_rate": 0.75}
    assert result["per_value"]["blues"] == {"requested_hit_rate": 1.0, "unconditioned_rate": 0.25}
    assert result["adherence"] == 0.75 and result["floor"] == 0.5


def test_generate_for_values_labels_every_sample() -> None:
    generator = Generator(make_decoder(tiny_model()), None)
    generated = ad.generate_for_values(generator, "genre", ["pop", "jazz"], per_value=5, length=6, temperature=1.5)
    assert len(generated.progressions) == len(generated.requested) == len(generated.probabilities) <= 10
    assert set(generated.requested) <= {"pop", "jazz"}
    pairs = zip(generated.progressions, generated.probabilities, strict=True)
    assert all(len(p) == len(q) and 1 <= len(p) <= 6 for p, q in pairs)
    again = ad.generate_for_values(generator, "genre", ["pop", "jazz"], per_value=5, length=6, temperature=1.5)
    assert again.progressions == generated.progressions  # seeded


def test_mood_profile_on_the_sample_table() -> None:
    frame = sample_frame()
    profile = ad.mood_profile({m: [s for s in frame.loc[frame["mood"] == m, "chords"]] for m in ("happy", "sad")})
    assert profile.loc["happy", "minor_share"] == pytest.approx(2 / 11)  # Am twice among 11 chords
    assert profile.loc["sad", "count"] == 2
    assert np.isfinite(profile["variety"]).all()
