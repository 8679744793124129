"""A light judge of genre or mood from chords alone, for the Evaluation page's conditioning checks.

Multinomial naive Bayes over key-relative Roman-numeral unigrams and bigrams (with ``^``/``$``
ends): the chords are read as Roman numerals in the key :func:`core.spelling.guess_key`
finds in them, so transposition does not matter and real and generated progressions are read
alike. Laplace smoothing, a uniform prior over the values (so a rare value is not simply never
said). NumPy only: the benchmarks' stronger judges (logistic regression, :mod:`bench.adherence`)
need scikit-learn, which the studio does not install.

The judge's recall per value on the real test windows is the *ceiling* a generator can be held to:
how often real songs of that value are recognised as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.chords import Chord
from core.errors import InputError
from core.numerals import roman_numeral

SMOOTHING = 1.0


def roman_tokens(chords: Sequence[Chord]) -> list[str]:
    """Roman numerals of the chords in the key :func:`core.spelling.guess_key` reads from them."""
    from core.spelling import guess_key

    if not chords:
        return []
    tonic, mode = guess_key(chords)
    return [roman_numeral(chord, tonic, mode) for chord in chords]


def roman_ngrams(chords: Sequence[Chord]) -> list[str]:
    """Roman unigrams (``u:ii7``) and bigrams with start/end markers (``b:^>I``, ``b:V7>$``)."""
    tokens = roman_tokens(chords)
    return [f"u:{t}" for t in tokens] + [f"b:{a}>{b}" for a, b in zip(["^", *tokens], [*tokens, "$"], strict=True)]


@dataclass
class NaiveBayesJudge:
    """Which value of one condition a progression sounds like (see the module docstring)."""

    condition: str
    values: list[str]
    log_probabilities: np.ndarray = field(repr=False)  # [values, features]
    features: dict[str, int] = field(repr=False)

    @classmethod
    def fit(cls, condition: str, progressions: Sequence[Sequence[Chord]], labels: Sequence[str]) -> NaiveBayesJudge:
        """Count each value's n-grams over its training progressions; needs at least two values."""
        values = sorted(set(labels))
        if len(values) < 2:
            raise InputError(f"need at least two {condition} values with progressions to judge, got {values}")
        features: dict[str, int] = {}
        rows = [[features.setdefault(g, len(features)) for g in roman_ngrams(p)] for p in progressions]
        counts = np.full((len(values), len(features)), SMOOTHING)
        for row, label in zip(rows, labels, strict=True):
            np.add.at(counts[values.index(label)], row, 1.0)
        return cls(condition, values, np.log(counts / counts.sum(axis=1, keepdims=True)), features)

    def predict(self, progressions: Sequence[Sequence[Chord]]) -> list[str]:
        """The most likely value of each progression (n-grams never seen in training are ignored)."""
        predicted = []
        for progression in progressions:
            known = [self.features[g] for g in roman_ngrams(progression) if g in self.features]
            scores = self.log_probabilities[:, known].sum(axis=1)
            predicted.append(self.values[int(np.argmax(scores))])
        return predicted

    def recall(self, progressions: Sequence[Sequence[Chord]], labels: Sequence[str]) -> dict[str, float]:
        """Per value: the share of its progressions the judge names correctly (NaN for a value with none)."""
        predicted = np.asarray(self.predict(progressions), dtype=object)
        truth = np.asarray(labels, dtype=object)
        return {v: float((predicted[truth == v] == v).mean()) if (truth == v).any() else float("nan") for v in self.values}
