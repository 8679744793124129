"""Which model made a progression: a model's identity (name and weights digest), and finding a model by it.

A share link that only carries settings shows other chords as soon as the active model changes.
:func:`model_identity` names a model as ``NAME@DIGEST``: ``NAME`` is its run folder's name
(``default`` for ``models/default``; ``RUN.best`` for a run's ``checkpoints/best.keras``) and
``DIGEST`` the first :data:`DIGEST_LENGTH` hex digits of the sha256 of the weights the sampler
runs on, the framework-free ``model.inference.npz`` beside the model (:mod:`core.inference_weights`;
for attention models, which have none, the ``.keras`` file itself). The same weights give the
same identity wherever they are; a retrained or replaced model another.

:func:`find_model` looks through the studio's models (:func:`studio_models`: ``models/default``
and every run under ``output/runs`` with a model) for the one whose digest starts with a given
identity's, so a link can pin its model whatever is active, or say plainly that this studio does
not have it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from core.bounded_reads import read_bounded
from core.config import MAX_SMALL_JSON_BYTES, MODEL_DIGEST, RUN_NAME
from core.errors import EnvironmentFault, InputError
from core.generation.loading import Generator, load_generator
from core.inference_weights import file_sha256, weights_files
from core.paths import DEFAULT_MODEL_DIR, RUNS_DIR, resolve_model_file
from core.run_files import MODEL_FILE

#: hex digits of the sha256 an identity keeps (48 bits: no two models of one studio share them by chance).
DIGEST_LENGTH = 12
_IDENTITY = re.compile(rf"^(?P<name>{RUN_NAME})@(?P<digest>{MODEL_DIGEST})$")


@dataclass(frozen=True)
class ModelIdentity:
    """A model's name and the start of its weights' sha256; :attr:`text` is ``NAME@DIGEST``."""

    name: str
    digest: str

    @property
    def text(self) -> str:
        """``default@1a2b3c4d5e6f``: what a link carries."""
        return f"{self.name}@{self.digest}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> ModelIdentity:
        """Read ``NAME@DIGEST`` (a digest of 6 to 64 lower-case hex digits); :class:`InputError` otherwise."""
        match = _IDENTITY.match(str(text).strip())
        if not match:
            raise InputError(f"not a model identity: {str(text)[:80]!r} (expected NAME@DIGEST, e.g. default@1a2b3c4d5e6f)")
        return cls(match["name"], match["digest"])

    def same_weights(self, other: ModelIdentity) -> bool:
        """Whether both name the same weights (one digest starts with the other; names may differ)."""
        return self.digest.startswith(other.digest) or other.digest.startswith(self.digest)


def model_name(model_file: Path) -> str:
    """The name part of an identity for a ``.keras`` file (see the module docstring)."""
    model_file = Path(model_file)
    folder = model_file.parent
    if folder.name == "checkpoints":
        folder = folder.parent
    stem = model_file.name.removesuffix(".keras")
    name = folder.name if stem == Path(MODEL_FILE).stem else f"{folder.name}.{stem}"
    return re.sub(r"[^A-Za-z0-9._-]", "-", name).lstrip("._-")[:64] or "model"


def weights_digest(model_file: Path) -> str:
    """The sha256 (hex) of the weights the sampler runs on: the current inference npz, else the ``.keras`` file."""
    model_file = Path(model_file).resolve()
    npz_path, json_path = weights_files(model_file)
    for _ in range(2):
        try:
            description = json.loads(read_bounded(json_path, MAX_SMALL_JSON_BYTES, "the weights description"))
            current = description.get("source_sha256") == file_sha256(model_file)
        except (OSError, ValueError, AttributeError, RecursionError):
            current, description = False, {}
        if current and not description.get("fast", True):
            return file_sha256(model_file)  # attention models run through Keras: their file is their weights
        if current and npz_path.is_file():
            return file_sha256(npz_path)
        load_generator(model_file)  # derives and writes the copy (once) when it is missing or stale
    return file_sha256(model_file)  # a read-only folder without the copy: the model file names the weights


def model_identity(model: Generator | str | Path | None) -> ModelIdentity:
    """The identity of a loaded generator, a model folder or ``.keras`` file, or (``None``) the active model."""
    if isinstance(model, Generator):
        if model.model_file is None:
            raise InputError("an ensemble of models has no single identity: name one model")
        model_file = Path(model.model_file)
    else:
        model_file = resolve_model_file(model)
    return ModelIdentity(model_name(model_file), weights_digest(model_file)[:DIGEST_LENGTH])


def studio_models(runs_dir: Path | None = None, default_dir: Path | None = None) -> list[Path]:
    """The model folders this studio has: ``models/default`` first, then every run with a ``model.keras``, by name."""
    default_dir = DEFAULT_MODEL_DIR if default_dir is None else Path(default_dir)
    runs_dir = RUNS_DIR if runs_dir is None else Path(runs_dir)
    runs = sorted(p for p in runs_dir.glob("*") if (p / MODEL_FILE).is_file()) if runs_dir.is_dir() else []
    return ([default_dir] if (default_dir / MODEL_FILE).is_file() else []) + runs


def find_model(identity: ModelIdentity | str, folders: list[Path] | None = None) -> Path | None:
    """The studio model folder with ``identity``'s weights (the one of that name first), ``None`` when there is none.

    ``folders`` defaults to :func:`studio_models`. A model that cannot be read is skipped.
    """
    wanted = identity if isinstance(identity, ModelIdentity) else ModelIdentity.parse(identity)
    matches = []
    for folder in studio_models() if folders is None else folders:
        try:
            found = model_identity(folder)
        except (InputError, EnvironmentFault, OSError):  # a damaged or foreign model is not the one
            continue
        if found.same_weights(wanted):
            matches.append((found.name != wanted.name, folder))
    return min(matches)[1] if matches else None
