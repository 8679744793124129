"""Where the studio keeps its files: the shipped corpus, the default model and run outputs."""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import InputError

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
CORPUS_TABLE = Path(os.environ.get("CHORDSMITH_CORPUS", DATA_DIR / "progressions.csv.gz"))
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_MODEL_DIR = MODELS_DIR / "default"
OUTPUT_DIR = Path(os.environ.get("CHORDSMITH_OUTPUT", REPO_ROOT / "output"))
RUNS_DIR = OUTPUT_DIR / "runs"
ACTIVE_MODEL_FILE = OUTPUT_DIR / "active_model.txt"


def active_model_dir() -> Path:
    """The studio's active model: the run chosen on the Training page, else ``models/default``."""
    if ACTIVE_MODEL_FILE.exists():
        chosen = Path(ACTIVE_MODEL_FILE.read_text(encoding="utf-8").strip())
        if (chosen / "model.keras").exists():
            return chosen
    return DEFAULT_MODEL_DIR


def set_active_model_dir(model_dir: Path) -> None:
    """Make ``model_dir`` the studio's active model (written atomically)."""
    model_dir = Path(model_dir).resolve()
    if not (model_dir / "model.keras").exists():
        raise InputError(f"no model.keras in {model_dir}")
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = ACTIVE_MODEL_FILE.with_suffix(".tmp")
    tmp.write_text(str(model_dir), encoding="utf-8")
    tmp.replace(ACTIVE_MODEL_FILE)


def resolve_model_dir(path: str | Path | None) -> Path:
    """Turn a ``--model`` argument into a model folder holding ``model.keras``.

    ``None`` means the active model. A path to a ``.keras`` file means its folder. A missing
    folder or file is an :class:`InputError` naming the path.
    """
    if path is None:
        return active_model_dir()
    path = Path(path)
    if path.suffix == ".keras":
        if not path.exists():
            raise InputError(f"model file not found: {path}")
        return path.parent
    if not (path / "model.keras").exists():
        raise InputError(f"no model.keras in {path} (give a run folder or a .keras file)")
    return path
