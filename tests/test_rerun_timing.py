"""Server-side timing of each script run (studio.rerun_timing): off by default, one JSON line per run when asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner import script_runner
from streamlit.testing.v1 import AppTest

from studio import rerun_timing


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """install() not yet called in this process, and Streamlit's runner put back as it was after the test."""
    monkeypatch.setattr(rerun_timing, "_INSTALLED", [])
    monkeypatch.setattr(script_runner, "exec_func_with_error_handling", script_runner.exec_func_with_error_handling)


def test_without_the_variable_nothing_is_installed(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(rerun_timing.LOG_VARIABLE, raising=False)
    before = script_runner.exec_func_with_error_handling
    assert rerun_timing.install() is False
    assert script_runner.exec_func_with_error_handling is before


def test_every_run_is_logged_with_its_time_and_outcome(fresh: None, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv(rerun_timing.LOG_VARIABLE, str(log))
    assert rerun_timing.install() is True
    assert rerun_timing.install() is True  # once per process: not wrapped twice
    at = AppTest.from_string("import streamlit as st\nst.write('hello')\nif st.session_state.get('stop'):\n    st.stop()\n"
                             "st.write('after')")
    at.run()
    at.session_state["stop"] = True
    at.run()
    runs = rerun_timing.read(log)
    assert [r["outcome"] for r in runs] == ["ok", "stopped"], runs
    assert all(r["wall_s"] > 0 and r["cpu_s"] >= 0 and r["fragment"] is False for r in runs)


def test_a_torn_line_is_skipped_and_a_missing_log_is_empty(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    assert rerun_timing.read(log) == []
    log.write_text('{"wall_s": 0.1, "outcome": "ok"}\n{"wall_s": 0.', encoding="utf-8")
    assert rerun_timing.read(log) == [{"wall_s": 0.1, "outcome": "ok"}]
