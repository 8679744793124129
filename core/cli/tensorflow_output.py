"""Keeping TensorFlow's start-up and C++ log lines off the user's terminal (``--verbose`` shows them).

TensorFlow writes from C++ straight to file descriptor 2: at import ("All log messages before
absl::InitializeLog()…", "oneDNN custom operations are on…", "This TensorFlow binary is
optimized…"), and again while converting a model (``export``: "E0000 … NodeDef mentions attribute
Truncate…", the TFLite converter's "Reading SavedModel…" lines), none of which is a problem the
user should act on. ``TF_CPP_MIN_LOG_LEVEL`` silences only part of it (the absl and oneDNN lines
come before it is read), so :func:`quiet_tensorflow` also points descriptor 2 at ``/dev/null`` for
the block it guards. Python exceptions still propagate and are printed by :func:`core.cli.main`
after the block as one ``error:`` line; ``--verbose`` leaves everything as TensorFlow prints it.

The commands that need TensorFlow (train, evaluate, export, summary, data batch) import it through
:func:`import_tensorflow` first thing; generate, score and serve do not import it at all, except to
load an attention model or a model saved before its NumPy weights existed (:mod:`core.generation.loading`),
which they do inside :func:`quiet_tensorflow`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator

#: modules whose Python warnings (deprecations, "compiled metrics" notes) are hidden unless --verbose.
NOISY_MODULES = r"(keras|tensorflow|tf2onnx|tf_keras|absl|google\.protobuf)(\.|$)"


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--verbose``: show TensorFlow's own start-up and log lines."""
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's start-up and C++ log lines")


@contextlib.contextmanager
def quiet_tensorflow(verbose: bool = False) -> Iterator[None]:
    """Unless ``verbose``: TensorFlow's logging turned down, and file descriptor 2 sent to ``/dev/null`` for the block."""
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=NOISY_MODULES)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow and Keras now, their start-up lines hidden unless ``verbose`` (see the module docstring)."""
    with quiet_tensorflow(verbose):
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    if not verbose:  # absl's Python logger (Keras and TensorFlow warn through it): errors only
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
