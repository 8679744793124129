"""Why a model file cannot be used, said in one line: a damaged or foreign file, code refused, another corpus.

Every loader of a trained model (:func:`core.model.load_model` for Keras work,
:func:`core.generation.loading.load_generator` for inference) turns its failure into a
:class:`core.errors.ModelFault` built here, so the command line prints one ``error:`` line and
exits 1, the API refuses to start with that line, and the pages show it with ``st.error``.

The file is examined only once a load has failed (nothing here costs a working model anything):

* empty, not a zip archive (garbage, an HDF5 ``.h5`` file renamed), a zip cut short (copied or
  saved incompletely), a zip whose members fail their CRC, a zip without Keras's ``config.json``;
* a zip bomb: more entries, or members unpacking to more bytes, than :data:`MODEL_LIMITS` allow
  (:func:`check_model_archive`, which every loader calls first: refused before anything is inflated);
* refused by Keras's safe mode (a ``Lambda`` layer carrying Python code), a layer class Keras does
  not know (another program's model, or one saved by another version);
* a Keras model that is not a Chordsmith network (:func:`not_chordsmith`), or one whose
  vocabulary or condition labels differ from this corpus's (:func:`check_fits_corpus`).

No TensorFlow or Keras imports: the inference path uses this module too.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.bounded_reads import ArchiveLimits, archive_problem
from core.config import MAX_MODEL_ENTRIES, MAX_MODEL_JSON_BYTES, MAX_MODEL_UNPACKED_BYTES
from core.errors import ModelFault

#: the first bytes of a zip archive (a .keras file) and of an HDF5 file (Keras 2's .h5 models).
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: what every Keras 3 ``.keras`` archive holds.
KERAS_ARCHIVE_MEMBERS: tuple[str, ...] = ("config.json", "metadata.json")
#: most characters of a library's own message quoted in a fault.
QUOTED_CHARS = 240
#: what a ``.keras`` archive may hold (core.config): an archive over it is refused before anything is unpacked.
MODEL_LIMITS = ArchiveLimits(entries=MAX_MODEL_ENTRIES, unpacked_bytes=MAX_MODEL_UNPACKED_BYTES,
                             member_bytes=dict.fromkeys(KERAS_ARCHIVE_MEMBERS, MAX_MODEL_JSON_BYTES))


def check_model_archive(model_file: str | Path) -> None:
    """Raise a :class:`ModelFault` when the ``.keras`` archive declares more than :data:`MODEL_LIMITS` allow.

    Reads the archive's directory only, so a zip bomb is refused in milliseconds, before Keras
    (or a checksum test) inflates a byte of it. Called before every load of a model file.
    """
    problem = archive_problem(Path(model_file), MODEL_LIMITS)
    if problem is not None:
        raise ModelFault(f"cannot load the model {model_file}: {problem}")


def unloadable_model(model_file: str | Path, error: BaseException) -> ModelFault:
    """The fault for a model file whose load raised ``error``: the file's state if that explains it, else the error's."""
    reason = file_problem(Path(model_file)) or error_reason(error)
    return ModelFault(f"cannot load the model {model_file}: {reason}")


def diverged(model_file: str | Path, arrays: list[str]) -> ModelFault:
    """The fault for a model whose ``arrays`` (their names) hold NaN or an infinity: a training that diverged."""
    return ModelFault(f"cannot use the model {model_file}: NaN or infinite weights in {', '.join(arrays)} "
                      "(a training that diverged)")


def file_problem(model_file: Path) -> str | None:
    """What is wrong with the file itself (empty, not a zip, cut short, damaged, not Keras's); ``None``: it looks sound."""
    try:
        size = model_file.stat().st_size
        with open(model_file, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        return f"the file cannot be read ({error.strerror or type(error).__name__})"
    if size == 0:
        return "the file is empty (0 bytes): the save or the copy did not finish"
    if not zipfile.is_zipfile(model_file):
        if head.startswith(ZIP_MAGIC):
            return (f"the file is cut short or damaged: a zip archive without its end ({size:,} bytes); "
                    "save or copy it again")
        if head.startswith(HDF5_MAGIC):
            return "an HDF5 (.h5) file of old Keras, not a Keras 3 .keras model"
        return "not a Keras model file (a .keras file is a zip archive; this one is not)"
    return archive_problem(model_file, MODEL_LIMITS) or _archive_problem(model_file)


def _archive_problem(model_file: Path) -> str | None:
    try:
        with zipfile.ZipFile(model_file) as archive:
            names = set(archive.namelist())
            missing = [name for name in KERAS_ARCHIVE_MEMBERS if name not in names]
            if missing:
                return f"a zip archive but not a Keras model (no {' or '.join(missing)} in it)"
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:  # RuntimeError: an encrypted member
        return f"the zip archive is damaged ({_quoted(error)})"
    if damaged is not None:
        return f"the zip archive is damaged: {damaged} fails its checksum; save or copy it again"
    return None


def error_reason(error: BaseException) -> str:
    """A load error in the user's words: code refused by safe mode, an unknown layer, else the library's message."""
    text = str(error)
    if "safe_mode" in text or "arbitrary code" in text:
        layer = "a Lambda layer" if "Lambda" in text else "a layer"
        return (f"refused by Keras safe mode: it carries Python code ({layer}), which a Chordsmith model never "
                "does; only load it with code you trust, outside Chordsmith")
    unknown = re.search(r"Could not (?:deserialize|locate (?:class|function)) '?([\w.>]+)'?", text)
    if unknown or "Unknown layer" in text:
        name = unknown.group(1) if unknown else "?"
        return (f"it uses a layer this Keras does not know ({name}): another program's model, "
                "or one saved by another version")
    return f"{type(error).__name__}: {_quoted(error)}"


def not_chordsmith(model_file: str | Path, reason: Any) -> ModelFault:
    """The fault for a readable Keras model that is not a Chordsmith network (``reason``: what it lacks)."""
    what = _quoted(reason).removesuffix(": not a Chordsmith model")
    return ModelFault(f"cannot use the model {model_file}: not a Chordsmith model ({what})")


def corpus_mismatches(model_config: Mapping[str, Any]) -> list[str]:
    """How a model's vocabulary and condition counts differ from this corpus's (empty: they fit)."""
    from core.config import ModelConfig

    expected = ModelConfig()
    names = {"vocab_size": "chord tokens", "genre_count": "genres", "mood_count": "moods",
             "key_count": "keys", "scale_type_count": "scale types"}
    return [f"{label}: the model has {model_config.get(field)!r}, this corpus {getattr(expected, field)}"
            for field, label in names.items() if model_config.get(field) != getattr(expected, field)]


def check_fits_corpus(model_file: str | Path, model_config: Mapping[str, Any]) -> None:
    """Raise a :class:`ModelFault` when the model was trained on another vocabulary or other condition labels."""
    mismatches = corpus_mismatches(model_config)
    if mismatches:
        raise ModelFault(f"cannot use the model {model_file}: it was trained for another corpus ("
                         + "; ".join(mismatches) + ")")


def _quoted(value: Any) -> str:
    text = " ".join(str(value).split()).rstrip(".") or type(value).__name__
    return text if len(text) <= QUOTED_CHARS else text[: QUOTED_CHARS - 1] + "…"
