"""Exporting a trained model for serving outside Keras: TensorFlow SavedModel, TFLite and ONNX.

``export_model(model_path, fmt, out_dir)`` writes one artifact into ``out_dir``::

    saved_model/     savedmodel: signature ``serving_default``
    model.tflite     tflite: signature ``serving_default``, TFLite builtin ops only
    model.onnx       onnx: opset 17 (tf2onnx)
    export.json      what every runtime needs: input names, shapes and dtypes, the output name,
                     the chord vocabulary and the condition labels (one manifest per folder,
                     listing every format exported there)

Every format takes the model's five int32 inputs **by name** (``chord_sequence_input`` [B, L],
``genre_input``, ``mood_input``, ``key_input``, ``scale_type_input`` [B, 1]; the batch is
dynamic) and returns ``probabilities`` [B, L, V]; a song-context model also takes ``section_input`` [B, L]
and ``metre_input`` [B, 1] and also returns ``durations`` [B, L, D] (the duration classes of the chord fed at
each step), both outputs checked against Keras. Converters reorder inputs, so callers must
feed them by name (:mod:`core.serving.runtimes` does). A key-relative model's artifacts read chords moved
into C: ``export.json``'s ``chord_encoding`` says so and what a runtime must do.

TFLite needs ``LSTM(unroll=True)``: the default recurrent layer lowers to a ``while`` loop over
tensor-list ops that the TFLite builtin op set refuses. The export builds an unrolled twin with
:func:`core.model.build_model` (``unroll=True``) from the model's own architecture, copies the
weights, and checks the twin reproduces the model before converting. SavedModel and ONNX use the
model as trained. After writing, each artifact is loaded back in its own runtime and its output
on a probe batch (windows with padding) is compared with Keras's; the largest absolute
difference is reported as ``max_abs_error`` and an export above :data:`PARITY_TOLERANCE` fails.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.serving.runtimes import (
    ARTIFACTS,
    DURATIONS_NAME,
    FORMATS,
    MANIFEST_FILE,
    OUTPUT_NAME,
    SIGNATURE_KEY,
    load_exported,
)

ONNX_OPSET = 17
#: the largest |exported - Keras| probability an export may show on the probe batch.
PARITY_TOLERANCE = 1e-5


@dataclass
class ExportResult:
    """One written artifact: where, how big, how long it took and how close it is to Keras."""

    format: str
    path: Path
    size_bytes: int
    seconds: float
    max_abs_error: float | None  # None when verification was skipped

    def to_dict(self) -> dict:
        """JSON-ready (path as a string)."""
        return {**asdict(self), "path": str(self.path)}


# --- the model's architecture and inputs ---------------------------------------------------------


def input_specs(model) -> list[tuple[str, tuple[int | None, ...]]]:
    """``(name, shape)`` of every model input, batch dimension ``None``, in the model's order."""
    from core.dataset import INPUT_NAMES, METRE_INPUT, SECTION_INPUT

    names = [tensor.name.split(":")[0] for tensor in model.inputs]
    song = (SECTION_INPUT, METRE_INPUT) if METRE_INPUT in names else ()
    if sorted(names) != sorted((*INPUT_NAMES, *song)):
        raise InputError(f"model inputs {names} are not the Chordsmith inputs {list(INPUT_NAMES)}")
    return [(name, (None, *tuple(int(d) for d in tensor.shape[1:]))) for name, tensor in zip(names, model.inputs, strict=True)]


def probe_inputs(config, rows: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """A deterministic batch of windows for parity checks: random chords, every row padded after 1..L-1 tokens.

    Rows start with ``START`` as real windows do; conditions are drawn over every id (0 included).
    """
    from core.dataset import CHORD_INPUT, CONDITION_INPUTS
    from core.vocabulary import PAD_ID, START_ID

    rng = np.random.default_rng(seed)
    length = int(config.sequence_length)
    chords = rng.integers(START_ID + 1, config.vocab_size, (rows, length)).astype(np.int32)
    chords[:, 0] = START_ID
    for row in range(rows):
        real = 1 + row % (length - 1) if row % 4 else length  # every fourth row unpadded
        chords[row, real:] = PAD_ID
    counts = {"genre": config.genre_count, "mood": config.mood_count, "key": config.key_count,
              "scale_type": config.scale_type_count}
    inputs = {CHORD_INPUT: chords}
    for name, input_name in CONDITION_INPUTS.items():
        inputs[input_name] = rng.integers(0, counts[name], (rows, 1)).astype(np.int32)
    if config.song_context:
        from core.dataset import METRE_INPUT, SECTION_INPUT

        inputs[SECTION_INPUT] = rng.integers(0, config.section_count, (rows, length)).astype(np.int32)
        inputs[METRE_INPUT] = rng.integers(0, config.metre_count, (rows, 1)).astype(np.int32)
    return inputs


def keras_outputs(model, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The Keras model's outputs by export name (float32), inference mode: ``probabilities`` [B, L, V], and for a
    song-context model ``durations`` [B, L, D]."""
    from core.dataset import CHORDS_OUTPUT, DURATIONS_OUTPUT

    outputs = model({k: np.asarray(v) for k, v in inputs.items()}, training=False)
    if isinstance(outputs, dict):
        return {OUTPUT_NAME: np.asarray(outputs[CHORDS_OUTPUT]), DURATIONS_NAME: np.asarray(outputs[DURATIONS_OUTPUT])}
    return {OUTPUT_NAME: np.asarray(outputs)}


def keras_probabilities(model, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The Keras model's probabilities [B, L, V] (float32) for an input dict, inference mode."""
    return keras_outputs(model, inputs)[OUTPUT_NAME]


def unrolled_twin(model):
    """The same network with unrolled recurrent layers and the model's weights (checked on a probe batch)."""
    from core.model import build_model, model_config_of

    config = model_config_of(model)
    twin = build_model(config, unroll=True)
    twin.set_weights(model.get_weights())
    probe = probe_inputs(config, rows=4)
    error = float(np.abs(keras_probabilities(twin, probe) - keras_probabilities(model, probe)).max())
    if error > PARITY_TOLERANCE:
        raise RuntimeError(f"unrolled twin differs from the model by {error:.2e}")
    return twin


# --- writing --------------------------------------------------------------------------------------


def _signature(model) -> list:
    import tensorflow as tf

    return [tf.TensorSpec(shape, tf.int32, name=name) for name, shape in input_specs(model)]


def _serving_function(model):
    """``(*inputs in the model's order) -> {"probabilities": [B, L, V]}`` for tracing."""
    names = [name for name, _ in input_specs(model)]

    from core.dataset import CHORDS_OUTPUT, DURATIONS_OUTPUT

    def serve(*inputs):
        outputs = model(dict(zip(names, inputs, strict=True)), training=False)
        if isinstance(outputs, dict):  # a song-context model: both heads, by name
            return {OUTPUT_NAME: outputs[CHORDS_OUTPUT], DURATIONS_NAME: outputs[DURATIONS_OUTPUT]}
        return {OUTPUT_NAME: outputs}

    return serve


def _write_saved_model(model, path: Path) -> None:
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", _serving_function(model), input_signature=_signature(model))
    archive.write_out(str(path), verbose=False)  # "serve" also becomes the serving_default signature


def _write_tflite(model, path: Path) -> None:
    import tensorflow as tf

    twin = unrolled_twin(model)
    with tempfile.TemporaryDirectory(prefix="chordsmith-tflite-") as saved_model_dir:
        _write_saved_model(twin, Path(saved_model_dir) / "saved_model")
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(saved_model_dir) / "saved_model"))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex ops: plain LiteRT runs it
        path.write_bytes(converter.convert())


def _write_onnx(model, path: Path) -> None:
    try:
        import tf2onnx
    except ImportError as exc:
        raise InputError(f"ONNX export needs tf2onnx (pip install -r requirements.txt): {exc}") from None
    import tensorflow as tf

    signature = _signature(model)
    function = tf.function(_serving_function(model), input_signature=signature)
    tf2onnx.convert.from_function(function, input_signature=signature, opset=ONNX_OPSET, output_path=str(path))


_WRITERS = {"savedmodel": _write_saved_model, "tflite": _write_tflite, "onnx": _write_onnx}


def artifact_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


#: what a runtime must do with the chord ids, per encoding (in export.json).
ENCODING_MEANINGS: dict[str, str] = {
    "absolute": "chord ids as in the vocabulary; key_input is the key's id",
    "key-relative": "move every chord id down by the key's tonic (so the tonic is C) before feeding it, feed key_input "
                    "as C in the key's mode (1: C major, 13: C minor; 0: open), and move the output's chord ids back up by "
                    "the tonic; with the key open, mix the 24 keys (core.generation.key_decoder does both)",
}


def manifest(model) -> dict:
    """``export.json`` content without the ``formats`` entry: inputs, output, vocabulary and labels."""
    from core.conditions import VOCABULARIES
    from core.model import model_config_of
    from core.song_context import DURATION_BEATS
    from core.vocabulary import VOCAB

    config = model_config_of(model)
    return {
        "inputs": [{"name": name, "shape": list(shape), "dtype": "int32"} for name, shape in input_specs(model)],
        "output": {"name": OUTPUT_NAME, "shape": [None, config.sequence_length, config.vocab_size], "dtype": "float32"},
        **({"durations_output": {"name": DURATIONS_NAME, "shape": [None, config.sequence_length, config.duration_count],
                                 "dtype": "float32", "classes_beats": [0, *DURATION_BEATS]}}
           if config.song_context else {}),
        "signature": SIGNATURE_KEY,
        "sequence_length": config.sequence_length,
        "vocabulary": list(VOCAB.tokens),
        "conditions": {name: list(labels) for name, labels in VOCABULARIES.items()},
        "model_config": config.to_dict(),
        "chord_encoding": {"name": config.chord_encoding, "meaning": ENCODING_MEANINGS[config.chord_encoding]},
        "formats": {},
    }


def _update_manifest(out_dir: Path, model, result: ExportResult) -> None:
    from core.run_files import write_json_atomic

    path = out_dir / MANIFEST_FILE
    content = manifest(model)
    if path.exists():
        content["formats"] = json.loads(path.read_text(encoding="utf-8")).get("formats", {})
    entry = result.to_dict()
    entry["path"] = Path(entry["path"]).name
    content["formats"][result.format] = entry
    write_json_atomic(path, content)


def export_model(model, fmt: str, out_dir: str | Path, verify: bool = True) -> ExportResult:
    """Write ``model`` (a Keras model, or a path :func:`core.model.load_model` accepts) as ``fmt`` into ``out_dir``.

    An existing artifact of the same format there is replaced. With ``verify`` the artifact is
    loaded back in its runtime and compared with Keras on :func:`probe_inputs`; a difference
    above :data:`PARITY_TOLERANCE` raises ``RuntimeError``. Raises :class:`InputError` for an
    unknown format or a missing model.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; accepted: {', '.join(FORMATS)}")
    from core.model import load_model, model_config_of

    if not hasattr(model, "get_layer"):
        model = load_model(model, compile=False)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ARTIFACTS[fmt]
    partial = out_dir / f".partial-{ARTIFACTS[fmt]}"
    _remove(partial)
    start = time.perf_counter()
    _WRITERS[fmt](model, partial)
    _remove(path)
    partial.replace(path)
    seconds = time.perf_counter() - start
    error = None
    if verify:
        probe = probe_inputs(model_config_of(model))
        exported, expected = load_exported(path).outputs(probe), keras_outputs(model, probe)
        if sorted(exported) != sorted(expected):
            raise RuntimeError(f"{fmt} export gives outputs {sorted(exported)}, Keras {sorted(expected)}")
        error = max(float(np.abs(exported[name] - expected[name]).max()) for name in expected)
        if error > PARITY_TOLERANCE:
            raise RuntimeError(f"{fmt} export differs from Keras by {error:.2e} (tolerance {PARITY_TOLERANCE:.0e})")
    result = ExportResult(fmt, path, artifact_size(path), round(seconds, 3), error)
    _update_manifest(out_dir, model, result)
    return result


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
