"""Command-line flags derived from :mod:`core.config`: one flag per setting, its type, help and limits from there.

A flag that is not given leaves no attribute (``argparse.SUPPRESS``), so a command can tell the
settings the user typed from the defaults (``train --config`` lets the flags given override the
file), even where a typed value means "none" (``--max-minutes 0``). A value the
setting refuses stops argparse with one ``error:`` line naming the flag, the value and what is
accepted (exit status 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

from core.config import Setting, SettingsBase
from core.errors import InputError


def setting_type(spec: Setting) -> Callable[[str], Any]:
    """An argparse ``type`` that checks text with ``spec`` (refusals become argparse errors)."""

    def parse(text: str) -> Any:
        try:
            return spec.check(text)
        except InputError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _help(spec: Setting) -> str:
    default = "" if spec.default is None or spec.kind is bool else f"; default {spec.default}"
    return f"{spec.help} ({spec.accepted()}{default})"


def add_setting_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, config: type[SettingsBase],
                      names: Iterable[str] | None = None) -> None:
    """Add the flags of ``config``'s settings (all that have flags, or only ``names``); none has a default.

    A boolean setting is a switch: ``--name`` sets it true when its default is false, and a
    ``--no-…`` flag sets it false when its default is true.
    """
    for name, spec in config.settings().items():
        if not spec.cli_flags or (names is not None and name not in names):
            continue
        if spec.kind is bool:
            parser.add_argument(*spec.cli_flags, dest=name, action="store_const", const=not spec.default,
                                default=argparse.SUPPRESS,
                                help=spec.help if not spec.default else f"no {spec.help}")
        else:
            metavar = "{" + ",".join(spec.choices) + "}" if spec.choices else spec.name.upper()
            parser.add_argument(*spec.cli_flags, dest=name, type=setting_type(spec), default=argparse.SUPPRESS,
                                metavar=metavar,
                                help=_help(spec))


def given_settings(args: argparse.Namespace, config: type[SettingsBase]) -> dict[str, Any]:
    """The settings of ``config`` the user gave on the command line (already checked), by field name."""
    given = vars(args)
    return {name: given[name] for name in config.settings() if name in given}


def flag_of(config: type[SettingsBase], name: str) -> str:
    """The (first) flag of a setting, for messages."""
    return config.settings()[name].cli_flags[0]
