"""Conditioning control: do generated progressions carry the genre, scale type and mood they were asked for?

Builds on :mod:`core.evaluation.condition_checks` (minor share, n-gram novelty). A *judge* — logistic regression
on key-relative features — is trained on the real training progressions for one condition and
then reads:

* real test progressions (the **ceiling**: how well the labels can be told apart at all);
* generated progressions, a fixed number per requested value (**style adherence**);
* unconditioned generated progressions (the **floor**: with balanced requests, exactly chance
  overall; per value, how often the judge says that value anyway).

Features (:func:`progression_features`): the chords as Roman numerals in the key
:func:`core.spelling.guess_key` reads from them (so a progression's transposition does not
matter and real and generated progressions are treated alike), Roman unigrams and bigrams with
start/end markers, plus the minor-chord share and the chord-change variety (distinct chords /
chords).

Also here: in-key rate, immediate-repeat rate, whole-progression novelty and the per-sample
perplexity a generator reports (from :attr:`core.generation.sample.Sample.probabilities`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.chords import Chord
from core.conditions import UNSPECIFIED, VOCABULARIES, Conditions
from core.errors import InputError
from core.evaluation.condition_checks import Progression, as_chords, minor_share, ngram_novelty
from core.numerals import in_scale

#: conditions the judges are trained for (key is not judged: it is checked by the in-key rate).
JUDGED: tuple[str, ...] = ("genre", "scale_type", "mood")


# --- per-progression measures -------------------------------------------------------------------


def roman_tokens(progression: Progression | str) -> list[str]:
    """Roman numerals of the chords in the key :func:`core.spelling.guess_key` reads from them."""
    from core.evaluation.judge import roman_tokens as key_relative_numerals

    return key_relative_numerals(as_chords(progression))


def variety(progression: Progression | str) -> float:
    """Distinct chords / chords (1.0: no chord comes back); NaN for an empty progression."""
    chords = as_chords(progression)
    return len(set(chords)) / len(chords) if chords else float("nan")


def progression_features(progression: Progression | str) -> dict[str, float]:
    """Judge features: Roman unigram and bigram counts (with ``^``/``$`` ends), minor share, variety, length."""
    return dict(_features(tuple(as_chords(progression))))


@functools.lru_cache(maxsize=200_000)
def _features(chords: tuple[Chord, ...]) -> dict[str, float]:
    """:func:`progression_features` of a chord tuple, cached (the judges read the same windows; keys are slow to read)."""
    tokens = roman_tokens(chords)
    features: dict[str, float] = {}
    for token in tokens:
        features[f"u:{token}"] = features.get(f"u:{token}", 0.0) + 1.0
    for left, right in zip(["^", *tokens], [*tokens, "$"], strict=True):
        features[f"b:{left}>{right}"] = features.get(f"b:{left}>{right}", 0.0) + 1.0
    features["minor_share"] = minor_share([chords]) if chords else 0.0
    features["variety"] = variety(chords) if chords else 0.0
    features["length"] = len(chords) / 12.0
    return features


def immediate_repeat_rate(samples: Iterable[Progression | str]) -> float:
    """Share of adjacent chord pairs that repeat the same chord (the corpus collapses repeats: 0 there)."""
    pairs = repeats = 0
    for progression in samples:
        chords = as_chords(progression)
        pairs += max(0, len(chords) - 1)
        repeats += sum(a == b for a, b in zip(chords, chords[1:], strict=False))
    return repeats / pairs if pairs else float("nan")


def in_key_rate(samples: Iterable[Progression | str], tonic: int, mode: str) -> float:
    """Share of chords whose every tone lies in the key's scale (natural minor for ``minor``)."""
    flags = [in_scale(chord, tonic, mode) for progression in samples for chord in as_chords(progression)]
    return float(np.mean(flags)) if flags else float("nan")


def labelled_in_key_rate(frame: pd.DataFrame) -> float:
    """:func:`in_key_rate` of a table's windows, each in its own labelled key (windows without a key skipped)."""
    from core.dataset import _tonic

    flags: list[bool] = []
    for chords_text, tonic_text, scale in zip(frame["chords"], frame["key_tonic"], frame["scale_type"], strict=True):
        tonic = _tonic(tonic_text)
        if tonic is None or not str(chords_text).strip():
            continue
        mode = "minor" if str(scale) == "minor" else "major"
        flags.extend(in_scale(chord, tonic, mode) for chord in as_chords(str(chords_text)))
    return float(np.mean(flags)) if flags else float("nan")


def _normalised(chords: Sequence[Chord]) -> tuple[Chord, ...]:
    return tuple(c.transpose(-chords[0].root) for c in chords) if chords else ()


def progression_novelty(samples: Iterable[Progression | str], training_windows: Iterable[Progression | str],
                        transposition_invariant: bool = False) -> float:
    """Share of generated progressions identical to a whole training window (exactly, or in any key)."""
    def key(progression) -> tuple:
        chords = as_chords(progression)
        return _normalised(chords) if transposition_invariant else tuple(chords)

    seen = {key(window) for window in training_windows}
    generated = [key(sample) for sample in samples]
    return float(np.mean([g in seen for g in generated])) if generated else float("nan")


def sample_perplexity(probabilities: Iterable[Sequence[float]]) -> float:
    """exp(mean -ln p) over every chord of the samples, from per-chord model probabilities (temperature 1)."""
    values = np.array([p for row in probabilities for p in row], dtype=np.float64)
    if values.size == 0:
        return float("nan")
    return float(np.exp(-np.log(np.maximum(values, 1e-12)).mean()))


# --- judges --------------------------------------------------------------------------------------


@dataclass
class Judge:
    """A classifier for one condition's values (``unspecified`` excluded) from :func:`progression_features`."""

    condition: str
    labels: list[str]
    pipeline: object = field(repr=False)
    train_rows: int = 0

    def predict(self, progressions: Sequence[Progression | str]) -> np.ndarray:
        """The most likely value for each progression."""
        if not progressions:
            return np.array([], dtype=object)
        return np.asarray(self.pipeline.predict([progression_features(p) for p in progressions]), dtype=object)

    def accuracy(self, progressions: Sequence[Progression | str], labels: Sequence[str]) -> dict:
        """``accuracy``, ``balanced_accuracy`` (mean recall over the values present) and ``recall`` per value."""
        predicted = self.predict(progressions)
        truth = np.asarray(labels, dtype=object)
        if truth.size == 0:
            return {"accuracy": float("nan"), "balanced_accuracy": float("nan"), "count": 0, "recall": {}}
        recalls = {value: float((predicted[truth == value] == value).mean()) for value in sorted(set(truth.tolist()))}
        return {"accuracy": float((predicted == truth).mean()), "balanced_accuracy": float(np.mean(list(recalls.values()))),
                "count": int(truth.size), "recall": recalls}


def labelled_rows(frame: pd.DataFrame, condition: str) -> tuple[list[str], list[str]]:
    """(chords text, value) of the windows whose ``condition`` is set to a known value."""
    values = frame[condition].astype(str).str.strip().str.lower()
    has_chords = frame["chords"].astype(str).str.strip() != ""
    known = values.isin([v for v in VOCABULARIES[condition] if v != UNSPECIFIED]) & has_chords
    return frame.loc[known, "chords"].astype(str).tolist(), values[known].tolist()


def train_judge(frame: pd.DataFrame, condition: str, max_rows: int | None = 40000, seed: int = 0, c: float = 1.0,
                values: Sequence[str] | None = None) -> Judge:
    """Fit the judge for ``condition`` on a table frame's labelled windows (a seeded sample of ``max_rows``).

    Logistic regression with class weights balanced, so a rare value is not simply never said.
    ``values`` limits the judge to those values (windows of other values are left out).
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if condition not in JUDGED:
        raise InputError(f"no judge for {condition!r}; accepted: {', '.join(JUDGED)}")
    chords, labels = labelled_rows(frame, condition)
    if values is not None:
        kept = [i for i, label in enumerate(labels) if label in set(values)]
        chords, labels = [chords[i] for i in kept], [labels[i] for i in kept]
    if max_rows is not None and len(chords) > max_rows:
        chosen = np.random.default_rng(seed).choice(len(chords), size=max_rows, replace=False)
        chords, labels = [chords[i] for i in chosen], [labels[i] for i in chosen]
    if len(set(labels)) < 2:
        raise InputError(f"need at least two {condition} values with windows to train a judge, got {sorted(set(labels))}")
    pipeline = make_pipeline(DictVectorizer(), LogisticRegression(C=c, max_iter=2000, class_weight="balanced"))
    pipeline.fit([progression_features(p) for p in chords], labels)
    return Judge(condition, sorted(set(labels)), pipeline, len(labels))


# --- generation helpers ------------------------------------------------------------------------------


@dataclass
class GeneratedSet:
    """Generated progressions with the value each was requested with and the model's per-chord probabilities."""

    progressions: list[list[Chord]]
    requested: list[str]
    probabilities: list[list[float]]


def generate_for_values(generator, condition: str, values: Sequence[str], per_value: int, length: int = 11,
                        temperature: float = 1.0, random_seed: int = 0, fixed: Mapping[str, str] | None = None,
                        guidance: Mapping[str, float] | None = None) -> GeneratedSet:
    """``per_value`` samples for each requested value of ``condition`` (``unspecified``: nothing requested)."""
    from core.generation.generate import generate

    out = GeneratedSet([], [], [])
    for index, value in enumerate(values):
        labels = {**(fixed or {}), condition: value}
        samples = generate(generator, Conditions.parse(**labels), length=length, num_samples=per_value,
                           temperature=temperature, top_p=1.0, random_seed=random_seed + 7919 * index,
                           guidance=guidance or 0.0)  # the model's own distribution, guided only as asked
        for sample in samples:
            if sample.chords:
                out.progressions.append(sample.chords)
                out.requested.append(value)
                out.probabilities.append(sample.probabilities)
    return out


def adherence(judge: Judge, generated: GeneratedSet, unconditioned: Sequence[Progression]) -> dict:
    """Judge accuracy on requested values, and per value the hit rate next to the unconditioned rate."""
    predicted = judge.predict(generated.progressions)
    floor_predicted = judge.predict(list(unconditioned))
    requested = np.asarray(generated.requested, dtype=object)
    per_value = {}
    for value in judge.labels:
        chosen = requested == value
        per_value[value] = {
            "requested_hit_rate": float((predicted[chosen] == value).mean()) if chosen.any() else float("nan"),
            "unconditioned_rate": float((floor_predicted == value).mean()) if len(floor_predicted) else float("nan"),
        }
    hits = [v["requested_hit_rate"] for v in per_value.values() if np.isfinite(v["requested_hit_rate"])]
    floors = [v["unconditioned_rate"] for v in per_value.values() if np.isfinite(v["requested_hit_rate"])]
    return {"adherence": float(np.mean(hits)) if hits else float("nan"),
            "floor": float(np.mean(floors)) if floors else float("nan"), "per_value": per_value}


def mood_profile(progressions_by_mood: Mapping[str, Sequence[Progression]]) -> pd.DataFrame:
    """Minor share and chord-change variety per mood (rows) for one set of progressions."""
    return pd.DataFrame({
        "minor_share": {m: minor_share(p) for m, p in progressions_by_mood.items()},
        "variety": {m: float(np.nanmean([variety(x) for x in p])) if p else float("nan")
                    for m, p in progressions_by_mood.items()},
        "count": {m: len(p) for m, p in progressions_by_mood.items()},
    })


def novelty_figures(samples: Sequence[Progression], training_windows: Sequence[Progression | str]) -> dict[str, float]:
    """Copied shares: 4-grams (exact and any key) and whole progressions (exact and any key)."""
    return {
        "copied_4grams": ngram_novelty(samples, training_windows, n=4).copied_share,
        "copied_4grams_any_key": ngram_novelty(samples, training_windows, n=4, transposition_invariant=True).copied_share,
        "copied_progressions": progression_novelty(samples, training_windows),
        "copied_progressions_any_key": progression_novelty(samples, training_windows, transposition_invariant=True),
    }
