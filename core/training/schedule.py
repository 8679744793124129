"""The learning rate over a run: constant (the guide's recipe) or linear warm-up then cosine decay.

``cosine`` is Keras's own :class:`~keras.optimizers.schedules.CosineDecay` (serialisable, so a
saved optimizer keeps it): the rate climbs linearly from a hundredth of ``lr`` to ``lr`` over
``warmup_epochs``, then follows half a cosine down to a hundredth of ``lr`` at the end of the
last planned epoch. The position in the schedule is the optimizer's step counter, which the
epoch checkpoint saves, so a resumed run continues where it stopped; resuming with more epochs
stretches the decay over the new total from the current step.

With ``constant`` the rate is ``lr`` and the guide's ReduceLROnPlateau halves it when the
validation loss stalls; a schedule leaves no room for that callback (Keras cannot set a rate a
schedule computes), so it is only added for ``constant``.
"""

from __future__ import annotations

import math

from core.config import TrainConfig

#: the cosine schedule's start (before warm-up) and floor (after decay), as a share of ``lr``.
FLOOR_SHARE = 0.01


def steps_per_epoch(train_windows: int, batch_size: int) -> int:
    """Optimizer steps in one epoch over ``train_windows`` windows (the last batch may be short)."""
    return max(1, math.ceil(train_windows / batch_size))


def learning_rate(config: TrainConfig, train_windows: int):
    """The optimizer's ``learning_rate`` for ``config``: a float (constant) or a Keras schedule (cosine)."""
    if config.schedule == "constant":
        return config.lr
    import keras

    steps = steps_per_epoch(train_windows, config.batch_size)
    total = steps * config.epochs
    warmup = min(int(round(config.warmup_epochs * steps)), total - 1)
    if warmup <= 0:
        return keras.optimizers.schedules.CosineDecay(config.lr, decay_steps=total, alpha=FLOOR_SHARE)
    return keras.optimizers.schedules.CosineDecay(
        config.lr * FLOOR_SHARE, decay_steps=total - warmup, alpha=FLOOR_SHARE, warmup_target=config.lr, warmup_steps=warmup,
    )


def plateau_callbacks(config: TrainConfig) -> list:
    """ReduceLROnPlateau (halve after ``reduce_lr_patience`` epochs without progress) for the constant schedule only."""
    if config.schedule != "constant":
        return []
    import keras

    return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=config.reduce_lr_patience, min_lr=1e-5)]
