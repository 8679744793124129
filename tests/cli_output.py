"""What a failed command printed: the one ``error:`` line the command line promises, never a traceback."""

from __future__ import annotations


def one_error_line(capsys) -> str:
    """The single ``error:`` line a failed command wrote (asserting it is one line, without a traceback)."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.out + captured.err
    return lines[0]
