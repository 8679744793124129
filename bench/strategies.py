"""The design guide's training strategies against the plain recipe, at equal training compute, on the test songs.

``python -m bench quality --only strategies`` trains (once: a run that already holds a model is
reused) and scores:

* **plain**: the studio's default recipe for ``epochs`` epochs;
* **curriculum**: the same, with the short-first curriculum (windows cut to a growing length over
  the first epochs, :func:`core.dataset.curriculum_length`);
* **substitution**: the same, with chord-substitution augmentation at ``substitution_rate``
  (relative major/minor, tritone substitutes, sevenths added or dropped; key kept);
* **ensemble**: ``members`` runs of the default recipe with other seeds, each for
  ``epochs / members`` epochs (so the whole ensemble cost the same training as one plain run),
  their next-chord probabilities averaged (:class:`core.generation.ensemble.EnsembleDecoder`);
  for reference, the ensemble of the plain run and a second plain run with another seed (twice the
  compute: what averaging buys when the members are as good as the plain run).

"Equal wall time" is held as equal compute (the same number of epochs over the same windows at
the same batch size; the options cost nothing measurable per step), because wall seconds on this
shared machine depend on the neighbours; each run's wall seconds and the load average are listed.
Every row is scored by the NumPy decoder on the same test targets as ``core.evaluation``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.paths import RUNS_DIR
from core.run_files import MODEL_FILE
from core.training.run_folder import epoch_records, read_metrics


@dataclass(frozen=True)
class StrategySettings:
    """Training length and the options' strengths."""

    epochs: int = 4
    curriculum_epochs: int = 2
    substitution_rate: float = 0.1
    members: int = 2
    seed: int = 42


def strategy_runs(settings: StrategySettings) -> dict[str, tuple[str, dict]]:
    """Run name -> (label, TrainConfig values) of every run the comparison trains."""
    half = max(1, settings.epochs // settings.members)
    runs = {
        "strategy-plain": ("plain (default recipe)", {"epochs": settings.epochs}),
        "strategy-curriculum": (f"curriculum: short-first over {settings.curriculum_epochs} epochs",
                                {"epochs": settings.epochs, "curriculum": "short-first",
                                 "curriculum_epochs": settings.curriculum_epochs}),
        "strategy-substitution": (f"chord substitution at rate {settings.substitution_rate:g}",
                                  {"epochs": settings.epochs, "substitution_rate": settings.substitution_rate}),
    }
    for member in range(1, settings.members + 1):
        runs[f"strategy-member{member}"] = (f"ensemble member {member} ({half} epochs)",
                                            {"epochs": half, "seed": settings.seed + member})
    runs["strategy-plain-seed2"] = ("plain, another seed", {"epochs": settings.epochs, "seed": settings.seed + 100})
    return runs


def train_missing(settings: StrategySettings, runs_dir: Path = RUNS_DIR) -> None:
    """Train every run of :func:`strategy_runs` that has no model yet, one at a time under the training lock."""
    from core.config import TrainConfig
    from core.training.lock import training_lock
    from core.training.train import train

    for name, (label, values) in strategy_runs(settings).items():
        if (runs_dir / name / MODEL_FILE).exists():
            print(f"  {name}: trained already", flush=True)
            continue
        config = TrainConfig(run_name=name, seed=settings.seed, write_reports=False).updated(values)
        print(f"  {name}: training ({label}) …", flush=True)
        with training_lock(name):
            train(config, run_dir=runs_dir / name, overwrite=True)


def _test_targets():
    from core.conditions import UNSPECIFIED
    from core.dataset import encode_frame, split_frame
    from core.evaluation.evaluate import _flat_targets, shipped_table

    test = split_frame(shipped_table(), "test")
    test = test.loc[test["chords"].astype(str).str.strip() != ""].reset_index(drop=True)
    encoded = encode_frame(test)
    windows, positions, targets = _flat_targets(encoded)
    genres = test["genre"].astype(str).str.strip().replace("", UNSPECIFIED).to_numpy()[windows]
    return encoded, windows, positions, targets, genres


def score_decoder(decoder, encoded, windows, positions, targets, genres) -> dict:
    """Token metrics (overall and per genre) of a decoder's distributions on the test targets."""
    from core.evaluation.evaluate import token_metrics
    from core.generation.decoder import sequence_log_probs

    inputs = encoded.inputs()
    conditions = np.concatenate([inputs[name] for name in ("genre_input", "mood_input", "key_input", "scale_type_input")],
                                axis=1)
    log_probs = sequence_log_probs(decoder, encoded.chord_input[:, 1:], conditions)
    probabilities = np.exp(log_probs[windows, positions])
    return {"metrics": token_metrics(probabilities, targets),
            "per_genre": {g: token_metrics(probabilities[genres == g], targets[genres == g])
                          for g in sorted(set(genres.tolist()))}}


def _training(folder: Path) -> dict:
    records = read_metrics(folder)
    epochs = epoch_records(records)
    loads = [r["load_average"] for r in epochs if isinstance(r.get("load_average"), int | float)]
    return {"epochs": len(epochs), "seconds": epochs[-1]["elapsed"] if epochs else None,
            "best_val_loss": min((r["val_loss"] for r in epochs if r.get("val_loss") is not None), default=None),
            "load_average": [min(loads), max(loads)] if loads else None}


def run(settings: StrategySettings | None = None, runs_dir: Path = RUNS_DIR) -> dict:
    """Train what is missing, then score every strategy on the test songs (see the module docstring)."""
    from core.generation.ensemble import EnsembleDecoder
    from core.generation.loading import load_generator

    settings = settings or StrategySettings()
    started = time.perf_counter()
    train_missing(settings, runs_dir)
    test = _test_targets()
    runs = strategy_runs(settings)
    decoders = {name: load_generator(runs_dir / name).decoder for name in runs}
    rows = []
    for name in ("strategy-plain", "strategy-curriculum", "strategy-substitution"):
        rows.append({"label": runs[name][0], "runs": [name], "training": _training(runs_dir / name),
                     **score_decoder(decoders[name], *test)})
    members = [name for name in runs if name.startswith("strategy-member")]
    trainings = [_training(runs_dir / name) for name in members]
    rows.append({"label": f"ensemble of {len(members)} runs, each {runs[members[0]][1]['epochs']} epochs (equal compute)",
                 "runs": members, "training": {"epochs": sum(t["epochs"] for t in trainings),
                                               "seconds": sum(t["seconds"] or 0 for t in trainings),
                                               "best_val_loss": None},
                 **score_decoder(EnsembleDecoder([decoders[name] for name in members]), *test)})
    both = ["strategy-plain", "strategy-plain-seed2"]
    trainings = [_training(runs_dir / name) for name in both]
    rows.append({"label": "ensemble of two plain runs, other seeds (twice the compute; reference)", "runs": both,
                 "training": {"epochs": sum(t["epochs"] for t in trainings),
                              "seconds": sum(t["seconds"] or 0 for t in trainings), "best_val_loss": None},
                 **score_decoder(EnsembleDecoder([decoders[name] for name in both]), *test)})
    plain = rows[0]["metrics"]
    for row in rows:
        row["perplexity_change"] = row["metrics"]["perplexity"] / plain["perplexity"] - 1.0
        row["top1_change_points"] = 100 * (row["metrics"]["top1"] - plain["top1"])
    return {"settings": settings.__dict__, "rows": rows, "seconds": time.perf_counter() - started,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
