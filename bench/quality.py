"""Model quality on the test songs: n-gram baselines, the default LSTM (with and without conditions) and variants.

One table, every row scored on the same test targets (chords plus ``END``, padding excluded, as
:mod:`core.evaluation.evaluate` counts them): top-1, top-5, perplexity, perplexity per genre and training
time. The n-gram baselines are fitted once on the train split. Models come from:

* ``models/default`` (or, until it is trained, the run given with ``--model``), scored with its
  conditions and with every condition set to 0 ("unspecified");
* the variant runs under ``output/runs/`` named in :data:`VARIANTS` (those that exist).

Goals checked: the default LSTM beats the best n-gram's perplexity by >= 15 % and its top-1 by
>= 5 points; conditioning lowers perplexity.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.paths import RUNS_DIR
from core.run_files import CONFIG_FILE, METRICS_FILE, MODEL_FILE

#: variant run name -> (label, the train flags that made it).
VARIANTS: dict[str, tuple[str, str]] = {
    "var-units512-emb256": ("LSTM 512 units, embedding 256", "--lstm-units 512 --embedding-dim 256"),
    "var-dropout0.4": ("LSTM, dropout 0.4", "--dropout 0.4"),
    "var-dropout0.5": ("LSTM, dropout 0.5", "--dropout 0.5"),
    "var-gru": ("GRU cell", "--cell gru"),
    "var-attention": ("LSTM + causal self-attention", "--attention"),
}
#: other runs shown when present: the default configuration on a short budget (the development run).
REFERENCE_RUNS: dict[str, str] = {"dev-quick": "LSTM (default config), short budget",
                                   "default-lr8-e30": "LSTM, Adam 8e-3 peak over 30 epochs (converged)"}
#: ensembles scored beside the default: label -> the runs whose probabilities are averaged with the default's
#: (each member costs a full decoder step per chord, so these cost that many times the default to generate).
ENSEMBLES: dict[str, tuple[str, ...]] = {
    "ensemble: default + Adam 8e-3 run (2x generation cost)": ("default-lr8-e30",),
}
PPL_GOAL = 0.15
TOP1_GOAL = 0.05


@dataclass
class ModelRow:
    """One scored model: its metrics overall and per genre, and how it was trained."""

    label: str
    source: str
    metrics: dict
    per_genre: dict[str, dict]
    training: dict


def run_training_info(folder: Path | None) -> dict:
    """Training time, stop reason, epochs and time budget from a run folder's metrics.jsonl and config.json."""
    if folder is None:
        return {}
    info: dict = {}
    metrics = Path(folder) / METRICS_FILE
    if metrics.exists():
        records = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
        final = [r for r in records if r.get("status") in ("finished", "stopped", "failed")]
        epochs = [r for r in records if r.get("status") == "running"]
        if final:
            info.update(seconds=final[-1].get("elapsed"), status=final[-1].get("status"), reason=final[-1].get("reason"),
                        epochs=final[-1].get("epochs_completed"), best_val_loss=final[-1].get("best_val_loss"))
        elif epochs:
            info.update(seconds=epochs[-1].get("elapsed"), status="running", epochs=epochs[-1].get("epoch"))
    config = Path(folder) / CONFIG_FILE
    if config.exists():
        train = json.loads(config.read_text(encoding="utf-8")).get("train", {})
        info.update(max_minutes=train.get("max_minutes"), batch_size=train.get("batch_size"),
                    max_train_windows=train.get("max_train_windows"))
    return info


def epoch_curve(folder: Path) -> list[dict]:
    """``[{epoch, elapsed, val_loss}]`` from a run's metrics.jsonl (to compare variants at equal training time)."""
    metrics = Path(folder) / METRICS_FILE
    if not metrics.exists():
        return []
    records = [json.loads(line) for line in metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{k: r.get(k) for k in ("epoch", "elapsed", "val_loss")} for r in records if r.get("status") == "running"]


def _score(distributions: np.ndarray, targets: np.ndarray, genres: np.ndarray) -> tuple[dict, dict]:
    from core.evaluation.evaluate import token_metrics

    overall = token_metrics(distributions, targets)
    per_genre = {g: token_metrics(distributions[genres == g], targets[genres == g]) for g in sorted(set(genres.tolist()))}
    return overall, per_genre


def evaluate_all(default_dir: Path, variant_dirs: dict[str, Path] | None = None, frame=None) -> dict:
    """Score baselines, the default model (conditioned and not) and the variants on the test split."""
    from core.conditions import UNSPECIFIED
    from core.dataset import CONDITION_INPUTS, encode_frame, split_frame
    from core.evaluation.evaluate import (
        _flat_targets,
        _unconditioned,
        keras_predictor,
        ngram_probabilities,
        shipped_table,
        training_sequences,
    )
    from core.evaluation.ngram import fit_baselines
    from core.model import load_model

    frame = shipped_table() if frame is None else frame
    test = split_frame(frame, "test")
    test = test.loc[test["chords"].astype(str).str.strip() != ""].reset_index(drop=True)
    encoded = encode_frame(test)
    windows, positions, targets = _flat_targets(encoded)
    genres = test["genre"].astype(str).str.strip().replace("", UNSPECIFIED).to_numpy()[windows]
    rows: list[ModelRow] = []
    sequences = training_sequences(encode_frame(split_frame(frame, "train")))
    fit_start = time.perf_counter()
    baselines = fit_baselines(sequences)
    fit_seconds = time.perf_counter() - fit_start
    for name, baseline in baselines.items():
        overall, per_genre = _score(ngram_probabilities(baseline, encoded, windows, positions), targets, genres)
        rows.append(ModelRow(f"{name} (Kneser-Ney)" if name != "unigram" else "unigram (add-1)", "train split counts",
                             overall, per_genre, {"seconds": fit_seconds, "note": "all three n-grams fitted together"}))

    inputs = encoded.inputs()

    predictions: dict[Path, np.ndarray] = {}

    def lstm_rows(label: str, folder: Path, with_unconditioned: bool) -> None:
        predict = keras_predictor(load_model(folder / MODEL_FILE, compile=False))
        predictions[folder] = predict(inputs)[windows, positions]
        overall, per_genre = _score(predictions[folder], targets, genres)
        info = run_training_info(folder)
        rows.append(ModelRow(label, str(folder), overall, per_genre, info))
        if with_unconditioned:
            overall, per_genre = _score(predict(_unconditioned(inputs))[windows, positions], targets, genres)
            rows.append(ModelRow(f"{label}, all conditions unspecified", str(folder), overall, per_genre, info))
            for condition, input_name in CONDITION_INPUTS.items():  # one condition blanked at a time
                blanked = {**inputs, input_name: np.zeros_like(inputs[input_name])}
                overall, per_genre = _score(predict(blanked)[windows, positions], targets, genres)
                rows.append(ModelRow(f"{label}, {condition} unspecified", str(folder), overall, per_genre, info))

    lstm_rows("LSTM (default)", default_dir, with_unconditioned=True)
    for run_name, folder in (variant_dirs or {}).items():
        label = VARIANTS[run_name][0] if run_name in VARIANTS else REFERENCE_RUNS.get(run_name, run_name)
        lstm_rows(label, folder, with_unconditioned=False)
    for label, members in ENSEMBLES.items():  # averaged next-chord probabilities, as core.generation.ensemble does
        folders = [default_dir, *((variant_dirs or {}).get(name) for name in members)]
        if all(folder in predictions for folder in folders):
            overall, per_genre = _score(np.mean([predictions[folder] for folder in folders], axis=0), targets, genres)
            rows.append(ModelRow(label, " + ".join(map(str, folders)), overall, per_genre, {}))
    return {
        "default_curve": epoch_curve(default_dir),
        "test_songs": int(test["song_id"].nunique()),
        "test_windows": int(len(encoded)),
        "test_tokens": int(len(targets)),
        "genre_tokens": {g: int((genres == g).sum()) for g in sorted(set(genres.tolist()))},
        "rows": [row.__dict__ for row in rows],
        "goals": goals([row.__dict__ for row in rows]),
    }


def goals(rows: list[dict]) -> dict:
    """The issue's goals, checked on the default LSTM's row against the best n-gram."""
    by_label = {row["label"]: row for row in rows}
    ngrams = [row for row in rows if "gram" in row["label"]]
    default = by_label.get("LSTM (default)")
    unconditioned = by_label.get("LSTM (default), all conditions unspecified")
    if default is None or not ngrams:
        return {}
    best_ppl = min(ngrams, key=lambda r: r["metrics"]["perplexity"])
    best_top1 = max(ngrams, key=lambda r: r["metrics"]["top1"])
    ppl_gain = 1.0 - default["metrics"]["perplexity"] / best_ppl["metrics"]["perplexity"]
    top1_gain = default["metrics"]["top1"] - best_top1["metrics"]["top1"]
    out = {
        "best_ngram_perplexity": {"label": best_ppl["label"], "value": best_ppl["metrics"]["perplexity"]},
        "best_ngram_top1": {"label": best_top1["label"], "value": best_top1["metrics"]["top1"]},
        "perplexity_reduction": ppl_gain, "perplexity_goal_met": bool(ppl_gain >= PPL_GOAL),
        "top1_gain_points": 100 * top1_gain, "top1_goal_met": bool(top1_gain >= TOP1_GOAL),
    }
    if unconditioned is not None:
        gain = 1.0 - default["metrics"]["perplexity"] / unconditioned["metrics"]["perplexity"]
        out.update(conditioning_perplexity_reduction=gain, conditioning_goal_met=bool(gain > 0))
    return out


def variant_dirs(runs_dir: Path = RUNS_DIR) -> dict[str, Path]:
    """The reference and variant runs that have a model, in :data:`REFERENCE_RUNS` then :data:`VARIANTS` order."""
    names = [*REFERENCE_RUNS, *VARIANTS]
    return {name: runs_dir / name for name in names if (runs_dir / name / MODEL_FILE).exists()}
