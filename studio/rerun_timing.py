"""Each script run of the studio timed on the server, for the benchmarks: off unless ``CHORDSMITH_RERUN_LOG`` names a file.

Streamlit has no hook per rerun, and a browser's click-to-drawn time mixes the server with the
browser drawing the page (ten browsers on the machine's two cores measure mostly themselves). With
``CHORDSMITH_RERUN_LOG=/some/file.jsonl`` set for ``streamlit run``, every script run (a whole page,
or one fragment rerun such as a click inside a progression's card) appends one JSON line::

    {"end": <time.time()>, "wall_s": <seconds>, "cpu_s": <CPU seconds of the script's thread>,
     "page": "4_generate", "fragment": false, "outcome": "ok" | "rerun" | "stopped" | "error"}

``bench/visitors.py`` starts its studio with it and reads the file. Without the variable nothing is
installed: what visitors get carries no timing code. It wraps the call by which Streamlit's script
runner executes a run (``script_runner.exec_func_with_error_handling``, a private name of
Streamlit's); where a Streamlit version lacks it, :func:`install` says so once and times nothing,
and the bench reports that it has no server-side figures.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

#: the environment variable naming the log file (JSON lines); unset: no timing.
LOG_VARIABLE = "CHORDSMITH_RERUN_LOG"
_INSTALLED: list[bool] = []
_WRITE = threading.Lock()
_OPEN: dict[Path, TextIO] = {}  # the log's handle, opened at the first run and kept (line-buffered)
_LOGGER = logging.getLogger(__name__)


def log_path() -> Path | None:
    """The file the runs are logged to, or ``None`` when timing is off (the variable unset or empty)."""
    value = os.environ.get(LOG_VARIABLE, "").strip()
    return Path(value) if value else None


def install() -> bool:
    """Time every later script run when :data:`LOG_VARIABLE` is set (once per process); returns whether it is on."""
    if _INSTALLED:
        return _INSTALLED[0]
    path = log_path()
    on = False
    if path is not None:
        try:
            from streamlit.runtime.scriptrunner import script_runner

            run = script_runner.exec_func_with_error_handling
            script_runner.exec_func_with_error_handling = _timed(run, path)
            on = True
        except (ImportError, AttributeError) as error:  # another Streamlit: no timing, said once
            _LOGGER.warning("%s is set but this Streamlit cannot be timed per run: %s", LOG_VARIABLE, error)
    _INSTALLED.append(on)
    return on


def _timed(run: Callable[..., tuple], path: Path) -> Callable[..., tuple]:
    @functools.wraps(run)
    def timed(func: Callable[[], Any], ctx: Any) -> tuple:
        wall, cpu = time.perf_counter(), time.thread_time()
        result = run(func, ctx)
        record(path, time.perf_counter() - wall, time.thread_time() - cpu, _page(ctx),
               bool(getattr(ctx, "fragment_ids_this_run", None)), _outcome(result))
        return result

    return timed


def record(path: Path, wall_s: float, cpu_s: float, page: str, fragment: bool, outcome: str) -> None:
    """Append one run's line to ``path`` (never raises: a full disk must not break a visitor's page)."""
    line = json.dumps({"end": time.time(), "wall_s": round(wall_s, 6), "cpu_s": round(cpu_s, 6), "page": page,
                       "fragment": fragment, "outcome": outcome}) + "\n"
    try:
        with _WRITE:
            log = _OPEN.get(path)
            if log is None:
                log = _OPEN[path] = path.open("a", encoding="utf-8", buffering=1)
            log.write(line)
    except OSError:
        pass


def read(path: Path) -> list[dict]:
    """The runs logged in ``path`` (none when it is missing); a torn last line is skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    runs = []
    for line in lines:
        try:
            runs.append(json.loads(line))
        except ValueError:
            continue
    return runs


def _page(ctx: Any) -> str:
    try:
        info = ctx.pages_manager.get_pages().get(ctx.page_script_hash, {})
        return str(info.get("page_name") or Path(str(info.get("script_path", "?"))).stem)
    except Exception:  # noqa: BLE001 - a label only; Streamlit's internals may differ
        return "?"


def _outcome(result: tuple) -> str:
    """Streamlit's (value, ran without errors, rerun data, premature stop, uncaught exception) as one word."""
    try:
        _, _, rerun, stopped, uncaught = result
    except (TypeError, ValueError):
        return "?"
    if uncaught is not None:
        return "error"
    if rerun is not None:
        return "rerun"
    return "stopped" if stopped else "ok"
