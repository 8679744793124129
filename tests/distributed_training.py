"""A small training run in its own process, for tests/test_distribute.py (TF devices are fixed per process).

    python -m tests.distributed_training RUN_DIR [--strategy mirrored --cpu-replicas 2]

Trains the tiny model on :func:`tests.progression_frames.progression_frame` with every source
of randomness except the seeded initialisation turned off (no dropout, condition dropout,
transposition or shuffling), so runs under different strategies are comparable. Shuffling is
off because under a strategy Keras draws one batch from the training iterator to build the
model, which reshuffles a shuffled dataset: the epoch would then see another (equally random)
order than a single-device run. ``TF_CONFIG`` is read from the environment for ``--strategy
multiworker``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import core.training.train
from core.config import ModelConfig, TrainConfig
from core.dataset import make_dataset
from core.training.train import train
from tests.progression_frames import progression_frame

TINY_MODEL = ModelConfig(embedding_dim=8, genre_embedding_dim=4, mood_embedding_dim=4, key_embedding_dim=4,
                         scale_type_embedding_dim=2, conditioning_units=8, lstm_units=16, dropout=0.0, condition_dropout=0.0)


def comparable_config(strategy: str = "default", cpu_replicas: int | None = None, epochs: int = 2) -> TrainConfig:
    """Deterministic settings: global batch 16, seed 7, no augmentation, no dropout, no reports, float32 throughout."""
    return TrainConfig(batch_size=16, epochs=epochs, seed=7, run_name="distributed", augment=False, write_reports=False,
                       mixed_precision=False, strategy=strategy, cpu_replicas=cpu_replicas, model=TINY_MODEL)


def _unshuffled_dataset(frame, config, training: bool, length_limit=None):
    """:func:`core.dataset.make_dataset` in evaluation mode (same windows and labels, frame order; no curriculum)."""
    return make_dataset(frame, config, training=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--cpu-replicas", type=int)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    config = comparable_config(args.strategy, args.cpu_replicas, args.epochs)
    core.training.train.make_dataset = _unshuffled_dataset  # augmentation is off already; this only drops the shuffle
    train(config, frame=progression_frame(2), run_dir=args.run_dir)


if __name__ == "__main__":
    main()
