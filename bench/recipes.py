"""The recipe experiments behind the studio's default: validation loss per epoch of each recipe tried, on the full corpus.

    python -m bench.recipes            # collect the runs below into bench/recipes.json (rendered in results.md)

Each experiment is an ordinary run (``python -m core train --run-name NAME FLAGS --no-reports``,
flags in :data:`EXPERIMENTS`), trained one at a time under the training lock while the machine was
shared; this module only reads their ``metrics.jsonl`` (epoch records carry the load average and the
trainer's CPU seconds, the load-proof cost). The guide recipe's curve is the shipped model it replaced
(``git show 84be56b:models/default/metrics.jsonl``: batch 32, Adam 1e-3, constant). What the
table answers: how many epochs each recipe needs to a validation loss, and what an epoch costs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.results_store import RECIPES_JSON, save
from core.paths import DEFAULT_MODEL_DIR, REPO_ROOT, RUNS_DIR
from core.run_files import read_json
from core.training.run_folder import epoch_records

#: the commit whose models/default was trained with the guide's recipe (the baseline curve).
GUIDE_COMMIT = "84be56b"
#: run name -> (label, the train flags that made it).
EXPERIMENTS: dict[str, tuple[str, str]] = {
    "ttq-b256-lr3e-3": ("batch 256, Adam 3e-3, 1-epoch warm-up, cosine over 8 (stopped after 1)",
                        "--batch-size 256 --lr 0.003 --schedule cosine --warmup-epochs 1 --epochs 8"),
    "ttq-b256-lr4e-3-w02-e6": ("batch 256, Adam 4e-3, 0.2-epoch warm-up, cosine over 6",
                               "--batch-size 256 --lr 0.004 --schedule cosine --warmup-epochs 0.2 --epochs 6"),
    "ttq-b64-lr2e-3-w03-e8": ("batch 64, Adam 2e-3, 0.3-epoch warm-up, cosine over 8 (stopped after 1)",
                              "--batch-size 64 --lr 0.002 --schedule cosine --warmup-epochs 0.3 --epochs 8"),
    "ttq-b64-bf16-lr2e-3-e8": ("batch 64, Adam 2e-3, 0.3-epoch warm-up, cosine over 8, bfloat16",
                               "--batch-size 64 --lr 0.002 --schedule cosine --warmup-epochs 0.3 --epochs 8 "
                               "--mixed-precision"),
    "exp-noaug-e6": ("batch 64, Adam 2e-3, cosine over 6, bfloat16, no transposition",
                     "--lr 0.002 --epochs 6 --no-augment"),
    "exp-d01-e6": ("batch 64, Adam 2e-3, cosine over 6, bfloat16, dropout 0.1",
                   "--lr 0.002 --epochs 6 --dropout 0.1"),
    "exp-lr4-e6": ("batch 64, Adam 4e-3, cosine over 6, bfloat16", "--lr 0.004 --epochs 6"),
    "exp-lr8-e6": ("batch 64, Adam 8e-3, cosine over 6, bfloat16", "--lr 0.008 --epochs 6"),
    "exp-gru-lr8-e6": ("batch 64, Adam 8e-3, cosine over 6, bfloat16, GRU cell", "--lr 0.008 --epochs 6 --cell gru"),
    "exp-lr8-e8": ("batch 64, Adam 8e-3, cosine over 8, bfloat16", "--lr 0.008 --epochs 8"),
    "default-lr8-e30": ("batch 64, Adam 8e-3, cosine over 30, bfloat16 (the studio's rate run to convergence)",
                        "--lr 0.008 --epochs 30"),
}
TARGET = 2.285


def _curve(records: list[dict]) -> list[dict]:
    epochs = epoch_records(records)
    out, previous_cpu = [], None
    for record in epochs:
        cpu = record.get("cpu_seconds")
        out.append({"epoch": record["epoch"], "val_loss": record.get("val_loss"), "seconds": record.get("seconds"),
                    "cpu_s": None if cpu is None or previous_cpu is None else round(cpu - previous_cpu, 1),
                    "load": record.get("load_average")})
        previous_cpu = cpu
    return out


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def collect(runs_dir: Path = RUNS_DIR) -> dict:
    """Every experiment found, and the guide's curve, as ``{"rows": [...], "target": 2.285}``."""
    guide = subprocess.run(["git", "show", f"{GUIDE_COMMIT}:models/default/metrics.jsonl"], cwd=REPO_ROOT,
                           capture_output=True, text=True, check=True).stdout
    rows = [{"run": f"models/default @ {GUIDE_COMMIT}", "label": "guide: batch 32, Adam 1e-3 constant (the old default)",
             "flags": "--recipe guide", "curve": _curve(_records(guide))}]
    for name, (label, flags) in EXPERIMENTS.items():
        path = runs_dir / name / "metrics.jsonl"
        if path.exists():
            rows.append({"run": name, "label": label, "flags": flags, "curve": _curve(_records(path.read_text()))})
    shipped = DEFAULT_MODEL_DIR / "metrics.jsonl"
    config = read_json(DEFAULT_MODEL_DIR / "config.json") or {}
    if shipped.exists() and config.get("train", {}).get("schedule") == "cosine":  # the default retrained with the recipe
        train = config["train"]
        label = (f"the shipped default: batch {train['batch_size']}, Adam {train['lr']:g}, cosine over {train['epochs']}"
                 f"{', bfloat16' if train.get('mixed_precision') else ''}")
        rows.append({"run": "models/default", "label": label, "flags": "--reproduce-default",
                     "curve": _curve(_records(shipped.read_text()))})
    for row in rows:
        reached = [p["epoch"] for p in row["curve"] if p["val_loss"] is not None and p["val_loss"] <= TARGET]
        row["epochs_to_target"] = reached[0] if reached else None
        row["best_val_loss"] = min((p["val_loss"] for p in row["curve"] if p["val_loss"] is not None), default=None)
    return {"target": TARGET, "rows": rows}


if __name__ == "__main__":
    print(f"wrote {RECIPES_JSON} and {save(RECIPES_JSON, collect())}", file=sys.stderr)
