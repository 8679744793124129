"""Running exported models (SavedModel, TFLite, ONNX) in their own runtimes, and generating through them.

``load_exported(path)`` picks the runtime from the artifact (a ``saved_model`` folder, a
``.tflite`` or an ``.onnx`` file, or an export folder plus ``fmt``) and returns an object whose
``predict(inputs)`` takes the model's input dict (by name; any batch size) and returns the
probabilities [B, L, V] as float32:

* SavedModel: ``tf.saved_model.load`` and its ``serving_default`` signature;
* TFLite: the LiteRT interpreter (``ai_edge_litert``; ``tf.lite.Interpreter`` when LiteRT is not
  installed), through its signature runner;
* ONNX: an ``onnxruntime.InferenceSession`` on the CPU provider.

:class:`ExportedDecoder` is the generator's full-sequence step loop (each step re-feeds the growing
sequence, the last ``L`` tokens of it, through the exported model), so :func:`exported_generator`
plugs an exported artifact into :func:`core.generation.generate.generate` and :mod:`core.generation.score` unchanged
(a key-relative export, as its manifest's ``chord_encoding`` says, through
:class:`core.generation.key_decoder.KeyRelativeDecoder`).

The names an export folder's files and signatures carry (:data:`FORMATS`, :data:`ARTIFACTS`,
:data:`MANIFEST_FILE`, :data:`OUTPUT_NAME`, :data:`SIGNATURE_KEY`) are defined here, on the reading
side, and :mod:`core.serving.export` writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from core.errors import InputError
from core.generation.decoder import KerasDecoder
from core.generation.key_decoder import key_relative_decoder
from core.key_relative import ABSOLUTE

FORMATS: tuple[str, ...] = ("savedmodel", "tflite", "onnx")
#: artifact name inside an export folder, per format.
ARTIFACTS: dict[str, str] = {"savedmodel": "saved_model", "tflite": "model.tflite", "onnx": "model.onnx"}
#: the manifest beside the artifacts: inputs, output, vocabulary, condition labels (core.serving.export.manifest).
MANIFEST_FILE = "export.json"
OUTPUT_NAME = "probabilities"
#: a song-context model's second output: the duration classes of the chord fed at each step.
DURATIONS_NAME = "durations"
SIGNATURE_KEY = "serving_default"


class ExportedModel(Protocol):
    """An exported model loaded in its runtime."""

    format: str
    input_names: list[str]

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Probabilities [B, L, V] for the model's input dict (fed by name)."""
        ...

    def outputs(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every output by name: ``probabilities``, and ``durations`` for a song-context model."""
        ...


def _int32(inputs: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    missing = sorted(set(names) - set(inputs))
    if missing:
        raise InputError(f"missing model inputs: {', '.join(missing)}")
    return {name: np.ascontiguousarray(inputs[name], dtype=np.int32) for name in names}


class SavedModelRunner:
    """A SavedModel's ``serving_default`` signature."""

    format = "savedmodel"

    def __init__(self, path: Path) -> None:
        import tensorflow as tf

        self._loaded = tf.saved_model.load(str(path))
        self._function = self._loaded.signatures[SIGNATURE_KEY]
        self.input_names = sorted(self._function.structured_input_signature[1])

    def outputs(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import tensorflow as tf

        feed = {name: tf.constant(value) for name, value in _int32(inputs, self.input_names).items()}
        return {name: value.numpy() for name, value in self._function(**feed).items()}

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self.outputs(inputs)[OUTPUT_NAME]


def _lite_interpreter(path: Path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # LiteRT not installed: TensorFlow's own (deprecated) interpreter
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806
    return Interpreter(model_path=str(path))


class TFLiteRunner:
    """A ``.tflite`` model's ``serving_default`` signature runner (inputs resized to the batch)."""

    format = "tflite"

    def __init__(self, path: Path) -> None:
        self._interpreter = _lite_interpreter(path)
        signatures = self._interpreter.get_signature_list()
        key = SIGNATURE_KEY if SIGNATURE_KEY in signatures else next(iter(signatures))
        self.input_names = list(signatures[key]["inputs"])
        self._runner = self._interpreter.get_signature_runner(key)

    def outputs(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {name: np.array(value) for name, value in self._runner(**_int32(inputs, self.input_names)).items()}

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self.outputs(inputs)[OUTPUT_NAME]


class OnnxRunner:
    """An ``.onnx`` model in an onnxruntime CPU session."""

    format = "onnx"

    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise InputError(f"running ONNX models needs onnxruntime (pip install -r requirements.txt): {exc}") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [node.name for node in self._session.get_inputs()]
        self.output_names = [node.name for node in self._session.get_outputs()]

    def outputs(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        values = self._session.run(self.output_names, _int32(inputs, self.input_names))
        return dict(zip(self.output_names, values, strict=True))

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run([OUTPUT_NAME], _int32(inputs, self.input_names))[0]


_RUNNERS = {"savedmodel": SavedModelRunner, "tflite": TFLiteRunner, "onnx": OnnxRunner}


def artifact_format(path: Path) -> str:
    """The format of an artifact path: a SavedModel folder, ``.tflite`` or ``.onnx``."""
    if path.suffix == ".tflite":
        return "tflite"
    if path.suffix == ".onnx":
        return "onnx"
    if path.is_dir() and (path / "saved_model.pb").exists():
        return "savedmodel"
    raise InputError(f"{path} is not an exported model (a SavedModel folder, a .tflite or an .onnx file)")


def load_exported(path: str | Path, fmt: str | None = None) -> ExportedModel:
    """Load an artifact in its runtime; ``path`` may be an export folder when ``fmt`` names the format."""
    path = Path(path)
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"unknown export format {fmt!r}; accepted: {', '.join(FORMATS)}")
        if path.is_dir() and not (path / "saved_model.pb").exists():
            path = path / ARTIFACTS[fmt]
    if not path.exists():
        raise InputError(f"exported model not found: {path}")
    return _RUNNERS[fmt or artifact_format(path)](path)


class ExportedDecoder(KerasDecoder):
    """The full-sequence step decoder over an exported model (same windowing as :class:`KerasDecoder`)."""

    def __init__(self, model: ExportedModel, sequence_length: int, vocab_size: int) -> None:  # noqa: D107
        from core.dataset import METRE_INPUT

        self.model = model
        self.backend = f"exported {model.format} (full-sequence steps)"
        self.sequence_length = int(sequence_length)
        self.vocab_size = int(vocab_size)
        self.song_context = METRE_INPUT in getattr(model, "input_names", ())  # song-context export: sections in, durations out
        self._call = self._song_outputs if self.song_context else model.predict

    def _song_outputs(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from core.dataset import CHORDS_OUTPUT, DURATIONS_OUTPUT

        outputs = self.model.outputs(inputs)
        return {CHORDS_OUTPUT: outputs[OUTPUT_NAME], DURATIONS_OUTPUT: outputs[DURATIONS_NAME]}


def exported_generator(path: str | Path, fmt: str | None = None):
    """A :class:`core.generation.loading.Generator` that samples and scores through an exported artifact."""
    from core.generation.loading import Generator

    model = load_exported(path, fmt)
    folder = Path(path) if Path(path).is_dir() and (Path(path) / MANIFEST_FILE).exists() else Path(path).parent
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.exists():
        raise InputError(f"no {MANIFEST_FILE} beside {path}: export with `python -m core export`")
    import json

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    decoder = ExportedDecoder(model, manifest["sequence_length"], len(manifest["vocabulary"]))
    encoding = manifest.get("model_config", {}).get("chord_encoding", ABSOLUTE)  # exports before model 2: absolute
    return Generator(key_relative_decoder(decoder, encoding), folder)
