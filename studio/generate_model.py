"""Which model the Generate page writes with, and the name a link gives it so that it keeps its promise.

A link names its model ``NAME@DIGEST`` (:mod:`core.generation.identity`: the run's name, ``default``
for ``models/default``, and the start of the sha256 of the weights the sampler runs on); an
ensemble names each member, joined by ``+``. Opening a link uses the named model when this studio
has one with those weights, whatever model is active; otherwise the page says which model made
the link and goes on with the model in use, whose chords differ. The page shows the model it uses
and lets the user pick another (page-local: the other pages' active model stays).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.errors import EnvironmentFault, InputError
from core.generation.identity import ModelIdentity, find_model, model_identity, model_name, studio_models
from core.run_files import MODEL_FILE
from studio.generate_url import model_name_and_digest

DEFAULT_NAME = "default"
MEMBER_SEPARATOR = "+"


@dataclass(frozen=True)
class ModelOption:
    """A model the page can write with: its folder and the name its identity carries (the identity itself is read
    only when needed: it hashes the model's weights)."""

    folder: Path
    name: str

    @property
    def identity(self) -> ModelIdentity:
        """``NAME@DIGEST`` (:func:`core.generation.identity.model_identity`); :class:`InputError` or
        :class:`EnvironmentFault` when the model cannot be read."""
        return model_identity(self.folder)

    @property
    def label(self) -> str:
        """``models/default`` or ``run NAME``, for the picker."""
        return "models/default" if self.folder.resolve() == paths.DEFAULT_MODEL_DIR.resolve() else f"run {self.name}"


def options() -> list[ModelOption]:
    """Every model the page can use: the active one and :func:`core.generation.identity.studio_models`'
    (``models/default`` and every run with a model)."""
    folders = studio_models(paths.RUNS_DIR, paths.DEFAULT_MODEL_DIR)
    active_folder = paths.active_model_dir().resolve()
    if (active_folder / MODEL_FILE).is_file() and all(f.resolve() != active_folder for f in folders):
        folders.insert(0, active_folder)
    return [ModelOption(folder, model_name(folder / MODEL_FILE)) for folder in folders]


def active(choices: list[ModelOption]) -> ModelOption | None:
    """The studio's active model among ``choices`` (``None`` when it is none of them)."""
    folder = paths.active_model_dir().resolve()
    return next((o for o in choices if o.folder.resolve() == folder), None)


def identity(members: list[ModelOption]) -> str:
    """The name a link gives these models (one, or an ensemble's members joined by ``+``); raises like
    :attr:`ModelOption.identity`."""
    return MEMBER_SEPARATOR.join(m.identity.text for m in members)


def find(named: str, choices: list[ModelOption]) -> tuple[list[ModelOption] | None, str]:
    """The models a link names (and ``""``), or ``None`` and a sentence saying which model made the link and why it is
    not used. A member with a digest is found by its weights (the model of that name first, then any:
    :func:`core.generation.identity.find_model`), one without by its name."""
    members = []
    for part in named.split(MEMBER_SEPARATOR):
        name, digest = model_name_and_digest(part)
        same_name = next((c for c in choices if c.name == name), None)
        match = same_name if not digest else _with_weights(ModelIdentity(name, digest), same_name, choices)
        if match is None:
            why = ("this studio has no such model" if same_name is None else
                   f"this studio's model called {name!r} has other weights: it was retrained or replaced since")
            return None, f"This link was made with model {named}, and {why}."
        members.append(match)
    return members, ""


def _with_weights(wanted: ModelIdentity, first: ModelOption | None, choices: list[ModelOption]) -> ModelOption | None:
    if first is not None:
        with contextlib.suppress(InputError, EnvironmentFault, OSError):
            if first.identity.same_weights(wanted):
                return first
    folder = find_model(wanted, [c.folder for c in choices])
    return next((c for c in choices if folder is not None and c.folder == folder), None)
