"""The HTTP API during a burst of oversized bodies: the server's memory and ``/health`` latency, beside a quiet baseline.

A live ``python -m core serve`` on 127.0.0.1 (the model from ``--model`` or the default) is measured
twice in the same run, on the same server (started ``--open``: a key set on the machine would refuse the
bodies before the limit is reached):

* **baseline** — :data:`PROBES` ``GET /health`` requests one after another, nothing else running;
* **burst** — :data:`BURST_THREADS` client threads each send :data:`BODIES_PER_THREAD` ``POST /generate``
  bodies of :data:`BODY_MB` MB (the size the issue's probe sent; far over the API's body limit,
  :data:`core.config.MAX_API_BODY_BYTES`) while the same ``/health`` probes run beside them.

Reported: ``/health`` p50 and p95 during the burst beside the baseline's, the server's peak RSS
(``VmHWM``) after the burst beside its RSS before it, and what the oversized bodies got (413, other
statuses, uploads cut short by the server). Bounded: the body count is fixed, every request has a
timeout, the burst stops after :data:`BURST_CAP_S` seconds, and all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.api_load import Server, _memory_mib, _stats
from bench.models import trained_model_dir
from bench.timing import Result, Stats

GROUP = "api burst"
#: /health probes per phase (the burst phase probes until the burst ends, at least this many).
PROBES = 200
#: client threads sending oversized bodies, bodies each, and each body's size in MB.
BURST_THREADS = 4
BODIES_PER_THREAD = 5
BODY_MB = 31
#: the burst is stopped after this long whatever is left.
BURST_CAP_S = 120.0


@dataclass
class BurstRun:
    """What one phase gave: /health latencies (seconds), the oversized bodies' outcomes, the server's memory."""

    health_s: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    rss_before_mib: float = 0.0
    rss_after_mib: float = 0.0
    peak_mib: float = 0.0
    wall_s: float = 0.0
    load_average: float = 0.0


def _probe(port: int) -> float:
    """Seconds one ``GET /health`` takes on a fresh connection (``nan`` when it fails)."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/health")
        answer = connection.getresponse()
        answer.read()
        return time.perf_counter() - start if answer.status == 200 else float("nan")
    except OSError:
        return float("nan")
    finally:
        connection.close()


def _send_oversized(port: int, body: bytes) -> str:
    """The outcome of one oversized ``POST /generate`` sent whole, as a naive client does: the status the server
    answered (read even when it stopped reading the upload), ``cut short`` when the connection was reset first."""
    head = (f"POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
            try:
                connection.sendall(head + body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before the upload ended: its answer may still be there
            reply = connection.recv(4096)
    except (ConnectionResetError, TimeoutError):
        return "cut short"
    except OSError:
        return "transport error"
    parts = reply.split(b" ", 2)
    return parts[1].decode() if reply.startswith(b"HTTP/") and len(parts) > 1 else "no answer"


def _burst(port: int, result: BurstRun) -> None:
    """The oversized bodies from :data:`BURST_THREADS` threads (stopped at :data:`BURST_CAP_S`)."""
    body = b'{"key": "' + b"C" * (BODY_MB * 1_000_000) + b'"}'
    lock = threading.Lock()
    stop_at = time.monotonic() + BURST_CAP_S

    def sender() -> None:
        for _ in range(BODIES_PER_THREAD):
            if time.monotonic() > stop_at:
                return
            outcome = _send_oversized(port, body)
            with lock:
                result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=sender) for _ in range(BURST_THREADS)]
    for thread in threads:
        thread.start()
    probes = 0
    while any(thread.is_alive() for thread in threads) or probes < PROBES:
        result.health_s.append(_probe(port))
        probes += 1
        if probes >= PROBES and time.monotonic() > stop_at:
            break
    for thread in threads:
        thread.join()


def measure(model_dir: Path) -> tuple[BurstRun, BurstRun]:
    """The baseline and the burst against one fresh server (after a warm-up probe)."""
    server = Server(model_dir, heavy_slots=None)
    server.command.append("--open")  # no API key even if one is set here: the body limit, not the key, is measured
    with server:
        port = server.port
        _probe(port)
        baseline = BurstRun(load_average=round(os.getloadavg()[0], 2))
        baseline.rss_before_mib = _memory_mib(server.process.pid)[0]
        start = time.perf_counter()
        baseline.health_s = [_probe(port) for _ in range(PROBES)]
        baseline.wall_s = time.perf_counter() - start
        baseline.rss_after_mib, baseline.peak_mib = _memory_mib(server.process.pid)
        burst = BurstRun(load_average=round(os.getloadavg()[0], 2), rss_before_mib=baseline.rss_after_mib)
        start = time.perf_counter()
        _burst(port, burst)
        burst.wall_s = time.perf_counter() - start
        burst.rss_after_mib, burst.peak_mib = _memory_mib(server.process.pid)
    return baseline, burst


def _answered(run: BurstRun) -> list[float]:
    return [s for s in run.health_s if s == s]  # NaN: a probe that failed


def _notes(baseline: BurstRun, burst: BurstRun) -> str:
    failed = len(burst.health_s) - len(_answered(burst))
    outcomes = ", ".join(f"{count} × {name}" for name, count in sorted(burst.outcomes.items())) or "none"
    return (f"{BURST_THREADS} threads × {BODIES_PER_THREAD} POST /generate bodies of {BODY_MB} MB: {outcomes}; "
            f"{len(burst.health_s)} /health probes during the burst ({failed} failed), {len(baseline.health_s)} "
            f"before it; burst {burst.wall_s:.1f} s; server RSS {burst.rss_before_mib:.0f} → {burst.rss_after_mib:.0f} "
            f"MiB (peak {burst.peak_mib:.0f}); load average (1 min) {baseline.load_average} before the baseline, "
            f"{burst.load_average} before the burst")


def run(model_dir: str | None = None) -> list[Result]:
    """The rows of the module docstring (nothing without a trained model)."""
    folder = trained_model_dir(model_dir)
    if folder is None:
        return []
    baseline, burst = measure(folder)
    notes = _notes(baseline, burst)
    rows = [Result.from_stats(
        f"api_burst_health_p{q}_ms", GROUP, f"/health p{q} latency during a burst of {BODY_MB} MB bodies", "ms",
        _stats(_answered(burst), q).scaled(1000), "/health alone, the same server before the burst",
        _stats(_answered(baseline), q).scaled(1000), notes=notes,
        extra={"outcomes": burst.outcomes, "burst_s": burst.wall_s}) for q in (50, 95)]
    rows.append(Result.from_stats(
        "api_burst_peak_rss_mib", GROUP, f"server peak RSS (VmHWM) after a burst of {BODY_MB} MB bodies", "MiB",
        Stats(burst.peak_mib, 0.0, burst.peak_mib, burst.peak_mib, 1),
        "the same server's RSS before the burst (after the baseline probes)",
        Stats(burst.rss_before_mib, 0.0, burst.rss_before_mib, burst.rss_before_mib, 1), notes=notes))
    return rows
