"""Which model the benchmarks time: a trained one when there is one, else a default-size model with random weights.

Speed depends on the architecture, not on the weights (except where sampled ``END`` tokens
shorten a progression), so the speed benchmarks can run before any model is trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.paths import DEFAULT_MODEL_DIR, RUNS_DIR
from core.run_files import MODEL_FILE


@dataclass
class BenchModel:
    """A Keras model and where it came from (a folder, or ``random weights (default config)``)."""

    model: object
    source: str
    folder: Path | None


def trained_model_dir(requested: str | Path | None = None) -> Path | None:
    """``requested`` if given, else ``models/default`` if trained, else the newest run with a model, else ``None``."""
    if requested is not None:
        folder = Path(requested)
        return folder.parent if folder.suffix == ".keras" else folder
    if (DEFAULT_MODEL_DIR / MODEL_FILE).exists():
        return DEFAULT_MODEL_DIR
    runs = sorted(RUNS_DIR.glob(f"*/{MODEL_FILE}"), key=lambda p: p.stat().st_mtime) if RUNS_DIR.exists() else []
    return runs[-1].parent if runs else None


def random_default_model(seed: int = 0):
    """The default architecture with weights ~ N(0, 0.1) (speed stand-in when nothing is trained)."""
    from core.config import ModelConfig
    from core.model import build_model

    model = build_model(ModelConfig())
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.1, w.shape).astype("float32") for w in model.get_weights()])
    return model


def bench_model(requested: str | Path | None = None) -> BenchModel:
    """The model to time (see :func:`trained_model_dir`)."""
    from core.model import load_model

    folder = trained_model_dir(requested)
    if folder is None:
        return BenchModel(random_default_model(), "random weights (default config; no trained model found)", None)
    return BenchModel(load_model(folder / MODEL_FILE, compile=False), str(folder), folder)
