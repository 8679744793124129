"""The studio's active model: which run (or the shipped default) the pages generate with, and its test figures.

The choice is kept by :mod:`core.paths` (``output/active_model``); this module offers the models
that can be chosen, makes one active, and describes the one in use for the Home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.errors import InputError
from core.run_files import MODEL_FILE, TEST_RESULTS_FILE, read_json
from core.training.follow import list_runs
from core.training.run_folder import flatten_numbers, model_test_accuracy
from core.training.run_names import existing_run_dir, runs_dir


def set_active(run_name: str) -> Path:
    """Make a finished run the studio's active model; returns its folder."""
    folder = existing_run_dir(run_name)
    if not (folder / MODEL_FILE).exists():
        raise InputError(f"run {run_name!r} has no {MODEL_FILE} yet (it has not finished)")
    paths.set_active_model_dir(folder)
    return folder


def active_run_name() -> str | None:
    """Name of the run in use as the active model, or ``None`` when it is ``models/default``."""
    active = paths.active_model_dir().resolve()
    return active.name if active.parent == runs_dir().resolve() else None


def use_default_model() -> None:
    """Make the shipped default (``models/default``) the studio's active model again."""
    paths.ACTIVE_MODEL_FILE.unlink(missing_ok=True)


@dataclass(frozen=True)
class ModelChoice:
    """A model the studio can make active: the shipped default or a run with a model."""

    label: str  # "models/default (shipped)" or the run's name
    folder: Path
    run: str | None  # None: the shipped default


#: the label of the shipped default among the model choices.
DEFAULT_MODEL_LABEL = "models/default (shipped)"


def model_choices() -> list[ModelChoice]:
    """The models that can be made active: the shipped default first (always), then every run with a model, newest first."""
    default = ModelChoice(DEFAULT_MODEL_LABEL, paths.DEFAULT_MODEL_DIR, None)
    return [default, *(ModelChoice(run.name, run.folder, run.name) for run in list_runs() if run.has_model)]


def activate(choice: ModelChoice) -> None:
    """Make ``choice`` the active model (:func:`use_default_model` for the default, :func:`set_active` for a run)."""
    if choice.run is None:
        use_default_model()
    else:
        set_active(choice.run)



@dataclass(frozen=True)
class ModelInUse:
    """The active model as the Home page shows it."""

    folder: Path
    label: str  # "run <name>" or "models/default"
    exists: bool  # model.keras is there
    test_top1: float | None
    test_top5: float | None
    test_metrics: dict[str, float]  # the models' test figures, flattened ("lstm.top1": 0.41, "bigram.perplexity": 12.0)


def model_in_use() -> ModelInUse:
    """The active model (a run chosen on the Training page, else ``models/default``) with its test results."""
    folder = paths.active_model_dir()
    run_name = active_run_name()
    label = f"run {run_name}" if run_name else (
        "models/default" if folder.resolve() == paths.DEFAULT_MODEL_DIR.resolve() else str(folder)
    )
    results = read_json(folder / TEST_RESULTS_FILE)
    top1, top5 = model_test_accuracy(results)
    headline = results["models"] if isinstance(results, dict) and isinstance(results.get("models"), dict) else results
    return ModelInUse(folder, label, (folder / MODEL_FILE).exists(), top1, top5, flatten_numbers(headline))
