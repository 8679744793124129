"""Fitting a model's genre/mood calibration on the validation songs, and measuring it on the test songs.

The unit is a song's opening: every labelled song of a split gives its first 4, 8, 16, 32 and 64
chords (:data:`PREFIX_LENGTHS`, as far as the song is long; its windows joined in order), so the
fit sees short and long progressions alike. Each is scored under every value of the condition
(other conditions open, no END factor: what ``score --rank`` and Analyze do for typed chords),
then :func:`core.generation.calibration.fit_calibration` picks the temperature and length exponent
on the validation songs. :func:`write_calibration` stores the fit beside the model
(``calibration.json``); :func:`calibration_report` compares the raw and calibrated posteriors on
another split (the bench uses the test songs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.conditions import Conditions
from core.errors import InputError
from core.generation.calibration import (
    UNCALIBRATED,
    ConditionCalibration,
    calibration_figures,
    calibration_payload,
    fit_calibration,
)
from core.generation.score import RANKABLE, condition_log_likelihoods, rankable_values
from core.run_files import CALIBRATION_FILE, write_json_atomic

#: chords from the start of each song scored for the calibration (a song shorter than a length skips it).
PREFIX_LENGTHS: tuple[int, ...] = (4, 8, 16, 32, 64)


def song_openings(frame: pd.DataFrame, split: str, name: str) -> tuple[list[list], list[str]]:
    """The openings (:data:`PREFIX_LENGTHS`) of a split's songs labelled with ``name``, and each one's label."""
    from core.dataset import split_frame
    from core.evaluation.condition_checks import as_chords

    values = rankable_values(name)
    part = split_frame(frame, split).sort_values("window_id", kind="stable")
    part = part.loc[part[name].astype(str).str.strip().str.lower().isin(values)]
    openings, labels = [], []
    for _, song in part.groupby("song_id", sort=True):
        chords = [chord for text in song["chords"].astype(str) for chord in as_chords(text)]
        label = str(song[name].iloc[0]).strip().lower()
        for length in PREFIX_LENGTHS:
            if len(chords) >= length:
                openings.append(chords[:length])
                labels.append(label)
    return openings, labels


def song_evidence(generator, frame: pd.DataFrame, split: str, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log-likelihoods [N, values], factors [N], label indices [N]) of a split's song openings labelled with ``name``."""
    openings, labels = song_openings(frame, split, name)
    if not openings:
        raise InputError(f"no {split} songs labelled with a {name} to calibrate on")
    totals, factors = condition_log_likelihoods(generator, openings, Conditions(), name)
    values = rankable_values(name)
    return totals, factors, np.array([values.index(v) for v in labels], dtype=np.int64)


def _figures(totals: np.ndarray, factors: np.ndarray, labels: np.ndarray, fit: ConditionCalibration) -> dict:
    """Before/after figures overall and per opening length."""
    out = {"before": calibration_figures(totals, factors, labels, UNCALIBRATED),
           "after": calibration_figures(totals, factors, labels, fit), "per_length": {}}
    for length in sorted(set(factors.tolist())):
        chosen = factors == length
        out["per_length"][str(length)] = {
            "before": calibration_figures(totals[chosen], factors[chosen], labels[chosen], UNCALIBRATED)["ece"],
            "after": calibration_figures(totals[chosen], factors[chosen], labels[chosen], fit)["ece"],
            "rows": int(chosen.sum())}
    return out


def fit_model_calibration(generator, frame: pd.DataFrame, split: str = "validation") -> dict:
    """The ``calibration.json`` document for a model: genre and mood fitted on ``split``, with figures there."""
    fits: dict[str, ConditionCalibration] = {}
    figures: dict[str, dict] = {}
    for name in RANKABLE:
        totals, factors, labels = song_evidence(generator, frame, split, name)
        fits[name] = fit_calibration(totals, factors, labels)
        figures[name] = {"split": split, "openings": list(PREFIX_LENGTHS), **_figures(totals, factors, labels, fits[name])}
    return calibration_payload(fits, {name: rankable_values(name) for name in RANKABLE}, figures)


def write_calibration(model_dir: str | Path, frame: pd.DataFrame | None = None) -> Path:
    """Fit the calibration of the model in ``model_dir`` on the validation songs and write ``calibration.json`` there."""
    from core.corpus.table import shipped_table
    from core.generation.loading import load_generator

    generator = load_generator(model_dir)
    document = fit_model_calibration(generator, shipped_table() if frame is None else frame)
    path = Path(generator.model_dir) / CALIBRATION_FILE
    write_json_atomic(path, document)
    return path


def calibration_report(generator, frame: pd.DataFrame, fits: dict[str, ConditionCalibration], split: str = "test") -> dict:
    """Raw vs calibrated posteriors on ``split``: ECE, NLL, accuracy and clear-fit shares per condition."""
    report = {}
    for name in RANKABLE:
        totals, factors, labels = song_evidence(generator, frame, split, name)
        fit = fits.get(name, UNCALIBRATED)
        report[name] = {"split": split, "temperature": fit.temperature, "length_exponent": fit.length_exponent,
                        "length_floor": fit.length_floor, **_figures(totals, factors, labels, fit)}
    return report
