"""Options shared by commands: model-shape flags (``summary``, ``train``), condition flags (``generate``, ``score``)."""

from __future__ import annotations

import argparse

#: flag destination -> ModelConfig field.
MODEL_FLAGS: dict[str, str] = {
    "lstm_units": "lstm_units", "embedding_dim": "embedding_dim", "dropout": "dropout", "layers": "lstm_layers",
    "cell": "cell", "attention": "attention", "condition_dropout": "condition_dropout",
}


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --lstm-units, --embedding-dim, --dropout, --layers, --cell, --attention, --condition-dropout (defaults: None)."""
    group = parser.add_argument_group("model (defaults: the guide's architecture)")
    group.add_argument("--lstm-units", type=int, help="units per recurrent layer (default 256)")
    group.add_argument("--embedding-dim", type=int, help="chord embedding size (default 128)")
    group.add_argument("--dropout", type=float, help="dropout after each recurrent layer (default 0.3)")
    group.add_argument("--layers", type=int, help="number of recurrent layers (default 2)")
    group.add_argument("--cell", choices=("lstm", "gru"), help="recurrent cell (default lstm)")
    group.add_argument(
        "--attention", action="store_true", default=None, help="add causal self-attention after the recurrent layers",
    )
    group.add_argument("--condition-dropout", type=float, help="training-time chance of blanking each condition (default 0.1)")


def model_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The ModelConfig fields the user set on the command line."""
    return {field: getattr(args, flag) for flag, field in MODEL_FLAGS.items() if getattr(args, flag, None) is not None}


def model_config_from_args(args: argparse.Namespace):
    """ModelConfig with the defaults, overridden by the flags given (validated)."""
    from core.model import ModelConfig

    config = ModelConfig(**model_overrides(args))
    config.validate()
    return config


def add_condition_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --model, --genre, --mood, --key and --scale (the commands that run a trained model)."""
    parser.add_argument("--model", help="run folder or .keras file (default: the active model)")
    parser.add_argument("--genre", help="e.g. pop, rock, jazz (default: unspecified)")
    parser.add_argument("--mood", help="happy, calm, tense or sad (default: unspecified)")
    parser.add_argument("--key", help="e.g. C, Am, 'Eb major' (default: unspecified)")
    parser.add_argument("--scale", help="major or minor (default: from the key, else unspecified)")


def conditions_from_args(args: argparse.Namespace):
    """The validated :class:`core.conditions.Conditions` the flags name (InputError on an unknown label)."""
    from core.conditions import Conditions

    return Conditions.parse(genre=args.genre, mood=args.mood, key=args.key, scale_type=args.scale)
