"""A run folder's files: their names, atomic JSON writes, the metrics.jsonl log and the stop request.

Light on purpose (no TensorFlow): the Streamlit Training page polls runs through these helpers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
HISTORY_FILE = "history.json"
TRAINING_LOG_FILE = "training_log.csv"
MODEL_FILE = "model.keras"
BEST_CHECKPOINT = Path("checkpoints") / "best.keras"
LOGS_DIR = "logs"
STOP_FILE = "STOP"
#: keys of an epoch record in metrics.jsonl (besides ``status``, which is ``running``).
EPOCH_KEYS: tuple[str, ...] = (
    "epoch", "loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5", "lr", "seconds", "elapsed", "epochs_planned",
)
#: ``status`` of the record that closes a run's metrics.jsonl.
FINAL_STATUSES: tuple[str, ...] = ("finished", "stopped", "failed")


def write_json_atomic(path: Path, value: object) -> None:
    """Write JSON to ``path`` via a temporary file beside it and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def append_jsonl(path: Path, record: dict) -> None:
    """Append one JSON line and force it to disk, so a reader polling the file sees whole lines."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_metrics(run_dir: Path) -> list[dict]:
    """The records of a run's metrics.jsonl, oldest first (a half-written last line is skipped)."""
    path = Path(run_dir) / METRICS_FILE
    records = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def request_stop(run_dir: Path) -> None:
    """Ask the training running in ``run_dir`` to stop at the end of its current batch."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / STOP_FILE).write_text("stop requested\n", encoding="utf-8")
