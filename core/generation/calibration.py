"""Calibrated genre and mood fits: turning per-value log-likelihoods into posteriors that mean what they say.

The raw posterior of a value ``v`` (uniform prior) is ``softmax_v(L_v)`` with ``L_v`` the
progression's summed log-likelihood under ``v``. Every chord multiplies the evidence, so long
progressions read near-certain whatever they are (500 random chords: "100 % classical"). The
calibrated posterior divides the evidence by a length factor and a temperature::

    posterior_v ∝ exp(L_v / (T · max(1, n / n0)^a))

with ``n`` the number of scored factors (chords, plus END when counted). With ``n0 = 1``, ``a = 0``
is plain temperature scaling of the sum and ``a = 1`` temperature scaling of the per-chord average;
with ``n0 = 11`` (:data:`WINDOW_CHORDS`, the longest window the model was trained on) evidence
counts in full up to a window's length and is damped only beyond it, where the model reads past
anything it was trained on. ``T``, ``a`` and ``n0`` are fitted per condition on the validation songs
(their openings of 4 to 64 chords, :mod:`core.evaluation.calibrate`) by minimising the negative
log-likelihood of their labels (:func:`fit_calibration`); the argmax never changes, only how sure
the posterior is. The fit is stored beside the model as ``calibration.json``
(:data:`core.run_files.CALIBRATION_FILE`) and read back by :func:`load_calibration`.

A fit is *clear* when the top value is at least :data:`CLEAR_FIT_RATIO` times as probable as the
runner-up; otherwise the ranking reports "no clear fit".
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.run_files import CALIBRATION_FILE

#: the top value must be at least this many times as probable as the runner-up to count as a clear fit.
CLEAR_FIT_RATIO = 2.0
#: length exponents tried by the fit (0: temperature on the sum; 1: on the per-chord average; above 1: evidence
#: that grows more slowly than the chords, as when the model reads past the 11-chord windows it was trained on).
LENGTH_EXPONENTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
#: the longest window the models are trained on (core.corpus.build.MAX_WINDOW_CHORDS), the other ``n0`` the fit tries.
WINDOW_CHORDS = 11
LENGTH_FLOORS: tuple[int, ...] = (1, WINDOW_CHORDS)
ECE_BINS = 10


@dataclass(frozen=True)
class ConditionCalibration:
    """``T``, ``a`` and ``n0`` of ``posterior ∝ exp(L / (T · max(1, n / n0)^a))`` for one condition."""

    temperature: float = 1.0
    length_exponent: float = 0.0
    length_floor: int = 1

    def posteriors(self, log_likelihoods: np.ndarray, factors: np.ndarray) -> np.ndarray:
        """Row-wise posteriors [N, values] from summed log-likelihoods [N, values] and factor counts [N]."""
        lengths = np.maximum(1.0, np.asarray(factors, dtype=np.float64) / self.length_floor)
        scale = self.temperature * np.power(lengths, self.length_exponent)
        scores = np.asarray(log_likelihoods, dtype=np.float64) / scale[:, None]
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        return probabilities / probabilities.sum(axis=1, keepdims=True)


#: the raw posterior (what ``score --rank`` gave before calibration).
UNCALIBRATED = ConditionCalibration()


def negative_log_likelihood(posteriors: np.ndarray, labels: np.ndarray) -> float:
    """Mean ``-ln posterior[label]`` (labels are column indices)."""
    picked = posteriors[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)]
    return float(-np.log(np.maximum(picked, 1e-300)).mean())


def expected_calibration_error(posteriors: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: |accuracy − confidence| of the top value, averaged over equal-width confidence bins by count."""
    confidence = posteriors.max(axis=1)
    correct = posteriors.argmax(axis=1) == np.asarray(labels, dtype=np.int64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            error += chosen.mean() * abs(correct[chosen].mean() - confidence[chosen].mean())
    return float(error)


def clear_fit(posterior: Mapping[str, float], ratio: float = CLEAR_FIT_RATIO) -> str | None:
    """The top value of a posterior when it is at least ``ratio`` times the runner-up's, else ``None``."""
    ranked = sorted(posterior.items(), key=lambda item: -item[1])
    if not ranked:
        return None
    if len(ranked) == 1 or ranked[0][1] >= ratio * ranked[1][1]:
        return ranked[0][0]
    return None


def _golden_minimum(loss, low: float, high: float, tolerance: float = 1e-4) -> float:
    """The minimiser of a unimodal function on [low, high] by golden-section search."""
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    loss_c, loss_d = loss(c), loss(d)
    while b - a > tolerance:
        if loss_c < loss_d:
            b, d, loss_d = d, c, loss_c
            c = b - ratio * (b - a)
            loss_c = loss(c)
        else:
            a, c, loss_c = c, d, loss_d
            d = a + ratio * (b - a)
            loss_d = loss(d)
    return (a + b) / 2.0


def fit_calibration(log_likelihoods: np.ndarray, factors: np.ndarray, labels: np.ndarray) -> ConditionCalibration:
    """The ``(T, a, n0)`` minimising the labels' negative log-likelihood: a grid over ``a`` and ``n0``,
    golden-section search over ``log T``.

    The NLL of temperature scaling is convex in ``1/T``, so the search over ``log T`` in [-6, 6] finds its minimum.
    """
    best: tuple[float, ConditionCalibration] | None = None
    for floor in LENGTH_FLOORS:
        for exponent in LENGTH_EXPONENTS if floor == 1 else LENGTH_EXPONENTS[1:]:
            def loss(log_temperature: float, exponent: float = exponent, floor: int = floor) -> float:
                calibration = ConditionCalibration(float(np.exp(log_temperature)), exponent, floor)
                return negative_log_likelihood(calibration.posteriors(log_likelihoods, factors), labels)

            candidate = ConditionCalibration(float(np.exp(_golden_minimum(loss, -6.0, 6.0))), exponent, floor)
            value = loss(np.log(candidate.temperature))
            if best is None or value < best[0]:
                best = (value, candidate)
    return best[1]


def calibration_figures(log_likelihoods: np.ndarray, factors: np.ndarray, labels: np.ndarray,
                        calibration: ConditionCalibration) -> dict[str, float]:
    """ECE, NLL and top-1 accuracy of a calibration on labelled rows, and how many fits are clear (and right)."""
    posteriors = calibration.posteriors(log_likelihoods, factors)
    top, runner_up = np.sort(posteriors, axis=1)[:, -1], np.sort(posteriors, axis=1)[:, -2]
    clear = top >= CLEAR_FIT_RATIO * runner_up
    correct = posteriors.argmax(axis=1) == labels
    return {
        "ece": expected_calibration_error(posteriors, labels),
        "nll": negative_log_likelihood(posteriors, labels),
        "accuracy": float(correct.mean()),
        "mean_confidence": float(top.mean()),
        "clear_share": float(clear.mean()),
        "accuracy_when_clear": float(correct[clear].mean()) if clear.any() else float("nan"),
        "rows": int(len(labels)),
    }


def calibration_payload(fits: Mapping[str, ConditionCalibration], values: Mapping[str, Sequence[str]],
                        figures: Mapping[str, dict]) -> dict:
    """The ``calibration.json`` document: per condition its fit, values and validation figures."""
    return {
        "clear_fit_ratio": CLEAR_FIT_RATIO,
        "conditions": {name: {**asdict(fit), "values": list(values[name]), "validation": dict(figures.get(name, {}))}
                       for name, fit in fits.items()},
    }


def load_calibration(model_dir: str | Path) -> dict[str, ConditionCalibration]:
    """The fits stored beside a model (``{}`` when it has no ``calibration.json``); cached on the file's mtime."""
    path = Path(model_dir) / CALIBRATION_FILE
    if not path.exists():
        return {}
    return _load(str(path.resolve()), path.stat().st_mtime)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, ConditionCalibration]:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: ConditionCalibration(float(fit["temperature"]), float(fit["length_exponent"]),
                                       int(fit.get("length_floor", 1)))
            for name, fit in document.get("conditions", {}).items()}
