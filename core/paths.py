"""Where the studio keeps its files: the shipped corpus, the default model and run outputs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from core.errors import EnvironmentFault, InputError, os_error_message
from core.run_files import MODEL_FILE

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
CORPUS_TABLE = Path(os.environ.get("CHORDSMITH_CORPUS", DATA_DIR / "progressions.csv.gz"))
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_MODEL_DIR = MODELS_DIR / "default"
OUTPUT_DIR = Path(os.environ.get("CHORDSMITH_OUTPUT", REPO_ROOT / "output"))
RUNS_DIR = OUTPUT_DIR / "runs"
ACTIVE_MODEL_FILE = OUTPUT_DIR / "active_model.txt"


def active_model_dir() -> Path:
    """The studio's active model: the run chosen on the Training page, else ``models/default``.

    A damaged pointer (:func:`active_model_problem`) counts as no choice here, so the studio keeps
    working on the default while its pages show that one line; the command line refuses it
    instead (:func:`resolve_model_file`), rather than run another model than the one chosen.
    """
    chosen, _ = _read_pointer()
    return chosen if chosen is not None and (chosen / MODEL_FILE).exists() else DEFAULT_MODEL_DIR


def active_model_problem() -> str | None:
    """One line naming the active-model pointer when it cannot be read as one folder path; ``None`` when it is fine."""
    return _read_pointer()[1]


def _read_pointer() -> tuple[Path | None, str | None]:
    """The folder the pointer names (``None``: none) and what is wrong with it (``None``: nothing).

    The pointer is one short line, read with a bound (:data:`core.config.MAX_POINTER_BYTES`): a
    link to ``/dev/zero``, a folder in its place, bytes that are not UTF-8 or more than one line
    are a problem naming the file, never read to the end.
    """
    from core.bounded_reads import read_bounded_text
    from core.config import MAX_POINTER_BYTES

    if not os.path.lexists(ACTIVE_MODEL_FILE):
        return None, None
    remedy = "choose the model in use again on the Training page, or delete the file"
    try:
        text = read_bounded_text(ACTIVE_MODEL_FILE, MAX_POINTER_BYTES, "the active-model pointer", EnvironmentFault)
    except EnvironmentFault as error:
        return None, f"{error}: {remedy}"
    line = text.strip()
    if any(not character.isprintable() for character in line):
        return None, f"the active-model pointer {ACTIVE_MODEL_FILE} is not one folder path: {remedy}"
    return (Path(line) if line else None), None


def set_active_model_dir(model_dir: Path) -> None:
    """Make ``model_dir`` the studio's active model (written atomically)."""
    model_dir = Path(model_dir).resolve()
    if not (model_dir / MODEL_FILE).exists():
        raise InputError(f"no {MODEL_FILE} in {model_dir}")
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    tmp = ACTIVE_MODEL_FILE.with_suffix(".tmp")
    tmp.write_text(str(model_dir), encoding="utf-8")
    tmp.replace(ACTIVE_MODEL_FILE)


def resolve_model_file(path: str | Path | None) -> Path:
    """Turn a ``--model`` argument into the ``.keras`` file it names.

    ``None`` means the active model's ``model.keras``; a folder (a run folder, ``models/default``)
    means its ``model.keras``; any ``.keras`` file (``…/checkpoints/best.keras``) is taken as is.
    A missing folder or file is an :class:`InputError` naming the path.
    """
    if path is None:
        problem = active_model_problem()
        if problem is not None:
            raise EnvironmentFault(problem)
        model_file = active_model_dir() / MODEL_FILE
        if not model_file.exists():
            raise InputError(f"no trained model yet: {model_file} is missing (train one, or pass a run folder)")
        return model_file
    path = Path(path)
    if path.suffix == ".keras":
        if not path.is_file():
            raise InputError(f"model file not found: {path}")
        return path
    if not (path / MODEL_FILE).is_file():
        raise InputError(f"no {MODEL_FILE} in {path} (give a run folder or a .keras file)")
    return path / MODEL_FILE


def writable_dir(path: str | Path, what: str, *, from_flag: bool = False, create: bool = False) -> Path:
    """Check that ``path`` is, or can become, a folder this process may write in; returns it as a Path.

    Commands call it before their long work starts, so a blocked output path fails at once with one
    line. A file standing at ``path`` or at one of its parent folders is an :class:`InputError` when
    the path came from a flag (``from_flag``; ``what`` then names the flag, e.g. ``--out``), else an
    :class:`EnvironmentFault` (a default folder, ``CHORDSMITH_OUTPUT``); a folder without write
    permission or on a read-only file system is an :class:`EnvironmentFault`. ``create`` makes the
    folder (and its parents).
    """
    path = Path(path)
    _check_folder(path, f"{what} {path}", from_flag)
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EnvironmentFault(f"{what} {path} cannot be made: {os_error_message(error)}") from error
    return path


def writable_file(path: str | Path, what: str, *, from_flag: bool = False) -> Path:
    """Check that the file ``path`` can be written: no folder in its place, its folder as :func:`writable_dir` checks."""
    path = Path(path)
    if path.is_dir():
        message = f"{what} {path} is a folder; give a file path"
        raise InputError(message) if from_flag else EnvironmentFault(message)
    _check_folder(path.parent, f"{what} {path}", from_flag)
    return path


def _check_folder(folder: Path, named: str, from_flag: bool) -> None:
    """Raise the error :func:`writable_dir` describes when ``folder`` cannot be (made and) written in."""
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        blocked = f"{named} cannot be written: {existing} is a file, not a folder"
        if from_flag:
            raise InputError(f"{blocked} (give a path whose folders are folders or do not exist yet)")
        raise EnvironmentFault(f"{blocked} (move that file away, or choose another folder)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise EnvironmentFault(f"{named} cannot be written: no permission to write in {existing}")


def stamped_name(prefix: str, folder: Path, now: float | None = None) -> str:
    """``PREFIX-YYYYmmdd-HHMMSS`` in local time (``now``: epoch seconds, default now), suffixed ``-2``, ``-3`` …
    while ``folder`` already holds an entry of that name: the default name of a run or an import."""
    base = time.strftime(f"{prefix}-%Y%m%d-%H%M%S", time.localtime(now))
    name, n = base, 1
    while (folder / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def shown_path(path: str | Path) -> str:
    """``path`` as a page shows it, so a visitor never learns the server's layout: relative to the project
    (``output/runs/x``), under ``$CHORDSMITH_OUTPUT`` for an output folder set elsewhere, else its name alone."""
    path = Path(path)
    if not path.is_absolute():
        return str(path)
    for root, shown in ((REPO_ROOT, Path()), (OUTPUT_DIR, Path("$CHORDSMITH_OUTPUT"))):
        for base in (Path(root), Path(root).resolve()):
            if path == base or base in path.parents:
                return str(shown / path.relative_to(base))
    return path.name


def shown_paths(text: str) -> str:
    """``text`` (an error message) with the project's and the output folder's absolute paths as :func:`shown_path`."""
    bases = {str(base) for root in (OUTPUT_DIR, REPO_ROOT) for base in (Path(root), Path(root).resolve())}
    for base in sorted(bases, key=len, reverse=True):  # the longest first: the output folder inside the project
        shown = shown_path(base)
        text = text.replace(base + os.sep, "" if shown == "." else shown + os.sep).replace(base, shown)
    return text
