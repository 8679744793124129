"""A private, empty secrets file for tests of the owner's password and the API key (nothing from the environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import credentials


def private_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point CHORDSMITH_SECRETS at an empty file under ``tmp_path`` and clear every credential environment variable."""
    path = tmp_path / "secrets.toml"
    monkeypatch.setenv("CHORDSMITH_SECRETS", str(path))
    for variable in credentials.ENVIRONMENT.values():
        monkeypatch.delenv(variable, raising=False)
    return path
