"""Errors that carry a message meant for the person at the keyboard.

Anything raised as an :class:`InputError` is bad input, not a bug: the command line prints
its message on one line and exits with status 2, the pages show it with ``st.error``, and
the HTTP API answers 422 with it.
"""


class InputError(ValueError):
    """Bad input from a user: an unknown label, chord symbol, or an out-of-range number."""
