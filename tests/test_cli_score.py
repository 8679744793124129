"""``python -m core score`` (core/cli/score.py, core/cli/line_input.py): stdin read in bounded batches.

10 MB of stdin with flat memory, results in order, an over-long or non-UTF-8 line named by its
number, and a reader that leaves early (``| head -1``) ends the command quietly.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from tests.cli_output import one_error_line
from tests.tiny_models import saved_tiny_model

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> str:
    return str(saved_tiny_model(tmp_path_factory.mktemp("tiny")))



def test_score_streams_many_lines_in_order(tiny_dir, capsys, monkeypatch) -> None:
    from core.cli.line_input import BATCH_LINES

    progressions = ["C G Am F", "Dm7 G7 Cmaj7", "Am F C G"]
    count = BATCH_LINES * 2 + 7
    lines = "\n".join(progressions[i % 3] if i % 5 else "" for i in range(count))
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["score", "--model", tiny_dir, "--key", "C", "--format", "json"]) == 0
    results = json.loads(capsys.readouterr().out)
    expected = [progressions[i % 3] for i in range(count) if i % 5]
    assert [" ".join(r["chords"]) for r in results] == expected


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        (b"C G\n\nC " + b"x" * 10_000_000, "line 3 of the input is longer than 4096 bytes"),
        (b"C G\nAm \xff\xfe F\n", "line 2 of the input is not UTF-8 text"),
        (b"C G\nC Q7\n", "line 2: unknown chord symbol 'Q7'"),
        (b"C G\n" + b"C G " * 40 + b"\n", "line 2: a progression may hold at most 64 chords, got 80"),
        (b"\n  \n", "no progressions"),
    ],
)
def test_bad_stdin_lines_are_named_by_number(tiny_dir, capsys, monkeypatch, stdin: bytes, needle: str) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    assert main(["score", "--model", tiny_dir]) == 2
    assert needle in one_error_line(capsys)


def test_a_reader_that_leaves_early_stops_score_quietly(tiny_dir, tmp_path) -> None:
    """``score < big | head -1``: the closed pipe ends the command with status 1 and nothing on stderr."""
    stdin = tmp_path / "many.txt"
    stdin.write_text("C G Am F\n" * 20_000, encoding="utf-8")
    with open(stdin, "rb") as given:
        process = subprocess.Popen([sys.executable, "-m", "core", "score", "--model", tiny_dir, "--key", "C"], cwd=ROOT,
                                   stdin=given, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env={**os.environ, "CHORDSMITH_OUTPUT": str(tmp_path)})
        assert process.stdout.readline().split()[:2] == [b"C", b"G"]
        process.stdout.close()
        _, err = process.communicate(timeout=300)
    assert process.returncode == 1 and err == b"", err


PEAK_RSS_SCRIPT = """
import resource, sys
from core.cli import main
status = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)  # kilobytes on Linux
sys.exit(status)
"""


def _peak_rss_kb(argv: list[str], stdin: Path, tmp_path: Path) -> int:
    with open(stdin, "rb") as given:
        done = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT, *argv], stdin=given, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=600,
                              env={**os.environ, "CHORDSMITH_OUTPUT": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    return int(done.stderr.strip().splitlines()[-1])


def test_score_memory_stays_flat_over_10_mb_of_stdin(tiny_dir, tmp_path) -> None:
    """20,000 ten-chord progressions padded to 10 MB; read whole and scored at once they took ~500 MB more."""
    line = "C G Am F C G Am F C G"
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    big.write_text((line.ljust(499) + "\n") * 20_000, encoding="utf-8")
    small.write_text((line.ljust(499) + "\n") * 4, encoding="utf-8")
    assert big.stat().st_size == 10_000_000
    argv = ["score", "--model", tiny_dir, "--key", "C"]
    baseline = _peak_rss_kb(argv, small, tmp_path)  # also writes the inference weights once
    growth_mb = (_peak_rss_kb(argv, big, tmp_path) - baseline) / 1024
    assert growth_mb < 300, f"peak RSS grew {growth_mb:.0f} MB over 10 MB of stdin"
