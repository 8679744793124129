"""Calibration of ``score --rank genre|mood`` on the test songs: raw posteriors against the calibrated ones.

The calibration stored beside the model (``calibration.json``, fitted on the validation songs by
:mod:`core.evaluation.calibrate`) is read back — or fitted here, and said so, when the model has
none — and both posteriors are scored on the test songs' openings (4 to 64 chords): expected
calibration error (10 bins, top value), negative log-likelihood, accuracy, and how often the fit is
clear (top value at least twice the runner-up) and right when it is. Two cases from the issue are
shown as well: 500 random chords, and ``C G Am F``.
"""

from __future__ import annotations

import time

import numpy as np

from core.conditions import Conditions

EXAMPLE = "C G Am F"
RANDOM_CHORDS = 500


def _examples(generator) -> dict:
    from core.generation.calibration import clear_fit
    from core.generation.score import rank_condition
    from core.vocabulary import VOCAB

    chords = [c for c in VOCAB.chords if c is not None]
    rng = np.random.default_rng(0)
    random_chords = [chords[i] for i in rng.integers(0, len(chords), RANDOM_CHORDS)]
    out = {}
    for label, progression in ((f"{RANDOM_CHORDS} random chords", random_chords), (EXAMPLE, EXAMPLE)):
        for name in ("genre", "mood"):
            raw = rank_condition(generator, progression, Conditions(), name, calibrated=False)
            calibrated = rank_condition(generator, progression, Conditions(), name)
            out[f"{label} / {name}"] = {
                "raw_top": list(raw.items())[:3], "calibrated_top": list(calibrated.items())[:3],
                "clear_fit": clear_fit(calibrated), "pop_rank": list(raw).index("pop") + 1 if name == "genre" else None,
            }
    return out


def run(model_dir, frame=None) -> dict:
    """The calibration report for the model in ``model_dir`` as a JSON-ready dict."""
    from core.evaluation.calibrate import PREFIX_LENGTHS, calibration_report, fit_model_calibration
    from core.evaluation.evaluate import shipped_table
    from core.generation.calibration import CLEAR_FIT_RATIO, ConditionCalibration, load_calibration
    from core.generation.loading import load_generator

    started = time.perf_counter()
    frame = shipped_table() if frame is None else frame
    generator = load_generator(model_dir)
    fits = load_calibration(generator.model_dir)
    stored = bool(fits)
    if not stored:
        document = fit_model_calibration(generator, frame)
        fits = {name: ConditionCalibration(entry["temperature"], entry["length_exponent"], entry["length_floor"])
                for name, entry in document["conditions"].items()}
    return {
        "model": str(model_dir), "stored": stored, "openings": list(PREFIX_LENGTHS), "clear_fit_ratio": CLEAR_FIT_RATIO,
        "test": calibration_report(generator, frame, fits, "test"),
        "examples": _examples(generator) if stored else {},
        "seconds": time.perf_counter() - started,
    }
