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

Two more parts, each its own section of ``python -m bench``:

* ``levers`` (:func:`lever_rows`): the speed levers tried for time to quality, each as sequences
  per CPU-second of the training process (all its threads; a load-proof measure on a shared
  machine, where wall seconds mostly say what the neighbours did) beside batch 32, the guide's:
  larger batches, XLA (``jit_compile``), unrolled recurrent layers, GRU, bfloat16 mixed precision,
  and windows cut to 9 steps (what length bucketing could save at most);
* ``time_to_quality`` (:func:`time_to_quality`): from nothing to a validation loss of 2.285 (the
  shipped guide-recipe model's best) on the songs every earlier figure is on (the seven original
  sources, :data:`core.corpus.table.ORIGINAL_SOURCES`: their train songs to learn from, their 565
  validation songs to measure), wall seconds and CPU-seconds, for the studio's default recipe
  (key-relative chords) and, in the same run, the guide's (batch 32, Adam 1e-3, constant, absolute
  chords with random transposition: the model as designed), each training under the machine's
  training lock and stopped once it gets there (or at its cap).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

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


# --------------------------------------------------------------------------- speed levers


#: lever label -> (build/fit options) measured against batch 32 (the guide's); see lever_rows.
LEVERS: dict[str, dict] = {
    "batch 64": {"batch": 64},
    "batch 128": {"batch": 128},
    "batch 256": {"batch": 256},
    "batch 512": {"batch": 512},
    "batch 256, XLA (jit_compile)": {"batch": 256, "jit": True},
    "batch 256, recurrent layers unrolled": {"batch": 256, "unroll": True},
    "batch 256, GRU cell": {"batch": 256, "cell": "gru"},
    "batch 256, bfloat16 mixed precision": {"batch": 256, "bfloat16": True},
    "batch 256, windows cut to 9 steps (bucketing's upper bound)": {"batch": 256, "length": 9},
}


def _lever_epoch(frame, options: dict, repeats: int) -> tuple[Stats, Stats]:
    """(sequences per CPU-second, sequences per wall second) of one-epoch fits with ``options`` (after a warm-up epoch)."""
    import keras

    from core.config import ModelConfig
    from core.dataset import DatasetConfig, make_dataset
    from core.model import build_model, compile_model, precision

    keras.utils.set_random_seed(0)
    length = options.get("length", 12)
    with precision(options.get("bfloat16", False)):
        model = build_model(ModelConfig(cell=options.get("cell", "lstm"), sequence_length=length),
                            unroll=options.get("unroll", False))
    compile_model(model, jit_compile=options.get("jit", False))
    dataset = make_dataset(frame, DatasetConfig(batch_size=options["batch"], sequence_length=length), training=True)
    model.fit(dataset, epochs=1, verbose=0)  # warm-up: traces the step
    cpu, wall = [], []
    for _ in range(repeats):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    return Stats.of(cpu).inverted(len(frame)), Stats.of(wall).inverted(len(frame))


def lever_rows(frame, repeats: int, levers: dict[str, dict] | None = None) -> list[Result]:
    """One row per lever: sequences per CPU-second against batch 32's, wall sequences/s in the notes."""
    base_cpu, base_wall = _lever_epoch(frame, {"batch": 32}, repeats)
    results = []
    for label, options in (levers or LEVERS).items():
        cpu, wall = _lever_epoch(frame, options, repeats)
        key = label.split(",")[0].replace(" ", "") + "".join(f"_{k}" for k in options if k != "batch")
        results.append(Result.from_stats(
            f"training_lever_{key}_seq_per_cpu_s", "training levers", f"{label}: sequences per CPU-second", "sequences/s",
            cpu, "batch 32, float32, while-loop LSTM (the guide)", base_cpu,
            notes=(f"{len(frame)} train windows; wall {wall.median:.0f} vs {base_wall.median:.0f} sequences/s "
                   f"(load {os.getloadavg()[0]:.1f})"),
            extra={"wall_seq_per_s": wall.median, "baseline_wall_seq_per_s": base_wall.median, "options": options},
        ))
    return results


# --------------------------------------------------------------------------- time to quality


#: the validation loss the issue's time-to-quality row is measured to: the shipped guide-recipe model's best.
TARGET_VAL_LOSS = 2.285


@dataclass(frozen=True)
class TimeToQualitySettings:
    """Target and caps (minutes of training; a recipe that has not reached the target by then is reported as "> cap")."""

    target: float = TARGET_VAL_LOSS
    default_cap_minutes: float = 30.0
    guide_cap_minutes: float = 45.0


def train_until(config, target: float) -> dict:
    """Train ``config`` from scratch (a temporary run folder) until val_loss <= ``target`` or its cap.

    Holds the machine's training lock. Returns wall and CPU seconds to the first epoch at or
    below the target (``None`` if never), the validation curve and the load averages seen.
    """
    from core.run_files import request_stop
    from core.training.lock import training_lock
    from core.training.train import train

    curve: list[dict] = []
    reached: dict = {}
    with tempfile.TemporaryDirectory(prefix="chordsmith-ttq-") as folder, training_lock(config.run_name):
        run_dir = Path(folder) / config.run_name
        wall_start, cpu_start = time.perf_counter(), time.process_time()

        def progress(record: dict) -> None:
            if record.get("status") != "running" or record.get("val_loss") is None:
                return
            point = {"epoch": record["epoch"], "val_loss": record["val_loss"], "wall_s": time.perf_counter() - wall_start,
                     "cpu_s": time.process_time() - cpu_start, "load": round(os.getloadavg()[0], 2)}
            curve.append(point)
            if not reached and record["val_loss"] <= target:
                reached.update(point)
                request_stop(run_dir)  # the epoch after ends at its first batch

        train(config, progress_callback=progress, run_dir=run_dir)
    return {"reached": reached or None, "curve": curve, "cap_minutes": config.max_minutes,
            "recipe": {k: v for k, v in config.to_dict().items() if k not in ("model", "corpus_table")},
            "chord_encoding": config.model.chord_encoding}


def original_table(folder: Path) -> Path:
    """The shipped table's rows of the seven original sources, written to ``folder`` (what the target was set on)."""
    from core.corpus.table import original_songs, shipped_table, write_table

    path = folder / "original-sources.csv.gz"
    write_table(original_songs(shipped_table()), path)
    return path


def time_to_quality(settings: TimeToQualitySettings) -> list[Result]:
    """The ``training_time_to_quality_s`` row: the studio's default recipe against the guide's, measured in one run."""
    from core.config import RECIPES, TrainConfig

    with tempfile.TemporaryDirectory(prefix="chordsmith-ttq-table-") as folder:
        table = str(original_table(Path(folder)))
        default = train_until(TrainConfig(run_name="ttq-default", write_reports=False, corpus_table=table,
                                          max_minutes=settings.default_cap_minutes), settings.target)
        guide = train_until(TrainConfig(run_name="ttq-guide", write_reports=False, corpus_table=table).updated(
            {**RECIPES["guide"], "max_minutes": settings.guide_cap_minutes, "chord_encoding": "absolute"}), settings.target)

    def seconds(run: dict, key: str, cap: float) -> tuple[float, bool]:
        return (run["reached"][key], True) if run["reached"] else (cap * 60.0, False)

    mine, mine_reached = seconds(default, "wall_s", settings.default_cap_minutes)
    theirs, theirs_reached = seconds(guide, "wall_s", settings.guide_cap_minutes)
    cpu = {name: run["reached"]["cpu_s"] if run["reached"] else None for name, run in (("default", default), ("guide", guide))}
    loads = [p["load"] for run in (default, guide) for p in run["curve"]]
    bound = "" if theirs_reached else f"guide not there within its {settings.guide_cap_minutes:g}-min cap: > {theirs:.0f} s, "
    bound += "" if mine_reached else f"default not there within its {settings.default_cap_minutes:g}-min cap: > {mine:.0f} s, "
    return [Result(
        "training_time_to_quality_s", "time to quality",
        f"wall seconds from nothing to val_loss <= {settings.target} (the seven original sources' validation songs), "
        "studio default recipe, key-relative chords", "s",
        mine, 0.0, 1, "guide recipe (batch 32, Adam 1e-3, constant, halved on plateaus; absolute chords)", theirs,
        target="<= 120 s with a ratio >= 5 on an idle 2-core machine",
        notes=(f"{bound}ratio {'>= ' if not theirs_reached else ''}{theirs / mine:.2f}x; CPU-seconds to the target: "
               f"default {_shown(cpu['default'])}, guide {_shown(cpu['guide'])}; load average during the run "
               f"{min(loads, default=0):.1f}-{max(loads, default=0):.1f}"),
        extra={"default": default, "guide": guide, "cpu_seconds": cpu, "guide_reached": theirs_reached,
               "default_reached": mine_reached},
    )]


def _shown(seconds: float | None) -> str:
    return "not reached" if seconds is None else f"{seconds:.0f} s"
