"""A real studio to point a browser at: ``streamlit run app.py`` on a free port, and the Chromium that drives it.

The Generate-page benchmark times clicks in this studio, and the real-browser tests use the same
launcher (the tests import it from here; a benchmark never imports the test tree). Chromium is
Debian's (``/usr/bin/chromium``), driven by PyPI playwright; no browser is downloaded, and
whoever needs it skips when it is not installed (see :data:`CHROMIUM`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SERVER_START_S = 60


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen, wait_s: float = 10.0) -> None:
    """Ask a started server to end (SIGTERM), and kill it if it has not ended within ``wait_s`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def wait_for_server(base: str, process: subprocess.Popen, timeout_s: float, name: str = "streamlit",
                    log: Path | None = None) -> None:
    """Wait until Streamlit's health endpoint answers at ``base``; raise if ``process`` exits or the time runs out.

    ``name`` and ``log`` (the end of which is quoted when the process exits) say what was started: a studio, or a
    proxy in front of studios (:mod:`bench.replicas`).
    """
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-500:] if log is not None and log.exists() else ""
            raise RuntimeError(f"{name} exited with {process.returncode}" + (f": {tail}" if tail else ""))
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{name} did not answer within {timeout_s}s")


@contextmanager
def streamlit_server(output_dir: Path, log_name: str = "streamlit.log", env: dict[str, str] | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on a free port with ``CHORDSMITH_OUTPUT=output_dir``; yields its base URL.

    ``env`` adds environment variables for the studio (e.g. :data:`studio.rerun_timing.LOG_VARIABLE`).
    """
    with streamlit_servers(output_dir, [log_name], env) as bases:
        yield bases[0]


@contextmanager
def streamlit_servers(output_dir: Path, log_names: list[str], env: dict[str, str] | None = None) -> Iterator[list[str]]:
    """One studio per log name (as :func:`streamlit_server`, sharing ``output_dir``), started together; their base URLs."""
    processes: list[subprocess.Popen] = []
    bases: list[str] = []
    with ExitStack() as logs:
        try:
            for log_name in log_names:
                port = free_port()
                log = logs.enter_context((output_dir / log_name).open("ab"))
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
                     "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none"],
                    cwd=ROOT, env=dict(os.environ, CHORDSMITH_OUTPUT=str(output_dir), **(env or {})), stdout=log,
                    stderr=subprocess.STDOUT,
                ))
                bases.append(f"http://127.0.0.1:{port}")
            for base, process in zip(bases, processes, strict=True):
                wait_for_server(base, process, SERVER_START_S)
            yield bases
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
