"""``python -m core owner``: the studio owner's password and the HTTP API's key, stored as hashes only.

``owner set-password`` reads the password without echo (twice, to catch a typo) when run at a
terminal, or one line from standard input otherwise (``… | python -m core owner set-password``), and
stores only its salted scrypt hash (:mod:`core.credentials`) in ``.streamlit/secrets.toml``; the
password is never printed, logged or written. ``owner new-api-key`` makes a random API key, prints it
once and stores its hash. ``owner status`` says what is set; ``owner clear-password`` and
``owner clear-api-key`` remove them. A running studio or API reads the file when asked, so a restart
is not needed for the password; the API reads its key at start.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from core import credentials
from core.errors import InputError


def register(subparsers) -> None:
    """Add the ``owner`` sub-command and its actions."""
    parser = subparsers.add_parser(
        "owner", help="set the studio owner's password or the API key (stored as hashes)",
        description="Who may manage a shared studio and call a shared API. Secrets are kept as hashes in "
        ".streamlit/secrets.toml (or the file CHORDSMITH_SECRETS names); never in plain text.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("set-password", help="set the owner password (asked without echo; or one line on stdin)")
    actions.add_parser("clear-password", help="remove the owner password (a studio on 127.0.0.1 is yours again)")
    actions.add_parser("new-api-key", help="make a new API key: printed once, only its hash is kept")
    actions.add_parser("clear-api-key", help="remove the API key")
    actions.add_parser("status", help="say whether a password and an API key are set, and where")
    parser.set_defaults(handler=run)


def read_password(stdin=None) -> str:
    """The new password: asked twice without echo at a terminal, else the first line of standard input."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("New owner password: ")
        if getpass.getpass("Once more: ") != first:
            raise InputError("the two passwords differ; nothing was changed")
        return first
    return stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace) -> int:
    """Carry out the ``owner`` action; one line says what changed (never the password)."""
    where = credentials.secrets_file()
    if args.action == "set-password":
        path = credentials.store_hash(credentials.OWNER_KEY, credentials.hashed(credentials.checked_password(
            read_password())))
        print(f"owner password set (its scrypt hash is in {path}); sign in from the studio's sidebar")
    elif args.action == "clear-password":
        credentials.store_hash(credentials.OWNER_KEY, None)
        print(f"owner password removed from {where}")
    elif args.action == "new-api-key":
        key = credentials.new_api_key()
        path = credentials.store_hash(credentials.API_KEY_KEY, credentials.key_hashed(key))
        print(f"API key (shown this once; its hash is in {path}; send it as 'Authorization: Bearer <key>'):\n{key}")
    elif args.action == "clear-api-key":
        credentials.store_hash(credentials.API_KEY_KEY, None)
        print(f"API key removed from {where}")
    else:
        for key, what in ((credentials.OWNER_KEY, "owner password"), (credentials.API_KEY_KEY, "API key")):
            source = credentials.ENVIRONMENT[key] if os.environ.get(credentials.ENVIRONMENT[key]) else where
            print(f"{what}: {'set (' + str(source) + ')' if credentials.stored_hash(key) else 'not set'}")
    return 0
