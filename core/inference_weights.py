"""A model's inference weights in a framework-free form, kept beside its ``.keras`` file.

Why at the model's layer: the trainer writes these copies each time it saves a model and
generation reads them, so both reach them downwards (:class:`DecoderWeights` is the set of arrays
:class:`core.generation.decoder.FastDecoder` runs on).

For ``model.keras`` (or any ``NAME.keras``, e.g. ``checkpoints/best.keras``) the folder holds::

    model.inference.npz    exactly the arrays FastDecoder runs on, float32 as Keras holds them, named
                           after their layers: chord_embedding, genre_embedding, mood_embedding,
                           key_embedding, scale_type_embedding, conditioning_dense.kernel/.bias,
                           lstm_1.kernel/.recurrent_kernel/.bias (… per layer; gru_N for GRU),
                           output_dense.kernel/.bias; a song-context model adds section_embedding,
                           metre_embedding and durations.kernel/.bias (the duration head)
    model.inference.json   what the decoder needs besides them and what the copy was made from:
                           format and version, the source file's name and sha256, the npz's sha256,
                           the ModelConfig fields, cell, layer sizes, vocabulary size, activation,
                           window length, and each array's shape

Why: sampling and scoring run on NumPy (:class:`core.generation.decoder.FastDecoder`), so they
should not pay TensorFlow's import and a Keras load (~5 s, ~750 MB) to copy a few megabytes of
weights. Safe by construction: plain arrays read with ``np.load(..., allow_pickle=False)`` and
JSON, nothing that executes.

The copy is keyed on the ``.keras`` file's content: the JSON records its sha256, and a copy whose
hash differs (the model was retrained or replaced), whose npz does not match its own recorded
hash, or whose format is another version is ignored. The trainer writes the copy each time it
saves a model (:func:`write_inference_weights`); for a model without one,
:func:`core.generation.loading.load_generator` derives it once from the Keras model and writes
it. Attention models have no NumPy decoder: their JSON says ``"fast": false`` and there is no npz
(they load through Keras).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.bounded_reads import ArchiveLimits, archive_problem, read_bounded
from core.conditions import CONDITION_NAMES
from core.config import MAX_MODEL_UNPACKED_BYTES, MAX_SMALL_JSON_BYTES, MAX_WEIGHTS_ARRAYS
from core.run_files import INFERENCE_DESCRIPTION_SUFFIX, INFERENCE_WEIGHTS_SUFFIX

#: condition order of the model's inputs and of ``condition_ids`` arrays' columns.
CONDITION_ORDER: tuple[str, ...] = CONDITION_NAMES


@dataclass(frozen=True)
class DecoderWeights:
    """Exactly the arrays :class:`FastDecoder` runs on, as the Keras layers hold them (float32), and two settings.

    ``recurrent`` holds ``(kernel, recurrent_kernel, bias)`` per layer (``lstm_1``, ``lstm_2``… or
    ``gru_1``…), ``condition_embeddings`` one table per :data:`CONDITION_ORDER` entry.
    """

    chord_embedding: np.ndarray  # [V, E]
    condition_embeddings: tuple[np.ndarray, ...]
    conditioning_kernel: np.ndarray
    conditioning_bias: np.ndarray
    conditioning_activation: str  # a key of core.generation.decoder's activations ("relu" in every built model)
    cell: str  # "lstm" or "gru"
    recurrent: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    output_kernel: np.ndarray  # [U, V]
    output_bias: np.ndarray  # [V]
    sequence_length: int  # the model's window length (the decoder itself steps any number of chords)
    section_embedding: np.ndarray | None = None  # [sections, S]: a song-context model's (core.song_context)
    metre_embedding: np.ndarray | None = None  # [metres, M]: its fifth condition, after the other four
    duration_kernel: np.ndarray | None = None  # [U, D]: its duration head
    duration_bias: np.ndarray | None = None  # [D]

    @property
    def song_context(self) -> bool:
        """Whether these are a song-context model's weights (section and metre embeddings, a duration head)."""
        return self.section_embedding is not None

    @property
    def vocab_size(self) -> int:
        """Number of tokens the output layer scores."""
        return int(self.chord_embedding.shape[0])

    @classmethod
    def from_model(cls, model) -> DecoderWeights:
        """The arrays of a Keras model built by :func:`core.model.build_model`, found by layer name."""
        weights = {layer.name: [np.asarray(w) for w in layer.get_weights()] for layer in model.layers}
        cell = "lstm" if "lstm_1" in weights else "gru"
        recurrent = []
        while f"{cell}_{len(recurrent) + 1}" in weights:
            recurrent.append(tuple(weights[f"{cell}_{len(recurrent) + 1}"]))
        if not recurrent:
            raise ValueError("model has no layers named lstm_1 or gru_1")
        return cls(
            chord_embedding=weights["chord_embedding"][0],
            condition_embeddings=tuple(weights[f"{name}_embedding"][0] for name in CONDITION_ORDER),
            conditioning_kernel=weights["conditioning_dense"][0],
            conditioning_bias=weights["conditioning_dense"][1],
            conditioning_activation=model.get_layer("conditioning_dense").get_config()["activation"],
            cell=cell,
            recurrent=tuple(recurrent),
            output_kernel=weights["output_dense"][0],
            output_bias=weights["output_dense"][1],
            sequence_length=int(model.inputs[0].shape[1]),
            **_song_arrays({name: arrays[0] if len(arrays) == 1 else arrays for name, arrays in weights.items()
                            if name in ("section_embedding", "metre_embedding", "durations")}),
        )


def _song_arrays(layers: dict) -> dict[str, np.ndarray]:
    """A song-context model's extra arrays from its layers' weights (none for a window model)."""
    if "section_embedding" not in layers:
        return {}
    kernel, bias = layers["durations"]
    return {"section_embedding": layers["section_embedding"], "metre_embedding": layers["metre_embedding"],
            "duration_kernel": kernel, "duration_bias": bias}


FORMAT = "chordsmith-inference-weights"
FORMAT_VERSION = 1  # a song-context model's extra arrays are optional: every version-1 file still reads the same
#: a song-context model's extra arrays, by npz name and DecoderWeights field.
SONG_ARRAYS: dict[str, str] = {"section_embedding": "section_embedding", "metre_embedding": "metre_embedding",
                               "durations.kernel": "duration_kernel", "durations.bias": "duration_bias"}
#: attribute names of each recurrent layer's arrays, in Keras's get_weights() order.
RECURRENT_ARRAYS: tuple[str, ...] = ("kernel", "recurrent_kernel", "bias")


@dataclass(frozen=True)
class InferenceWeights:
    """A model's inference weights and where they came from.

    ``decoder`` is ``None`` for models the NumPy decoder cannot run (attention): those load
    through Keras. ``model_config`` holds the :class:`ModelConfig` fields as a plain dict, so
    reading it needs no Keras.
    """

    source_sha256: str
    model_config: dict
    decoder: DecoderWeights | None

    @property
    def fast(self) -> bool:
        """Whether the NumPy decoder runs this model."""
        return self.decoder is not None


def weights_files(model_file: Path) -> tuple[Path, Path]:
    """``(npz, json)`` beside a ``.keras`` file: ``model.keras`` → ``model.inference.npz``, ``model.inference.json``."""
    model_file = Path(model_file)
    stem = model_file.name.removesuffix(".keras")
    return model_file.with_name(stem + INFERENCE_WEIGHTS_SUFFIX), model_file.with_name(stem + INFERENCE_DESCRIPTION_SUFFIX)


def file_sha256(path: Path) -> str:
    """The sha256 of a file's content (memoised per path, size, inode and modification time)."""
    stat = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_ino, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, inode: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- arrays <-> names ---------------------------------------------------------------------------


def _array_names(cell: str, layers: int, song: bool = False) -> list[str]:
    names = ["chord_embedding", *(f"{name}_embedding" for name in CONDITION_ORDER),
             "conditioning_dense.kernel", "conditioning_dense.bias"]
    for index in range(1, layers + 1):
        names += [f"{cell}_{index}.{part}" for part in RECURRENT_ARRAYS]
    return [*names, "output_dense.kernel", "output_dense.bias", *(SONG_ARRAYS if song else ())]


def _named_arrays(weights: DecoderWeights) -> dict[str, np.ndarray]:
    arrays = [weights.chord_embedding, *weights.condition_embeddings, weights.conditioning_kernel, weights.conditioning_bias]
    for layer in weights.recurrent:
        arrays += list(layer)
    arrays += [weights.output_kernel, weights.output_bias]
    if weights.song_context:
        arrays += [getattr(weights, field) for field in SONG_ARRAYS.values()]
    names = _array_names(weights.cell, len(weights.recurrent), weights.song_context)
    return {name: np.ascontiguousarray(array) for name, array in zip(names, arrays, strict=True)}


def _decoder_weights(arrays: dict[str, np.ndarray], description: dict) -> DecoderWeights:
    cell, layers = description["cell"], len(description["layer_units"])
    return DecoderWeights(
        chord_embedding=arrays["chord_embedding"],
        condition_embeddings=tuple(arrays[f"{name}_embedding"] for name in CONDITION_ORDER),
        conditioning_kernel=arrays["conditioning_dense.kernel"],
        conditioning_bias=arrays["conditioning_dense.bias"],
        conditioning_activation=description["conditioning_activation"],
        cell=cell,
        recurrent=tuple(tuple(arrays[f"{cell}_{index}.{part}"] for part in RECURRENT_ARRAYS)
                        for index in range(1, layers + 1)),
        output_kernel=arrays["output_dense.kernel"],
        output_bias=arrays["output_dense.bias"],
        sequence_length=int(description["sequence_length"]),
        **{field: arrays[name] for name, field in SONG_ARRAYS.items() if name in arrays},
    )


def non_finite_arrays(weights: DecoderWeights) -> list[str]:
    """Names of the arrays holding NaN or an infinity (a training that diverged); empty for a usable model."""
    return [name for name, array in _named_arrays(weights).items() if not np.isfinite(array).all()]


def _fits_config(arrays: dict[str, np.ndarray], model_config: dict) -> bool:
    """Whether the arrays have the vocabulary and condition counts the JSON's model config states."""
    vocab = model_config.get("vocab_size")
    counts = [model_config.get(f"{name}_count") for name in CONDITION_ORDER]
    return (arrays["chord_embedding"].shape[0] == vocab and arrays["output_dense.bias"].shape == (vocab,)
            and [arrays[f"{name}_embedding"].shape[0] for name in CONDITION_ORDER] == counts)


# --- writing ------------------------------------------------------------------------------------


def weights_of_model(model, source_sha256: str) -> InferenceWeights:
    """The inference weights of a Keras model (in memory; nothing written)."""
    from core.model import model_config_of

    config = model_config_of(model).to_dict()
    decoder = None if config["attention"] else DecoderWeights.from_model(model)
    return InferenceWeights(source_sha256, config, decoder)


def save_inference_weights(weights: InferenceWeights, model_file: Path) -> None:
    """Write the npz (fast models only) and then the JSON beside ``model_file``, each atomically.

    The JSON goes last and names the npz's hash, so a reader never pairs a new JSON with an old
    npz, nor an old JSON with a new npz. A stale npz of an earlier fast model is removed.
    """
    npz_path, json_path = weights_files(model_file)
    description = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "source": Path(model_file).name,
        "source_sha256": weights.source_sha256, "fast": weights.fast, "model_config": weights.model_config,
        "vocab_size": int(weights.model_config["vocab_size"]), "cell": weights.model_config["cell"],
    }
    if weights.fast:
        arrays = _named_arrays(weights.decoder)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        content = buffer.getvalue()
        _write_atomic(npz_path, content)
        description.update({
            "weights": npz_path.name, "weights_sha256": hashlib.sha256(content).hexdigest(),
            "layer_units": [int(layer[1].shape[0]) for layer in weights.decoder.recurrent],
            "conditioning_activation": weights.decoder.conditioning_activation,
            "sequence_length": weights.decoder.sequence_length,
            "arrays": {name: list(array.shape) for name, array in arrays.items()},
        })
    else:
        npz_path.unlink(missing_ok=True)
    _write_atomic(json_path, (json.dumps(description, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def write_inference_weights(model, model_file: Path) -> InferenceWeights:
    """Write the inference weights of ``model``, just saved as ``model_file``, beside that file."""
    weights = weights_of_model(model, file_sha256(model_file))
    save_inference_weights(weights, model_file)
    return weights


def _write_atomic(path: Path, content: bytes) -> None:
    """Write through a temporary file beside ``path``, named per process and call, then rename over ``path``.

    Two processes deriving the same copy at once each write their own file; the last rename wins,
    and both hold the same content.
    """
    partial = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any file
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


# --- reading ------------------------------------------------------------------------------------


def read_inference_weights(model_file: Path, source_sha256: str) -> InferenceWeights | None:
    """The weights copy beside ``model_file`` when it is complete and made from content ``source_sha256``.

    ``None`` when there is none, or it is of another format version, of other content, or
    inconsistent (a missing array, a shape that differs from the JSON or from its model config's
    vocabulary and condition counts, an npz whose hash is not the recorded one): the caller then
    derives it again from the ``.keras`` file. Both files are read with a bound, and an npz that
    would unpack to more than it holds (np.savez stores arrays uncompressed) is never inflated.
    """
    npz_path, json_path = weights_files(model_file)
    try:
        description = json.loads(read_bounded(json_path, MAX_SMALL_JSON_BYTES, "the weights description"))
        if (description.get("format") != FORMAT or description.get("format_version") != FORMAT_VERSION
                or description.get("source_sha256") != source_sha256):
            return None
        if not description["fast"]:
            return InferenceWeights(source_sha256, description["model_config"], None)
        content = read_bounded(npz_path, MAX_MODEL_UNPACKED_BYTES, "the inference weights")
        if hashlib.sha256(content).hexdigest() != description["weights_sha256"]:
            return None
        if archive_problem(content, ArchiveLimits(MAX_WEIGHTS_ARRAYS, unpacked_bytes=len(content))) is not None:
            return None  # np.savez stores its arrays: more unpacked than the file holds is a bomb, never inflated
        with np.load(io.BytesIO(content), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        song = description["model_config"].get("context") == "song"
        expected = _array_names(description["cell"], len(description["layer_units"]), song)
        shapes = {name: list(array.shape) for name, array in arrays.items()}
        if (sorted(expected) != sorted(arrays) or shapes != description["arrays"]
                or not _fits_config(arrays, description["model_config"])):
            return None
        return InferenceWeights(source_sha256, description["model_config"], _decoder_weights(arrays, description))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, zipfile.BadZipFile):
        return None
