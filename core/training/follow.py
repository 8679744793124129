"""Following training runs: the list of runs, a run's progress and phase, its output, its before/after figures.

Everything here is read from the run folders (:mod:`core.training.run_folder`) and the training
lock (:mod:`core.training.lock`); nothing deletes files or signals processes, so the Training page
may poll it every 2 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import RUN_NAME_PATTERN
from core.run_files import FINAL_STATUSES, LIVE_STATUSES, PHASES, TEST_RESULTS_FILE, read_json
from core.training.lock import current_training
from core.training.run_folder import (
    RunSummary,
    epoch_records,
    phase_time_left,
    read_metrics,
    read_output_tail,
    read_phase,
    run_elapsed,
    summarize_run,
    summarize_runs,
)
from core.training.run_names import existing_run_dir, runs_dir


def list_runs() -> list[RunSummary]:
    """Every run folder under ``output/runs``, newest first, the one training now marked live."""
    lock = current_training()
    return summarize_runs(runs_dir(), lock.run if lock else None)



@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: for the progress bar, the epoch counter and the curves."""

    run: str
    status: str
    epoch: int
    epochs_planned: int | None
    elapsed_s: float
    eta_s: float | None
    records: list[dict[str, Any]]
    phase: str | None = None  # while live: a key of run_folder.PHASES (training, evaluating, ...)

    @property
    def phase_label(self) -> str:
        """The phase in words (``evaluating on the test songs``), or the status once the run is over."""
        return PHASES.get(self.phase or "", self.status)

    @property
    def fraction(self) -> float:
        """Share of the planned epochs done, 0..1 (1 once the run ended)."""
        if self.status in FINAL_STATUSES:
            return 1.0
        if not self.epochs_planned:
            return 0.0
        return min(1.0, self.epoch / self.epochs_planned)


def run_progress(run_name: str, now: float | None = None) -> RunProgress:
    """Epoch, epochs planned, elapsed time and ETA of a run, from its folder and the lock.

    The elapsed time is wall time since the run's launch (:func:`run_folder.run_elapsed`): it
    never goes backwards, live or over. The ETA is the mean epoch time times the epochs left,
    capped by what is left of the run's time budget (``max_minutes`` in its config); while the
    reports after training run (evaluating, writing samples), the time their share done so far
    says is left (:func:`run_folder.phase_time_left`); ``None`` before the first epoch ends or
    any of a report is done, and once the run is over.
    """
    folder = existing_run_dir(run_name)
    lock = current_training()
    holds_lock = lock is not None and lock.run == run_name
    summary = summarize_run(folder, training=holds_lock)
    records = read_metrics(folder)
    epochs = epoch_records(records)
    now = time.time() if now is None else now
    live = summary.status in LIVE_STATUSES
    session = lock.started if holds_lock and lock.started else None
    elapsed = run_elapsed(folder, records, live, now, session) or 0.0
    phase = live_phase(folder, session, bool(records)) if live else None
    eta: float | None = None
    if phase == "training" and epochs and summary.epochs_planned:
        seconds = [float(r["seconds"]) for r in epochs if isinstance(r.get("seconds"), int | float)]
        per_epoch = sum(seconds) / len(seconds) if seconds else elapsed / len(epochs)
        eta = max(0.0, per_epoch * (summary.epochs_planned - len(epochs)))
        budget = summary.config.max_minutes if summary.config is not None else None
        if isinstance(budget, int | float) and budget > 0:
            eta = min(eta, max(0.0, budget * 60 - elapsed))
    elif phase in ("evaluating", "sampling"):
        eta = phase_time_left(folder, now)  # the reports after training say how far they are
    return RunProgress(run_name, summary.status, len(epochs), summary.epochs_planned, elapsed, eta, records, phase)


def live_phase(folder: Path, session_started: float | None, started: bool) -> str:
    """What a live run's trainer is doing: its ``phase.json``, or ``starting`` before this session has written one.

    ``started``: the trainer has written its ``metrics.jsonl`` (a trainer that writes no
    ``phase.json`` is then taken to be training).
    """
    phase = read_phase(folder)
    if phase is None or phase.get("phase") not in PHASES:
        return "training" if started and phase is None else "starting"
    if session_started is not None and float(phase["launched"]) < session_started - 1.0:
        return "starting"  # an earlier session's file: this trainer is still loading
    return str(phase["phase"])


@dataclass(frozen=True)
class FineTuneResult:
    """A fine-tuned run's test songs scored by the model it started from (before) and by itself (after)."""

    songs: int
    tokens: int
    perplexity_before: float
    perplexity_after: float
    top1_before: float
    top1_after: float
    base: str  # the base model's path


def fine_tune_result(run_name: str) -> FineTuneResult | None:
    """Before and after on a fine-tuned run's held-out songs, from its ``test_results.json``.

    ``None`` for a run that was not fine-tuned, or has not been evaluated yet.
    """
    results = read_json(existing_run_dir(run_name) / TEST_RESULTS_FILE)
    models = results.get("models") if isinstance(results, dict) else None
    if not isinstance(models, dict) or not isinstance(models.get("base_lstm"), dict) or not isinstance(models.get("lstm"), dict):
        return None
    before, after = models["base_lstm"], models["lstm"]
    split = results.get("split", "test")
    return FineTuneResult(int(results.get(f"{split}_songs") or 0), int(after.get("tokens") or 0),
                          float(before["perplexity"]), float(after["perplexity"]), float(before["top1"]),
                          float(after["top1"]), str((results.get("base") or {}).get("path", "")))



def run_to_follow(requested: str | None = None) -> str | None:
    """The run the live panel shows: the one training now, else ``requested`` if it exists, else the newest."""
    lock = current_training()
    if lock is not None and RUN_NAME_PATTERN.match(lock.run) and (runs_dir() / lock.run).is_dir():
        return lock.run  # (a command-line run has no folder for its first seconds)
    if requested and RUN_NAME_PATTERN.match(requested) and (runs_dir() / requested).is_dir():
        return requested
    listed = list_runs()
    return listed[0].name if listed else None


def metrics_by_run(run_names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per-epoch records of several runs (for the comparison chart); :class:`InputError` for a missing run."""
    return {name: epoch_records(read_metrics(existing_run_dir(name))) for name in run_names}


def train_output_tail(run_name: str, lines: int = 30) -> str:
    """The last ``lines`` lines the trainer printed (``train.out``), empty if none."""
    return read_output_tail(existing_run_dir(run_name), lines)
