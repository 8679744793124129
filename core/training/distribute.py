"""Scale-out training: the ``tf.distribute`` strategy a run builds and compiles its model under.

``make_strategy(name)``:

* ``default``: TensorFlow's default strategy (one device; what training always did);
* ``mirrored``: :class:`tf.distribute.MirroredStrategy` over every local GPU, or over
  ``cpu_replicas`` logical CPU devices when that is given (tests, CPU-only machines);
* ``multiworker``: :class:`tf.distribute.MultiWorkerMirroredStrategy` across the machines named in
  the ``TF_CONFIG`` environment variable (one process per machine; see docs/api-and-exports.md).

``TrainConfig.batch_size`` is the **global** batch: Keras's ``fit`` splits every batch across the
replicas in sync (each of N replicas sees ``batch_size / N`` windows) and sums their gradients; the
model's loss divides by N under a strategy so the sum is the mean, as on one device.

Logical CPU devices and multi-worker collectives can only be set up before TensorFlow has run
anything in the process, so build the strategy first (``python -m core train`` does).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from core.config import STRATEGIES
from core.errors import InputError


def validate_strategy(name: str, cpu_replicas: int | None = None) -> None:
    """Raise :class:`InputError` for an unknown strategy, bad replica count or missing TF_CONFIG."""
    if name not in STRATEGIES:
        raise InputError(f"unknown strategy {name!r}; accepted: {', '.join(STRATEGIES)}")
    if cpu_replicas is not None:
        if int(cpu_replicas) < 1:
            raise InputError(f"cpu replicas must be at least 1, got {cpu_replicas}")
        if name != "mirrored":
            raise InputError("--cpu-replicas only applies to --strategy mirrored")
    if name == "multiworker":
        cluster_spec()


def cluster_spec() -> dict:
    """``TF_CONFIG`` parsed and checked: ``{"cluster": {...}, "task": {"type", "index"}}``."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        raise InputError("--strategy multiworker needs the TF_CONFIG environment variable (cluster and task); "
                         "see docs/api-and-exports.md")
    try:
        spec = json.loads(raw)
        cluster, task = spec["cluster"], spec["task"]
        members = cluster[task["type"]]
        if not 0 <= int(task["index"]) < len(members):
            raise InputError(f"TF_CONFIG task index {task['index']} is outside its {len(members)} {task['type']} addresses")
    except (ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"TF_CONFIG is not a valid cluster description ({type(exc).__name__}: {exc})") from None
    return spec


def _configure_cpu_replicas(replicas: int) -> list[str]:
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(int(replicas))]
    current = tf.config.get_logical_device_configuration(cpus[0])
    if current is None or len(current) != len(wanted):
        try:
            tf.config.set_logical_device_configuration(cpus[0], wanted)
        except RuntimeError:
            raise InputError(
                f"cannot split the CPU into {replicas} devices: TensorFlow already started in this process "
                "(run training in a fresh process, e.g. python -m core train --cpu-replicas N)"
            ) from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def make_strategy(name: str = "default", cpu_replicas: int | None = None):
    """The ``tf.distribute.Strategy`` called ``name`` (see the module docstring)."""
    validate_strategy(name, cpu_replicas)
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if cpu_replicas is not None:
            return tf.distribute.MirroredStrategy(devices=_configure_cpu_replicas(cpu_replicas))
        return tf.distribute.MirroredStrategy()  # every local GPU; the CPU alone when there is none
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as exc:
        raise InputError(f"cannot start multi-worker training: {exc}") from None


def prepare_model(model, strategy):
    """``model`` ready to ``fit`` under ``strategy`` (compiled, inside ``strategy.scope()``); returns it.

    Works around two Keras 3 (3.15) bugs under :class:`tf.distribute.MultiWorkerMirroredStrategy`
    (tensorflow/tensorflow#72388); other strategies are left alone:

    * before training, ``fit`` pulls one batch to build the loss, metrics and optimizer and averages
      it across workers with ``strategy.reduce``, which the collective strategy cannot do for a dict
      of inputs (``ValueError: Attempt to convert a value ({'chord_sequence_input': PerReplica…``).
      Everything is built up front from the model's input specs instead, and that pull is skipped;
    * each step's logs are averaged across workers with ``strategy.reduce("MEAN", value, axis=0)``,
      which fails for the scalar loss and metrics (``Invalid reduction dimension 0 for input with 0
      dimensions``). The model's ``train_step``/``test_step`` are wrapped to return each value as a
      one-element vector, which that reduction averages into the scalar Keras expects: the mean over
      workers of each worker's value (for the loss, the global batch mean; for the accuracies, the
      mean of the workers' shard accuracies).
    """
    import keras
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return model
    build = getattr(model, "_symbolic_build", None)
    if build is None or not hasattr(model, "_maybe_symbolic_build"):
        return model  # a Keras without the pull: nothing to work around
    inputs = {tensor.name.split(":")[0]: keras.KerasTensor(tensor.shape, tensor.dtype) for tensor in model.inputs}
    targets = keras.KerasTensor(model.inputs[0].shape, "int32")  # next-chord ids, one per input position
    with strategy.scope():
        build(data_batch=(inputs, targets))
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    model.train_step = _logs_as_vectors(model.train_step)
    model.test_step = _logs_as_vectors(model.test_step)
    return model


def _logs_as_vectors(step):
    """``step`` with every returned log value reshaped to a one-element vector (see :func:`prepare_model`)."""
    from keras import ops

    def wrapped(data):
        return {name: ops.reshape(value, (1,)) for name, value in step(data).items()}

    return wrapped


def replicas(strategy) -> int:
    """Replicas in sync (all workers' devices together)."""
    return int(strategy.num_replicas_in_sync)


def is_chief(strategy) -> bool:
    """Whether this process writes the run's artifacts: always, except on multi-worker non-chief workers.

    The chief is the ``chief`` task when the cluster has one, else worker 0.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if resolver is None or task_type is None:
        return True
    cluster = resolver.cluster_spec().as_dict()
    if "chief" in cluster:
        return task_type == "chief"
    return task_type == "worker" and int(resolver.task_id) == 0


def worker_run_dir(run_dir: Path, strategy) -> Path:
    """``run_dir`` on the chief; elsewhere a fresh temporary folder (the worker's copies are thrown away)."""
    if is_chief(strategy):
        return Path(run_dir)
    resolver = strategy.cluster_resolver
    return Path(tempfile.mkdtemp(prefix=f"chordsmith-{resolver.task_type}{resolver.task_id}-"))
