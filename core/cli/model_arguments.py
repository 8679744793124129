"""Options shared by commands: model-shape flags (``summary``, ``train``), condition flags (``generate``, ``score``)."""

from __future__ import annotations

import argparse

from core.cli.setting_flags import add_setting_flags, given_settings
from core.config import ModelConfig


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the model's flags (--lstm-units, --embedding-dim, --dropout, --layers, --cell, --attention, …) from ModelConfig."""
    group = parser.add_argument_group("model (defaults: the guide's architecture)")
    add_setting_flags(group, ModelConfig)


def model_config_from_args(args: argparse.Namespace) -> ModelConfig:
    """ModelConfig with the defaults, overridden by the flags given (validated)."""
    config = ModelConfig(**given_settings(args, ModelConfig))
    config.validate()
    return config


def add_condition_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --model, --genre, --mood, --key and --scale (the commands that run a trained model)."""
    parser.add_argument("--model", action="append", metavar="MODEL",
                        help="run folder or .keras file (default: the active model); repeat it to average several models' "
                        "probabilities (an ensemble)")
    parser.add_argument("--genre", help="e.g. pop, rock, jazz (default: unspecified)")
    parser.add_argument("--mood", help="happy, calm, tense or sad (default: unspecified)")
    parser.add_argument("--key", help="e.g. C, Am, 'Eb major' (default: unspecified)")
    parser.add_argument("--scale", help="major or minor (default: from the key, else unspecified)")


def conditions_from_args(args: argparse.Namespace):
    """The validated :class:`core.conditions.Conditions` the flags name (InputError on an unknown label)."""
    from core.conditions import Conditions

    return Conditions.parse(genre=args.genre, mood=args.mood, key=args.key, scale_type=args.scale)
