"""Training speed: the ``tf.data`` pipeline (:func:`core.dataset.make_dataset`) against the simplest fit on arrays.

All figures use one fixed, seeded sample of the train split (``train_windows`` windows; the
whole split at full size would make the benchmark take too long on a 2-core CPU), the default
architecture and a fresh model per pipeline:

* sequences/s for one epoch at batch 32 and 256 (median of repeated ``fit(epochs=1)`` calls
  after a warm-up epoch that traces the train step); the baseline is ``model.fit`` on the
  encoded NumPy arrays (no augmentation, Keras's own array adapter);
* time to first batch: from nothing built to the end of the first training step (encoding,
  pipeline construction, tracing); baseline: the same for the array fit;
* the same pipeline with the recurrent layers unrolled (``build_model(unroll=True)``) against the
  default while-loop layers, at batch 32;
* input starvation: a manual loop over the pipeline timing ``next(iterator)`` (waiting for data)
  apart from ``train_on_batch`` (the model's step). A step "waited" when its data wait exceeded
  10 % of the median model step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from bench.timing import Result, Stats

GROUP = "training"


@dataclass(frozen=True)
class TrainingSettings:
    """Sample size and repeats."""

    train_windows: int = 2048
    repeats: int = 3
    batch_sizes: tuple[int, ...] = (32, 256)
    starvation_steps: int = 100


def train_sample(windows: int, seed: int = 0):
    """A seeded sample of at most ``windows`` rows of the shipped table's train split."""
    from core.dataset import split_frame
    from core.evaluation.evaluate import shipped_table

    frame = split_frame(shipped_table(), "train")
    return frame.sample(n=min(windows, len(frame)), random_state=seed).reset_index(drop=True)


def _fresh_model(seed: int = 0, unroll: bool = False):
    import keras

    from core.config import ModelConfig
    from core.model import build_model, compile_model

    keras.utils.set_random_seed(seed)
    return compile_model(build_model(ModelConfig(), unroll=unroll))


def _first_batch_timer():
    """A Keras callback that records when the first training batch ended, then stops training."""
    import keras

    class FirstBatchTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.first_batch_end: float | None = None

        def on_train_batch_end(self, batch, logs=None):
            if self.first_batch_end is None:
                self.first_batch_end = time.perf_counter()
                self.model.stop_training = True

    return FirstBatchTimer()


def _epoch_stats(fit_one_epoch, windows: int, repeats: int) -> Stats:
    fit_one_epoch()  # warm-up: traces the train step
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fit_one_epoch()
        times.append(time.perf_counter() - start)
    return Stats.of(times).inverted(windows)


def throughput(frame, batch_size: int, repeats: int) -> tuple[Stats, Stats]:
    """(tf.data, arrays) sequences/s for one epoch over ``frame`` at ``batch_size``."""
    from core.dataset import DatasetConfig, encode_frame, make_dataset

    dataset = make_dataset(frame, DatasetConfig(batch_size=batch_size), training=True)
    pipeline_model = _fresh_model()
    pipeline = _epoch_stats(lambda: pipeline_model.fit(dataset, epochs=1, verbose=0), len(frame), repeats)
    encoded = encode_frame(frame)
    inputs, targets = encoded.inputs(), encoded.targets
    array_model = _fresh_model()
    arrays = _epoch_stats(
        lambda: array_model.fit(inputs, targets, batch_size=batch_size, epochs=1, shuffle=True, verbose=0), len(frame), repeats,
    )
    return pipeline, arrays


def unrolled_throughput(frame, batch_size: int, repeats: int) -> Stats:
    """Sequences/s for one tf.data epoch at ``batch_size`` with the recurrent layers unrolled."""
    from core.dataset import DatasetConfig, make_dataset

    dataset = make_dataset(frame, DatasetConfig(batch_size=batch_size), training=True)
    model = _fresh_model(unroll=True)
    return _epoch_stats(lambda: model.fit(dataset, epochs=1, verbose=0), len(frame), repeats)


def time_to_first_batch(frame, batch_size: int = 32) -> tuple[float, float, float]:
    """Seconds to the end of the first training step: (tf.data, arrays), and tf.data's first batch alone."""
    from core.dataset import DatasetConfig, encode_frame, make_dataset

    config = DatasetConfig(batch_size=batch_size)
    start = time.perf_counter()
    first = next(iter(make_dataset(frame, config, training=True)))
    pipeline_only = time.perf_counter() - start
    del first

    model = _fresh_model()
    timer = _first_batch_timer()
    start = time.perf_counter()
    model.fit(make_dataset(frame, config, training=True), epochs=1, verbose=0, callbacks=[timer])
    pipeline = timer.first_batch_end - start

    model = _fresh_model()
    timer = _first_batch_timer()
    start = time.perf_counter()
    encoded = encode_frame(frame)
    model.fit(encoded.inputs(), encoded.targets, batch_size=batch_size, epochs=1, verbose=0, callbacks=[timer])
    arrays = timer.first_batch_end - start
    return pipeline, arrays, pipeline_only


def starvation(frame, batch_size: int, steps: int) -> dict[str, float]:
    """Manual loop: time in ``next(iterator)`` vs in ``train_on_batch`` per step (after one warm-up step)."""
    from core.dataset import DatasetConfig, make_dataset

    model = _fresh_model()
    dataset = make_dataset(frame, DatasetConfig(batch_size=batch_size), training=True).repeat()
    iterator = iter(dataset)
    inputs, targets = next(iterator)
    model.train_on_batch(inputs, targets)  # trace
    waits, steps_s = [], []
    for _ in range(steps):
        start = time.perf_counter()
        inputs, targets = next(iterator)
        fetched = time.perf_counter()
        model.train_on_batch(inputs, targets)
        waits.append(fetched - start)
        steps_s.append(time.perf_counter() - fetched)
    waits_a, steps_a = np.array(waits), np.array(steps_s)
    threshold = 0.1 * float(np.median(steps_a))
    return {
        "median_wait_ms": float(np.median(waits_a) * 1000),
        "p95_wait_ms": float(np.percentile(waits_a, 95) * 1000),
        "max_wait_ms": float(waits_a.max() * 1000),
        "median_step_ms": float(np.median(steps_a) * 1000),
        "steps": len(waits),
        "steps_waited": int((waits_a > threshold).sum()),
        "wait_share": float(waits_a.sum() / (waits_a.sum() + steps_a.sum())),
        "wait_threshold_ms": threshold * 1000,
        "wait_spread_ms": float((np.percentile(waits_a, 75) - np.percentile(waits_a, 25)) * 1000),
        "step_spread_ms": float((np.percentile(steps_a, 75) - np.percentile(steps_a, 25)) * 1000),
    }


def run(settings: TrainingSettings) -> list[Result]:
    """Every training figure (module docstring)."""
    frame = train_sample(settings.train_windows)
    sample = f"{len(frame)} train windows (seeded sample), default architecture, fresh model per pipeline"
    results: list[Result] = []
    rolled: dict[int, Stats] = {}
    for batch in settings.batch_sizes:
        pipeline, arrays = throughput(frame, batch, settings.repeats)
        rolled[batch] = pipeline
        results.append(Result.from_stats(
            f"training_tfdata_batch{batch}_seq_per_s", GROUP, f"tf.data pipeline: sequences/s, one epoch at batch {batch}",
            "sequences/s", pipeline, "model.fit on NumPy arrays (no augmentation)", arrays,
            notes=f"{sample}; tf.data includes random transposition and condition dropout",
        ))
    unrolled = unrolled_throughput(frame, settings.batch_sizes[0], settings.repeats)
    results.append(Result.from_stats(
        f"training_unrolled_batch{settings.batch_sizes[0]}_seq_per_s", GROUP,
        f"tf.data pipeline, recurrent layers unrolled over the 12 steps: sequences/s at batch {settings.batch_sizes[0]}",
        "sequences/s", unrolled, "same pipeline, default (while-loop) recurrent layers", rolled[settings.batch_sizes[0]],
        notes=f"{sample}; build_model(unroll=True): same weights and maths, no tf.while_loop",
    ))
    pipeline_first, arrays_first, pipeline_only = time_to_first_batch(frame)
    results.append(Result(
        "training_time_to_first_step_s", GROUP, "time to first training step done (encode, pipeline, trace), batch 32",
        "s", pipeline_first, 0.0, 1, "model.fit on NumPy arrays", arrays_first,
        notes=f"{sample}; tf.data first batch alone (encode + build + next): {pipeline_only:.2f} s",
        extra={"tfdata_first_batch_only_s": pipeline_only},
    ))
    waits = starvation(frame, 32, settings.starvation_steps)
    results.append(Result(
        "training_input_wait_ms", GROUP, "input pipeline: median time in next(iterator) per step, batch 32", "ms",
        waits["median_wait_ms"], waits["wait_spread_ms"], waits["steps"], "median model step (train_on_batch)",
        waits["median_step_ms"], waits["step_spread_ms"],
        notes=(f"{waits['steps_waited']} of {waits['steps']} steps waited > 10 % of a model step "
               f"({waits['wait_threshold_ms']:.2f} ms); data wait = {waits['wait_share']:.2%} of loop time; "
               f"p95 wait {waits['p95_wait_ms']:.3f} ms, max {waits['max_wait_ms']:.2f} ms"),
        extra=waits,
    ))
    return results
