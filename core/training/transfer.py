"""Transfer learning: the trained model a fine-tuning run starts from, and the network it starts with.

``python -m core train --init-from RUN_OR_MODEL`` (``TrainConfig.init_from``) names a run (by
name or folder), a model folder such as ``models/default``, or any ``.keras`` file. The run keeps
that model's architecture, copies its weights and trains on (usually on a subset: a genre, a
source, a mood, or a table of the user's own songs; see :mod:`core.training.run_data`). With
``freeze_embeddings`` the chord and condition embeddings keep the base model's values.

What a run started from is recorded in its ``config.json`` under ``"init"``: the model file's
path and a short hash of its content (:func:`describe_base`), so a later reader can tell whether
the base model is still the one the run was tuned from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core import paths
from core.config import RUN_NAME_PATTERN, ModelConfig
from core.errors import InputError

#: hex digits of the sha256 kept as a model's short hash.
SHORT_HASH_LENGTH = 12
#: the layers ``freeze_embeddings`` keeps as they are.
EMBEDDING_LAYERS: tuple[str, ...] = (
    "chord_embedding", "genre_embedding", "mood_embedding", "key_embedding", "scale_type_embedding",
)


def find_model_file(name: str) -> Path:
    """The ``.keras`` file ``name`` names: an existing path (folder or file), else a run name under output/runs.

    ``default`` names ``models/default`` when no run is called so. :class:`InputError` saying what
    was tried otherwise. (``--init-from`` and ``evaluate --model`` read their argument so.)
    """
    text = str(name).strip()
    candidate = Path(text).expanduser()
    if candidate.exists():
        return paths.resolve_model_file(candidate).resolve()
    if RUN_NAME_PATTERN.match(text):
        if (paths.RUNS_DIR / text).is_dir():
            return paths.resolve_model_file(paths.RUNS_DIR / text).resolve()
        if text == "default":
            return paths.resolve_model_file(paths.DEFAULT_MODEL_DIR).resolve()
    raise InputError(f"no model {text!r}: no such file or folder, and no run of that name in {paths.RUNS_DIR}")


def short_hash(model_file: Path) -> str:
    """The first :data:`SHORT_HASH_LENGTH` hex digits of the model file's sha256."""
    from core.inference_weights import file_sha256

    return file_sha256(Path(model_file))[:SHORT_HASH_LENGTH]


def describe_base(model_file: Path) -> dict[str, str]:
    """What ``config.json`` records under ``"init"``: ``{"path": …, "sha256": <short hash>}``."""
    return {"path": str(Path(model_file).resolve()), "sha256": short_hash(model_file)}


def base_model_file(init: Any) -> Path | None:
    """The base model file a run's ``"init"`` record names, when it is still there (else ``None``)."""
    if not isinstance(init, dict) or not isinstance(init.get("path"), str):
        return None
    path = Path(init["path"])
    return path if path.is_file() else None


def base_changed(init: dict[str, str], model_file: Path) -> bool:
    """Whether ``model_file`` is no longer the content the run recorded (retrained or replaced since)."""
    return short_hash(model_file) != init.get("sha256")


@dataclass
class BaseModel:
    """A loaded base model: where it came from, its architecture and its weights."""

    model_file: Path
    sha256: str
    model_config: ModelConfig
    weights: list

    def describe(self) -> dict[str, str]:
        """The ``"init"`` record of ``config.json``."""
        return {"path": str(self.model_file), "sha256": self.sha256}

    def network(self, freeze_embeddings: bool = False):
        """A new, uncompiled network with the base's architecture and weights (built in the caller's strategy scope)."""
        from core.model import build_model

        model = build_model(self.model_config)
        model.set_weights(self.weights)
        if freeze_embeddings:
            for name in EMBEDDING_LAYERS:
                model.get_layer(name).trainable = False
        return model


def load_base_model(init_from: str, condition_dropout: float) -> BaseModel:
    """Load the model ``init_from`` names (Keras); its config gets the run's ``condition_dropout`` (a training setting)."""
    from core.model import load_model, model_config_of

    model_file = find_model_file(init_from)
    keras_model = load_model(model_file, compile=False)
    config = replace(model_config_of(keras_model), condition_dropout=condition_dropout)
    return BaseModel(model_file, short_hash(model_file), config, keras_model.get_weights())
