"""How the Training page shows runs: the runs table, durations, and the TensorBoard command for a run.

Display only: what a run is and where it stands comes from :mod:`core.training.run_folder` and
:mod:`core.training.follow`; this module turns it into the page's words and DataFrame.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import pandas as pd

from core.config import TrainConfig
from core.paths import shown_path
from core.run_files import LOGS_DIR
from core.training import run_names
from core.training.run_folder import RunSummary

#: the runs table's columns, in order.
COLUMNS: tuple[str, ...] = ("run", "status", "epochs", "best val loss", "test top-1", "test top-5", "duration", "started",
                            "data", "settings", "ended because")
#: (setting, short label) of the settings the table's ``settings`` column names (training or model settings).
_SETTING_LABELS: tuple[tuple[str, str], ...] = (
    ("chord_encoding", "chords"), ("cell", "cell"), ("lstm_layers", "layers"), ("lstm_units", "units"), ("embedding_dim", "emb"),
    ("dropout", "dropout"), ("attention", "attention"), ("lr", "lr"), ("batch_size", "batch"), ("augment", "augment"),
    ("max_train_windows", "windows"),
)


def format_duration(seconds: float | None) -> str:
    """``1h 02m``, ``3m 05s`` or ``42s``; an em dash for ``None``."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def runs_frame(summaries: list[RunSummary]) -> pd.DataFrame:
    """The runs as a table of text for the page: name, status, epochs, best val loss, test top-1/top-5, duration, data, settings.

    Every cell is text; a figure a run does not have yet is an em dash (never a raw ``None``).
    """
    rows = []
    for run in summaries:
        rows.append({
            "run": run.name,
            "status": run.status,
            "epochs": f"{run.epochs_done}/{run.epochs_planned}" if run.epochs_planned else str(run.epochs_done),
            "best val loss": "—" if run.best_val_loss is None else f"{run.best_val_loss:.3f}",
            "test top-1": _percent(run.test_top1),
            "test top-5": _percent(run.test_top5),
            "duration": format_duration(run.duration_s),
            "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)) if run.started else "",
            "data": data_text(run.config),
            "settings": settings_text(run.config),
            "ended because": run.reason,
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def settings_text(config: TrainConfig | None) -> str:
    """``cell lstm, layers 2, units 256, …``: the settings a run was trained with (empty without a config)."""
    if config is None:
        return ""
    values = {name: getattr(config if name in TrainConfig.settings() else config.model, name) for name, _ in _SETTING_LABELS}
    return ", ".join(f"{label} {values[name]}" for name, label in _SETTING_LABELS if values[name] is not None)


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.1%}"


def data_text(config: TrainConfig | None) -> str:
    """What a run learnt from: ``corpus``, ``corpus, genre jazz``, ``your songs (mine)``, with ``fine-tuned from default``."""
    if config is None:
        return ""
    table = "corpus" if config.corpus_table is None else f"your songs ({Path(config.corpus_table).parent.name})"
    parts = [table, *(f"{name} {value}" for name, value in config.subset().items())]
    if config.init_from is not None:
        parts.append(f"fine-tuned from {Path(config.init_from).name}")
    return ", ".join(parts)


def tensorboard_command(run_name: str) -> str:
    """The shell command that opens TensorBoard on a run's logs (:class:`InputError` for a bad run name).

    The path is relative to the project (run the command there): a visitor never learns the server's layout.
    """
    shown = shown_path(run_names.run_dir(run_name) / LOGS_DIR)
    variable, _, under = shown.partition("/")
    if variable == "$CHORDSMITH_OUTPUT":  # an output folder outside the project: the shell expands the variable
        return f'tensorboard --logdir "$CHORDSMITH_OUTPUT"/{shlex.quote(under)}'
    return f"tensorboard --logdir {shlex.quote(shown)}"
