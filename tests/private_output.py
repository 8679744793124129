"""A private output folder for a test: ``CHORDSMITH_OUTPUT`` and the paths derived from it, so nothing touches output/;
and a private, empty secrets file (``CHORDSMITH_SECRETS``): the studio's local user is its owner, as the tests expect.

The environment variable reaches the processes a test starts (trainings, servers); the module attributes of
:mod:`core.paths` reach this process, which read them at import.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core import paths


def private_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the output folder (and its runs folder and active-model file) at ``tmp_path/output``; returns it."""
    out = tmp_path / "output"
    monkeypatch.setenv("CHORDSMITH_OUTPUT", str(out))
    monkeypatch.setattr(paths, "OUTPUT_DIR", out)
    monkeypatch.setattr(paths, "RUNS_DIR", out / "runs")
    monkeypatch.setattr(paths, "ACTIVE_MODEL_FILE", out / "active_model.txt")
    monkeypatch.setenv("CHORDSMITH_SECRETS", str(tmp_path / "secrets.toml"))  # no owner password, no API key
    for variable in ("CHORDSMITH_OWNER_PASSWORD_HASH", "CHORDSMITH_API_KEY_HASH"):
        monkeypatch.delenv(variable, raising=False)
    return out
