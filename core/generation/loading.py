"""Loading a trained model for inference: the one way the CLI, the HTTP API, the studio and the benchmarks get one.

``load_generator(path)`` takes what ``--model`` accepts (:func:`core.paths.resolve_model_file`): a
run folder, a ``models/`` folder, any ``.keras`` file (``…/checkpoints/best.keras`` too), or
``None`` for the active model. It returns a :class:`Generator` whose decoder is the NumPy
:class:`core.generation.decoder.FastDecoder` over the framework-free weights kept beside the file
(:mod:`core.inference_weights`), so TensorFlow is never imported. A model saved without that copy
is loaded through Keras once, and the copy is written beside it for every later load. Attention
models, which the NumPy decoder cannot run, get the Keras full-sequence fallback. A key-relative model's
decoder is wrapped in :class:`core.generation.key_decoder.KeyRelativeDecoder`, so callers feed and read
absolute chords whatever the model's encoding.

Loads are cached on the resolved file and its content hash: an unchanged model is loaded once per
process, a retrained or replaced one again. A missing model is an :class:`InputError`; a file that
cannot be used (empty, truncated, foreign, refused by safe mode, not a Chordsmith model, made for
another vocabulary or other labels, weights that are not finite) is a :class:`core.errors.ModelFault`
saying why (:mod:`core.model_faults`), so callers show one line, never a traceback.
Training, evaluation against Keras and export need the Keras model itself: :func:`core.model.load_model`
accepts the same paths.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelFault
from core.generation.decoder import Decoder, FastDecoder, KerasDecoder
from core.generation.key_decoder import key_relative_decoder
from core.inference_weights import (
    InferenceWeights,
    file_sha256,
    non_finite_arrays,
    read_inference_weights,
    save_inference_weights,
    weights_of_model,
)
from core.key_relative import ABSOLUTE
from core.model_faults import check_fits_corpus, diverged, file_problem, unloadable_model
from core.paths import resolve_model_file


@dataclass
class Generator:
    """A loaded model ready to sample and score: its decoder and where it came from."""

    decoder: Decoder
    model_dir: Path | None
    model_file: Path | None = None

    @property
    def backend(self) -> str:
        """``fast numpy step`` or the Keras fallback's name."""
        return self.decoder.backend


def load_generator(model: str | Path | None = None) -> Generator:
    """The generator for a model folder or ``.keras`` file (``None``: the active model); see the module docstring."""
    model_file = resolve_model_file(model).resolve()
    try:
        return _load(model_file, file_sha256(model_file))
    except ModelFault:
        raise
    except Exception as error:  # noqa: BLE001 - any failure to read the file is reported the same way
        raise unloadable_model(model_file, error) from error


def as_generator(model: Generator | str | Path | None) -> Generator:
    """A :class:`Generator` from a generator, a model folder or file, or ``None`` (the active model)."""
    return model if isinstance(model, Generator) else load_generator(model)


@functools.lru_cache(maxsize=4)
def _load(model_file: Path, source_sha256: str) -> Generator:
    weights = read_inference_weights(model_file, source_sha256)
    keras_model = None
    if weights is None:
        weights, keras_model = _derive(model_file, source_sha256)
    check_fits_corpus(model_file, weights.model_config)
    if weights.fast:
        broken = non_finite_arrays(weights.decoder)
        if broken:
            raise diverged(model_file, broken)
        decoder: Decoder = FastDecoder(weights.decoder)
    else:
        decoder = KerasDecoder(keras_model if keras_model is not None else _keras_model(model_file))
    encoding = weights.model_config.get("chord_encoding", ABSOLUTE)  # weights copied before model 2 say nothing
    return Generator(key_relative_decoder(decoder, encoding), model_file.parent, model_file)


def _derive(model_file: Path, source_sha256: str) -> tuple[InferenceWeights, object]:
    """Weights from the Keras model (TensorFlow imported this once), written beside the file when it can be.

    A file that is plainly not a Keras archive (empty, cut short, garbage) is refused before TensorFlow loads.
    """
    problem = file_problem(model_file)
    if problem is not None:
        raise ModelFault(f"cannot load the model {model_file}: {problem}")
    keras_model = _keras_model(model_file)
    weights = weights_of_model(keras_model, source_sha256)
    if file_sha256(model_file) == source_sha256:  # the file did not change while it was read
        try:
            save_inference_weights(weights, model_file)
        except OSError:
            pass  # a read-only model folder: derived again in the next process, still correct
    return weights, keras_model


def _keras_model(model_file: Path):
    from core.model import load_model

    return load_model(model_file, compile=False)
