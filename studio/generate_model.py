"""Which model the Generate page writes with, and the name a link gives it so that it keeps its promise.

A link names its model ``NAME@DIGEST`` (:mod:`core.generation.identity`: the run's name, ``default``
for ``models/default``, and the start of the sha256 of the weights the sampler runs on); an
ensemble names each member, joined by ``+``. Opening a link uses the named model when this studio
has one with those weights, whatever model is active; otherwise the page says which model made
the link and goes on with the model in use, whose chords differ. The page shows the model it uses
and lets the user pick another (page-local: the other pages' active model stays).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.errors import EnvironmentFault, InputError
from core.generation.identity import ModelIdentity, find_model, model_identity, studio_models
from core.training.run_folder import MODEL_FILE
from studio.generate_url import model_name_and_digest

DEFAULT_NAME = "default"
MEMBER_SEPARATOR = "+"


@dataclass(frozen=True)
class ModelOption:
    """A model the page can write with: its folder and identity."""

    folder: Path
    identity: ModelIdentity

    @property
    def name(self) -> str:
        """The name part of its identity (``default`` or the run's name)."""
        return self.identity.name

    @property
    def label(self) -> str:
        """``models/default`` or ``run NAME``, for the picker."""
        return "models/default" if self.folder.resolve() == paths.DEFAULT_MODEL_DIR.resolve() else f"run {self.name}"


def options() -> tuple[list[ModelOption], str]:
    """Every model the page can use: the active one and :func:`core.generation.identity.studio_models`' (``models/default``
    and every run with a model). A model that cannot be read is left out; the second value says why when it is the
    active one (``""`` otherwise)."""
    folders = studio_models(paths.RUNS_DIR, paths.DEFAULT_MODEL_DIR)
    active_folder = paths.active_model_dir().resolve()
    if (active_folder / MODEL_FILE).is_file() and all(f.resolve() != active_folder for f in folders):
        folders.insert(0, active_folder)
    found, problem = [], ""
    for folder in folders:
        try:
            found.append(ModelOption(folder, model_identity(folder)))
        except (InputError, EnvironmentFault, OSError) as error:
            if folder.resolve() == active_folder:
                problem = f"The model in use ({folder}) cannot be used: {error}"
    return found, problem


def active(choices: list[ModelOption]) -> ModelOption | None:
    """The studio's active model among ``choices`` (``None`` when it is none of them)."""
    folder = paths.active_model_dir().resolve()
    return next((o for o in choices if o.folder.resolve() == folder), None)


def identity(members: list[ModelOption]) -> str:
    """The name a link gives these models (one, or an ensemble's members joined by ``+``)."""
    return MEMBER_SEPARATOR.join(m.identity.text for m in members)


def joined_folders(members: list[ModelOption]) -> str:
    """What the loaders take for these models: the folders joined by ``os.pathsep`` (an ensemble for several)."""
    return os.pathsep.join(str(m.folder) for m in members)


def find(named: str, choices: list[ModelOption]) -> tuple[list[ModelOption] | None, str]:
    """The models a link names (and ``""``), or ``None`` and a sentence saying which model made the link and why it is
    not used. A member with a digest is found by its weights (:func:`core.generation.identity.find_model`), one without
    by its name."""
    members = []
    for part in named.split(MEMBER_SEPARATOR):
        name, digest = model_name_and_digest(part)
        if digest:
            folder = find_model(ModelIdentity(name, digest), [c.folder for c in choices])
            match = next((c for c in choices if folder is not None and c.folder == folder), None)
        else:
            match = next((c for c in choices if c.name == name), None)
        if match is None:
            same_name = next((c for c in choices if c.name == name), None)
            why = (f"this studio's model called {name!r} has other weights ({same_name.identity.digest}): it was "
                   "retrained or replaced since" if same_name is not None else "this studio has no such model")
            return None, f"This link was made with model {named}, and {why}."
        members.append(match)
    return members, ""
