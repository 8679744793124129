"""The conditional chord model: ``build_model(config)`` returns the guide's functional Keras model.

Architecture (defaults)::

    chord ids [B, L] ─ Embedding(vocab → 128, mask_zero) ───────────────────────────┐
    genre/mood/key/scale ids [B, 1] ─ Embeddings 16/16/12/4 ─ Concatenate ─         │
        Dense(128, relu) ─ RepeatVector(L) ──────────────────────────── Concatenate [B, L, 256]
    ─ LSTM(256, return_sequences) ─ Dropout(0.3) ─ LSTM(256, return_sequences) ─ Dropout(0.3)
    ─ [optional causal self-attention + residual + LayerNorm]
    ─ TimeDistributed(Dense(vocab, softmax)) → [B, L, vocab]

A song-context model (``context="song"``, :mod:`core.song_context`) adds a section id per position
(``section_input`` [B, L] ─ Embedding(sections → 8), concatenated between the chord embedding and the
conditioning), a metre condition (``metre_input`` [B, 1] ─ Embedding(metres → 4), into the conditioning
Dense after the other four) and a second head on the last recurrent output, ``durations``: a
TimeDistributed softmax over the duration classes of the chord fed at each step. Its outputs are named
``chords`` (an identity over ``output_dense``) and ``durations``, so Keras logs ``chords_loss`` and
``durations_loss`` beside the weighted total (:func:`compile_model`).

Every layer has a fixed name (``chord_embedding``, ``genre_embedding``, ``conditioning_dense``,
``lstm_1``, ``lstm_2``, ``output_dense``, …) so other code (the fast sampler, the TFLite twin) can
read weights by name. The padding mask (chord id != 0) is computed once by :class:`PaddingMask`
and handed to every recurrent layer explicitly rather than trusted to propagate through the
Concatenate. Padding *targets* (0) are excluded from the loss and metrics by the small
registered loss and metric classes below, which compute their mask from ``y_true``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from core.config import CELLS, ModelConfig
from core.dataset import CHORD_INPUT, CHORDS_OUTPUT, CONDITION_INPUTS, DURATIONS_OUTPUT, METRE_INPUT, SECTION_INPUT
from core.errors import InputError
from core.key_relative import ABSOLUTE, KEY_RELATIVE
from core.run_files import partial_path
from core.song_context import SONG
from core.vocabulary import PAD_ID

#: the no-op layer a key-relative model's chords pass through first: how a saved model says which encoding it reads.
KEY_RELATIVE_LAYER = "key_relative_chords"

# --- small registered pieces -----------------------------------------------------------------


@keras.saving.register_keras_serializable(package="chordsmith")
class PaddingMask(layers.Layer):
    """Boolean [B, L] mask of real tokens (id != PAD) in a chord-id sequence."""

    def call(self, chord_ids):
        return ops.not_equal(chord_ids, PAD_ID)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="chordsmith")
class ClearMask(layers.Layer):
    """Passes its input through without a Keras mask.

    Used before the self-attention: MultiHeadAttention takes the query tensor's mask as its query
    mask, and a fully masked query row (a padding step) then attends uniformly to *every* step,
    future ones included. The attention gets the key mask and the causal mask explicitly instead,
    so every step (padding too) sees only itself and earlier real steps.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.copy(inputs)  # a new tensor: the input object itself still carries the mask attribute

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return input_shape


def _global_mean(total, count):
    """``total / count``, with ``count`` summed over every replica when a ``tf.distribute`` strategy runs several.

    Each replica then returns its share of the global batch's mean (replicas' gradients are summed,
    and Keras multiplies the reported loss back by the replica count), so distributed training
    follows the single-device loss exactly, however padding falls between the replicas.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            count = context.all_reduce("sum", tf.stop_gradient(count))
    return ops.divide_no_nan(total, count)


def _target_mask(y_true, dtype="float32"):
    return ops.cast(ops.not_equal(ops.cast(y_true, "int32"), PAD_ID), dtype)


@keras.saving.register_keras_serializable(package="chordsmith")
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Mean cross-entropy over the batch's non-padding targets (target id != 0).

    ``__call__`` is overridden so the value is exactly ``sum(ce * mask) / sum(mask)`` whether or
    not Keras attaches an input mask to the predictions (it would re-weight the mean otherwise).
    """

    def __init__(self, name: str = "masked_sparse_categorical_crossentropy", **kwargs):
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum_over_batch_size", **kwargs)

    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred) * _target_mask(y_true, y_pred.dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        mask = _target_mask(y_true, y_pred.dtype)
        if sample_weight is not None:
            mask = mask * ops.cast(sample_weight, mask.dtype)
        cross_entropy = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        return _global_mean(ops.sum(cross_entropy * mask), ops.sum(mask))


@keras.saving.register_keras_serializable(package="chordsmith")
class MaskedTopKAccuracy(keras.metrics.Metric):
    """Share of non-padding targets whose id is among the ``k`` most probable (k=1: accuracy)."""

    def __init__(self, k: int = 1, name: str | None = None, **kwargs):
        super().__init__(name=name or ("accuracy" if k == 1 else f"top{k}"), **kwargs)
        self.k = int(k)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, "float32")
        mask = _target_mask(y_true)
        if sample_weight is not None:
            mask = mask * ops.reshape(ops.cast(sample_weight, "float32"), ops.shape(mask))
        vocab = ops.shape(y_pred)[-1]
        flat_pred = ops.reshape(y_pred, (-1, vocab))
        flat_true = ops.reshape(y_true, (-1,))
        hit = ops.cast(ops.in_top_k(flat_true, flat_pred, self.k), "float32")
        flat_mask = ops.reshape(mask, (-1,))
        self.correct.assign_add(ops.sum(hit * flat_mask))
        self.count.assign_add(ops.sum(flat_mask))

    def result(self):
        return ops.divide_no_nan(self.correct, self.count)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


# --- the network -----------------------------------------------------------------------------


def build_model(config: ModelConfig | None = None, unroll: bool = False) -> keras.Model:
    """The functional model for ``config`` (uncompiled; see :func:`compile_model`).

    ``unroll=True`` unrolls the recurrent layers over the fixed sequence length (for a TFLite
    twin); training uses the default while-loop form.
    """
    config = config or ModelConfig()
    config.validate()
    length = config.sequence_length
    chord_ids = keras.Input(shape=(length,), dtype="int32", name=CHORD_INPUT)
    condition_specs = {
        "genre": (config.genre_count, config.genre_embedding_dim),
        "mood": (config.mood_count, config.mood_embedding_dim),
        "key": (config.key_count, config.key_embedding_dim),
        "scale_type": (config.scale_type_count, config.scale_type_embedding_dim),
    }
    condition_inputs, condition_vectors = [], []
    for name, (count, dim) in condition_specs.items():
        condition_input = keras.Input(shape=(1,), dtype="int32", name=CONDITION_INPUTS[name])
        embedded = layers.Embedding(count, dim, name=f"{name}_embedding")(condition_input)
        condition_vectors.append(layers.Flatten(name=f"{name}_vector")(embedded))
        condition_inputs.append(condition_input)
    song_inputs = _song_inputs(config, condition_vectors)

    conditions = layers.Concatenate(name="conditions_concat")(condition_vectors)
    conditioning = layers.Dense(config.conditioning_units, activation="relu", name="conditioning_dense")(conditions)
    conditioning = layers.RepeatVector(length, name="conditioning_repeat")(conditioning)

    chord_tokens = chord_ids
    if config.chord_encoding == KEY_RELATIVE:  # says so in the saved file: the chords it reads are moved into C
        chord_tokens = layers.Identity(name=KEY_RELATIVE_LAYER)(chord_ids)
    chord_vectors = layers.Embedding(config.vocab_size, config.embedding_dim, mask_zero=True,
                                     name="chord_embedding")(chord_tokens)
    mask = PaddingMask(name="padding_mask")(chord_ids)
    parts = [chord_vectors, conditioning]
    if config.song_context:
        parts.insert(1, layers.Embedding(config.section_count, config.section_embedding_dim,
                                         name="section_embedding")(song_inputs[0]))
    sequence = _recurrent_stack(config, layers.Concatenate(name="sequence_concat")(parts), mask, unroll)
    probabilities = layers.TimeDistributed(  # float32 even under mixed precision: the loss reads small probabilities
        layers.Dense(config.vocab_size, activation="softmax", name="output_softmax", dtype="float32"), name="output_dense",
        dtype="float32",
    )(sequence)
    if not config.song_context:
        return keras.Model(inputs=[chord_ids, *condition_inputs], outputs=probabilities, name="chordsmith_lstm")
    durations = layers.TimeDistributed(
        layers.Dense(config.duration_count, activation="softmax", name="duration_softmax", dtype="float32"),
        name=DURATIONS_OUTPUT, dtype="float32",
    )(sequence)
    chords = layers.Identity(name=CHORDS_OUTPUT, dtype="float32")(probabilities)
    return keras.Model(inputs=[chord_ids, *condition_inputs, *song_inputs],
                       outputs={CHORDS_OUTPUT: chords, DURATIONS_OUTPUT: durations}, name="chordsmith_lstm")


def _song_inputs(config: ModelConfig, condition_vectors: list) -> list:
    """A song-context model's section and metre inputs (the metre's vector joins ``condition_vectors``); none else."""
    if not config.song_context:
        return []
    metre_input = keras.Input(shape=(1,), dtype="int32", name=METRE_INPUT)
    metre = layers.Embedding(config.metre_count, config.metre_embedding_dim, name="metre_embedding")(metre_input)
    condition_vectors.append(layers.Flatten(name="metre_vector")(metre))
    return [keras.Input(shape=(config.sequence_length,), dtype="int32", name=SECTION_INPUT), metre_input]


def _recurrent_stack(config: ModelConfig, sequence, mask, unroll: bool):
    """The recurrent layers (each followed by dropout) and the optional causal self-attention."""
    recurrent = layers.LSTM if config.cell == "lstm" else layers.GRU
    for index, layer_name in enumerate(config.recurrent_layer_names(), start=1):
        sequence = recurrent(config.lstm_units, return_sequences=True, unroll=unroll, name=layer_name)(sequence, mask=mask)
        sequence = layers.Dropout(config.dropout, name=f"dropout_{index}")(sequence)

    if config.attention:
        unmasked = ClearMask(name="attention_input")(sequence)
        attended = layers.MultiHeadAttention(
            num_heads=config.attention_heads, key_dim=max(1, config.lstm_units // config.attention_heads), name="attention",
        )(unmasked, unmasked, value_mask=mask, use_causal_mask=True)
        sequence = layers.Add(name="attention_residual")([sequence, attended])
        sequence = layers.LayerNormalization(name="attention_norm")(sequence)

    return sequence


@contextlib.contextmanager
def precision(mixed: bool) -> Iterator[None]:
    """Build (and train) models in bfloat16 mixed precision inside the block when ``mixed``; float32 again after.

    Mixed precision keeps the weights, the output layer and the loss in float32 and computes the
    rest in bfloat16 (about 1.6x the training throughput on CPUs with AVX-512 BF16, see
    bench/results.md). :func:`float32_copy` gives the model to save.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if mixed else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_copy(model: keras.Model, config: ModelConfig) -> keras.Model:
    """``model`` (maybe built in mixed precision) rebuilt in float32 with its weights, for saving and inference."""
    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model
    with precision(False):
        copy = build_model(config)
    copy.set_weights(model.get_weights())
    return copy


def compile_model(model: keras.Model, learning_rate=1e-3, jit_compile: bool = False,
                  duration_loss_weight: float = 0.5) -> keras.Model:
    """Compile with Adam, masked cross-entropy, masked accuracy and masked top-5 accuracy.

    ``learning_rate`` is a float or a Keras schedule (:mod:`core.training.schedule`); ``jit_compile``
    compiles the training step with XLA. A song-context model (two outputs) gets the masked
    cross-entropy on both (unknown durations, id 0, are ignored like padding), the durations' weighted by
    ``duration_loss_weight``, and its chord metrics named as a window model's once
    :class:`core.training.callbacks.ChordLossLogs` renames them.
    """
    chord_metrics = [MaskedTopKAccuracy(1, name="accuracy"), MaskedTopKAccuracy(5, name="top5")]
    if not has_duration_head(model):
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                      loss=MaskedSparseCategoricalCrossentropy(), metrics=chord_metrics, jit_compile=jit_compile)
        return model
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss={CHORDS_OUTPUT: MaskedSparseCategoricalCrossentropy(), DURATIONS_OUTPUT: MaskedSparseCategoricalCrossentropy()},
        loss_weights={CHORDS_OUTPUT: 1.0, DURATIONS_OUTPUT: float(duration_loss_weight)},
        metrics={CHORDS_OUTPUT: chord_metrics, DURATIONS_OUTPUT: [MaskedTopKAccuracy(1, name="accuracy")]},
        jit_compile=jit_compile,
    )
    return model


def has_duration_head(model: keras.Model) -> bool:
    """Whether a built model is a song-context one (section input, metre, a ``durations`` output)."""
    return any(layer.name == DURATIONS_OUTPUT for layer in model.layers)


def chord_probabilities(outputs) -> object:
    """The chord distribution of a model's outputs, whether it has one output or the song context's two."""
    return outputs[CHORDS_OUTPUT] if isinstance(outputs, dict) else outputs


def save_model(model: keras.Model, path: Path) -> None:
    """Save a ``.keras`` file atomically (written beside, then renamed over ``path``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(path)
    try:
        model.save(partial)
    except BaseException:  # a full disk mid-save: no half-written file stays behind, ``path`` is untouched
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def load_model(path: Path | str | None = None, compile: bool = True) -> keras.Model:
    """The Keras model saved by this module (safe mode: no arbitrary code), for training-side work.

    ``path`` is what ``--model`` accepts (:func:`core.paths.resolve_model_file`): a run folder or
    ``models/`` folder, any ``.keras`` file, or ``None`` for the active model. Inference does not
    need Keras: see :func:`core.generation.loading.load_generator`. A file that cannot be read, a
    Keras model that is not a Chordsmith network, or one made for another vocabulary or other
    condition labels is a :class:`core.errors.ModelFault` saying which (:mod:`core.model_faults`).
    """
    from core.model_faults import check_fits_corpus, check_model_archive, diverged, not_chordsmith, unloadable_model
    from core.paths import resolve_model_file

    model_file = resolve_model_file(path)
    check_model_archive(model_file)  # a zip bomb is refused before Keras inflates it
    try:
        model = keras.saving.load_model(model_file, compile=compile, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - a truncated or foreign file is reported the same way, in one line
        raise unloadable_model(model_file, error) from error
    try:
        config = model_config_of(model)
    except (InputError, AttributeError, TypeError, ValueError, IndexError) as error:
        raise not_chordsmith(model_file, error) from error
    check_fits_corpus(model_file, config.to_dict())
    broken = [weight.path for weight in model.weights if not np.isfinite(ops.convert_to_numpy(weight)).all()]
    if broken:  # evaluation, export and fine-tuning would run it and report nonsense: refused as inference refuses it
        raise diverged(model_file, broken)
    return model


def model_config_of(model: keras.Model) -> ModelConfig:
    """The :class:`ModelConfig` a built model has, read from its named layers.

    Works for any model built by :func:`build_model` (a run folder's ``config.json`` is not
    needed). Training-only settings (condition dropout) keep their defaults.
    """

    def layer(name: str):
        try:
            return model.get_layer(name)
        except ValueError:
            raise InputError(f"model has no layer {name!r}: not a Chordsmith model") from None

    chord_embedding = layer("chord_embedding")
    recurrent = [x for x in model.layers if x.name.split("_")[0] in CELLS and x.name.split("_")[-1].isdigit()]
    if not recurrent:
        raise InputError("model has no recurrent layers: not a Chordsmith model")
    values = {
        "vocab_size": int(chord_embedding.input_dim),
        "sequence_length": int(model.inputs[0].shape[1]),
        "embedding_dim": int(chord_embedding.output_dim),
        "conditioning_units": int(layer("conditioning_dense").units),
        "lstm_units": int(recurrent[0].units),
        "lstm_layers": len(recurrent),
        "cell": recurrent[0].name.split("_")[0],
        "dropout": float(layer("dropout_1").rate),
        "attention": any(x.name == "attention" for x in model.layers),
        "chord_encoding": KEY_RELATIVE if any(x.name == KEY_RELATIVE_LAYER for x in model.layers) else ABSOLUTE,
    }
    for name in ("genre", "mood", "key", "scale_type"):
        embedding = layer(f"{name}_embedding")
        values[f"{name}_count"] = int(embedding.input_dim)
        values[f"{name}_embedding_dim"] = int(embedding.output_dim)
    if values["attention"]:
        values["attention_heads"] = int(layer("attention").num_heads)
    if has_duration_head(model):
        values["context"] = SONG
        for name in ("section", "metre"):
            embedding = layer(f"{name}_embedding")
            values[f"{name}_count"], values[f"{name}_embedding_dim"] = int(embedding.input_dim), int(embedding.output_dim)
        values["duration_count"] = int(layer(DURATIONS_OUTPUT).layer.units)
    return ModelConfig(**values)
