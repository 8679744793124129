"""Managing finished runs: rename, delete, download as a zip; never a run that is training now.

The active model follows a rename and falls back to the shipped default when its run is deleted
(:mod:`core.training.active_model`).
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

from core import paths
from core.errors import InputError
from core.run_files import CONFIG_FILE, read_json, write_json_atomic
from core.training.active_model import active_run_name, use_default_model
from core.training.lock import current_training
from core.training.run_names import existing_run_dir, run_dir


def _not_training(run_name: str, doing: str) -> Path:
    """The run's folder, or :class:`InputError` when it is training now (it must be stopped first)."""
    folder = existing_run_dir(run_name)
    lock = current_training()
    if lock is not None and lock.run == run_name:
        raise InputError(f"run {run_name!r} is training now: stop it (or wait for it to end) before you {doing} it")
    return folder


def rename_run(run_name: str, new_name: str) -> Path:
    """Rename a run that is not training (its folder and the name in its ``config.json``); returns the new folder.

    The active model follows the rename. :class:`InputError` for an unusable or taken name.
    """
    new_name = (new_name or "").strip()
    target = run_dir(new_name)
    folder = _not_training(run_name, "rename")
    if new_name == run_name:
        return folder
    if target.exists():
        raise InputError(f"a run named {new_name!r} already exists; choose another name")
    was_active = active_run_name() == run_name
    os.rename(folder, target)
    config = read_json(target / CONFIG_FILE)
    if isinstance(config, dict) and isinstance(config.get("train"), dict):
        config["train"]["run_name"] = new_name
        write_json_atomic(target / CONFIG_FILE, config)
    if was_active:
        paths.set_active_model_dir(target)
    return target


def delete_run(run_name: str) -> bool:
    """Delete a run that is not training, with every file in it; returns whether it was the active model.

    When it was, the shipped default becomes the active model again.
    """
    folder = _not_training(run_name, "delete")
    was_active = active_run_name() == run_name
    if was_active:
        use_default_model()
    shutil.rmtree(folder)
    return was_active


def run_zip(run_name: str) -> bytes:
    """A run folder as a zip archive (``<run>/…`` inside; half-written partial files left out)."""
    folder = existing_run_dir(run_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and ".partial" not in path.name and "-partial" not in path.name:
                archive.write(path, Path(run_name) / path.relative_to(folder))
    return buffer.getvalue()
