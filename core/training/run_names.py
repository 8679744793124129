"""Where training runs live and what they may be called: the runs folder, a run's folder, a fresh run name.

Every other module of the studio's run handling (:mod:`core.training.processes`,
:mod:`core.training.follow`, :mod:`core.training.active_model`, :mod:`core.training.run_management`)
finds a run through these, so a name is checked the same way everywhere and a missing run is
always the same :class:`InputError`.
"""

from __future__ import annotations

from pathlib import Path

from core import paths
from core.config import RUN_NAME_PATTERN, SETTINGS
from core.errors import InputError


def runs_dir() -> Path:
    """The folder holding every run (``CHORDSMITH_OUTPUT``/runs)."""
    return paths.RUNS_DIR


def run_dir(run_name: str) -> Path:
    """The folder of one run; :class:`InputError` if the name is not a plain folder name."""
    if not RUN_NAME_PATTERN.match(run_name or ""):
        raise InputError(f"run name {run_name!r} is not usable: use {SETTINGS['run_name'].pattern_help}")
    return runs_dir() / run_name


def existing_run_dir(run_name: str) -> Path:
    """The folder of a run that exists; :class:`InputError` naming the run otherwise."""
    folder = run_dir(run_name)
    if not folder.is_dir():
        raise InputError(f"no run named {run_name!r} in {runs_dir()} (it may have been deleted)")
    return folder


def new_run_name(now: float | None = None) -> str:
    """A fresh time-stamped run name such as ``run-20250101-120000`` (suffixed if taken)."""
    return paths.stamped_name("run", runs_dir(), now)
