"""Errors that carry a message meant for the person at the keyboard.

Anything raised as an :class:`InputError` is bad input, not a bug: the command line prints
its message on one line and exits with status 2, the pages show it with ``st.error``, and
the HTTP API answers 422 with it. An :class:`EnvironmentFault` (or an ``OSError`` that
reaches the command line) is the machine's fault, not the input's: status 1; so is a
:class:`ModelFault`, a model file that cannot be used.
"""

import errno


class InputError(ValueError):
    """Bad input from a user: an unknown label, chord symbol, or an out-of-range number."""


class EnvironmentFault(RuntimeError):
    """The machine, not the input, stopped the work: a full disk, a missing permission, a path blocked by a file.

    The command line prints its message on one line and exits with status 1 (the same command
    works once the machine is put right); the pages show it with ``st.error``.
    """


class ModelFault(EnvironmentFault):
    """A trained model file that cannot be used: damaged, foreign, refused by safe mode, or made for another corpus.

    The input named an existing file; the file is at fault, so, like other environment faults, the
    command line exits with status 1. :mod:`core.model_faults` words the reason.
    """


#: errno -> what it means for the person at the keyboard, in the words :func:`os_error_message` uses.
_OS_ERROR_WORDS: dict[int, str] = {
    errno.ENOSPC: "the disk is full (no space left on device)",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EISDIR: "a folder stands where a file is needed",
}


def os_error_message(error: OSError) -> str:
    """One line for an operating-system failure: what went wrong (a full disk, a permission) and on which path."""
    words = _OS_ERROR_WORDS.get(error.errno or 0) or str(error.strerror or error or type(error).__name__)
    return f"{words}: {error.filename}" if error.filename is not None else words
