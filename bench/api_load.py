"""The HTTP API under a bounded mixed load: latency, errors and the server's memory, beside the same load without the bound.

A live ``python -m core serve`` on 127.0.0.1 gets a fixed list of requests (seeded, so every run
sends the same ones) from 16 client threads: 90 % light — short ``POST /generate`` (4 × 8 chords),
``POST /score`` (3 progressions), ``POST /next`` — and 10 % heavy, a ``POST /generate`` of
4 × 32 chords locked at the last chord (about 24,000 decoder row-steps, over the API's
``HEAVY_WORK`` of 20,000). Each row is the same load against servers that differ in one thing:

* **bounded** — the server as shipped: heavy requests run in ``--heavy-slots`` (half the cores),
  two per slot more wait in line, one more is answered 503 with ``Retry-After``; the client, as a
  well-behaved one does, waits that long and sends it again (the heavy latency counts the waits);
* **unbounded** — the baseline: a heavy slot per client thread (every heavy request runs);
* **light only** — the light requests alone (the baseline of how light requests fare).

Reported per row: p50 and p95 latency of the light requests and of the heavy ones (first send to
the 200), the count of each final status (200, 503, others), of transport errors and of the 503s
retried, the load's wall time and requests per second, and the
server's RSS after a warm-up and after the load (``VmRSS`` in ``/proc``; its peak ``VmHWM`` too).
The 1-minute load average (what ``uptime`` shows) is recorded before each row.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.models import trained_model_dir
from bench.timing import Result, Stats

GROUP = "api load"
REPO = Path(__file__).resolve().parent.parent
#: client threads sending at once.
CONCURRENCY = 16
#: share of heavy requests in the mix.
HEAVY_SHARE = 0.10
#: 503 answers a client takes (waiting Retry-After each time) before it gives up on a request.
MAX_RETRIES = 200
HEAVY_BODY = {"num_samples": 4, "length": 32, "locks": [{"position": 32, "chord": "C"}], "genre": "pop", "guidance": 0}
LIGHT_BODIES: tuple[tuple[str, dict], ...] = (
    ("/generate", {"num_samples": 4, "length": 8, "genre": "rock", "mood": "happy"}),
    ("/generate", {"num_samples": 4, "length": 8, "key": "A minor", "seed_chords": ["Am"]}),
    ("/score", {"progressions": ["C G Am F", "Dm7 G7 Cmaj7", "Am F C G"], "genre": "pop"}),
    ("/next", {"chords": ["C", "G", "Am"], "top": 5}),
)


@dataclass
class Outcome:
    """One request's class, final status (0: a transport error), latency in seconds (retries included), 503s before it."""

    heavy: bool
    status: int
    seconds: float
    refusals: int = 0


@dataclass
class LoadRun:
    """What one load against one server gave."""

    outcomes: list[Outcome] = field(default_factory=list)
    wall_s: float = 0.0
    rss_before_mib: float = 0.0
    rss_after_mib: float = 0.0
    peak_mib: float = 0.0
    load_average: float = 0.0

    def latencies(self, heavy: bool) -> list[float]:
        """Latencies of the answered (200) requests of one class."""
        return [o.seconds for o in self.outcomes if o.heavy == heavy and o.status == 200]

    def counts(self) -> dict[str, int]:
        """Final outcomes (``200``, ``503``, ``other`` statuses, transport ``errors``) and the ``retried_503`` answers."""
        statuses = [o.status for o in self.outcomes]
        return {"200": statuses.count(200), "503": statuses.count(503),
                "other": sum(s not in (0, 200, 503) for s in statuses), "errors": statuses.count(0),
                "retried_503": sum(o.refusals for o in self.outcomes)}


def request_plan(count: int, heavy_share: float = HEAVY_SHARE, seed: int = 0) -> list[tuple[str, dict, bool]]:
    """``count`` requests (path, body, heavy), the heavy ones spread at random among them (seeded)."""
    rng = random.Random(seed)
    heavy = set(rng.sample(range(count), round(count * heavy_share)))
    return [("/generate", {**HEAVY_BODY, "random_seed": i}, True) if i in heavy
            else (LIGHT_BODIES[i % len(LIGHT_BODIES)][0], LIGHT_BODIES[i % len(LIGHT_BODIES)][1], False)
            for i in range(count)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(base: str, path: str, body: dict, timeout: float = 300.0) -> tuple[int, float | None]:
    """``(status, Retry-After seconds or None)`` of one POST; status 0 for a transport error."""
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
            return answer.status, None
    except urllib.error.HTTPError as error:
        error.read()
        retry_after = error.headers.get("Retry-After")
        return error.code, None if retry_after is None else float(retry_after)
    except OSError:
        return 0, None


def _post_retrying(base: str, path: str, body: dict) -> tuple[int, int]:
    """POST as a well-behaved client does: after a 503 with Retry-After, wait that long and send again.

    Returns the final status and how many 503s came before it (at most :data:`MAX_RETRIES`).
    """
    refusals = 0
    while True:
        status, retry_after = _post(base, path, body)
        if status != 503 or retry_after is None or refusals == MAX_RETRIES:
            return status, refusals
        refusals += 1
        time.sleep(retry_after)


def _memory_mib(pid: int) -> tuple[float, float]:
    """``(VmRSS, VmHWM)`` of a process in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Server:
    """``python -m core serve`` on a free loopback port, started and stopped around a block."""

    def __init__(self, model_dir: Path, heavy_slots: int | None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "core", "serve", "--port", str(self.port), "--model", str(model_dir),
                        "--log-level", "warning", *([] if heavy_slots is None else ["--heavy-slots", str(heavy_slots)])]

    def __enter__(self) -> Server:
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command, cwd=REPO, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    tail = self.log.read().decode(errors='replace')[-1500:]
                    raise RuntimeError(f"the server did not start: {tail}") from None
                time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def run_load(model_dir: Path, plan: list[tuple[str, dict, bool]], heavy_slots: int | None) -> LoadRun:
    """Send ``plan`` from :data:`CONCURRENCY` threads to a fresh server (after one warm-up request of each kind)."""
    result = LoadRun(load_average=round(os.getloadavg()[0], 2))
    with Server(model_dir, heavy_slots) as server:
        for path, body in [*LIGHT_BODIES, ("/generate", HEAVY_BODY)]:
            _post_retrying(server.base, path, body)
        result.rss_before_mib = _memory_mib(server.process.pid)[0]
        lock = threading.Lock()

        def send(item: tuple[str, dict, bool]) -> None:
            path, body, heavy = item
            start = time.perf_counter()
            status, refusals = _post_retrying(server.base, path, body)
            with lock:
                result.outcomes.append(Outcome(heavy, status, time.perf_counter() - start, refusals))

        start = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(send, plan))
        result.wall_s = time.perf_counter() - start
        result.rss_after_mib, result.peak_mib = _memory_mib(server.process.pid)
    return result


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _stats(values: list[float], q: int) -> Stats:
    """One percentile as a :class:`Stats` (spread: the interquartile range of the values)."""
    value = _percentile(values, q)
    spread = _percentile(values, 75) - _percentile(values, 25) if len(values) > 1 else 0.0
    return Stats(value, spread, min(values, default=value), max(values, default=value), len(values))


def _describe(run: LoadRun, count: int) -> str:
    counts = run.counts()
    return (f"{count} requests, {CONCURRENCY} at once: {counts['200']} × 200, {counts['503']} × 503 at the end, "
            f"{counts['other']} other, {counts['errors']} transport errors ({counts['retried_503']} × 503 retried "
            f"after Retry-After); {run.wall_s:.0f} s, {count / run.wall_s:.1f} requests/s; "
            f"server RSS {run.rss_before_mib:.0f} → {run.rss_after_mib:.0f} MiB (peak {run.peak_mib:.0f}); "
            f"load average (1 min) {run.load_average} before the row")


def _extra(run: LoadRun) -> dict:
    return {"counts": run.counts(), "wall_s": run.wall_s, "rss_before_mib": run.rss_before_mib,
            "rss_after_mib": run.rss_after_mib, "peak_mib": run.peak_mib, "load_average_1min": run.load_average}


def run(requests: int = 1000, model_dir: str | None = None) -> list[Result]:
    """The rows of the module docstring (nothing without a trained model)."""
    folder = trained_model_dir(model_dir)
    if folder is None:
        return []
    plan = request_plan(requests)
    light_plan = [item for item in plan if not item[2]]
    bounded = run_load(folder, plan, heavy_slots=None)
    unbounded = run_load(folder, plan, heavy_slots=CONCURRENCY)  # a slot per client: never refused
    light_only = run_load(folder, light_plan, heavy_slots=None)
    rows = [Result.from_stats(
        f"api_load_light_p{q}_ms", GROUP, f"light requests' p{q} latency under the mixed load (10 % heavy), bounded",
        "ms", _stats(bounded.latencies(False), q).scaled(1000), "the same load, heavy requests unbounded",
        _stats(unbounded.latencies(False), q).scaled(1000), notes=_describe(bounded, len(plan)),
        extra={"bounded": _extra(bounded), "unbounded": _extra(unbounded)}) for q in (50, 95)]
    rows += [Result.from_stats(
        f"api_load_light_alone_p{q}_ms", GROUP, f"light requests' p{q} latency with no heavy ones (the same light list)",
        "ms", _stats(light_only.latencies(False), q).scaled(1000), "light requests under the bounded mixed load",
        _stats(bounded.latencies(False), q).scaled(1000), notes=_describe(light_only, len(light_plan)),
        extra=_extra(light_only)) for q in (50, 95)]
    rows += [Result.from_stats(
        f"api_load_heavy_p{q}_ms", GROUP, f"heavy requests' p{q} latency (retries after 503 included), bounded",
        "ms", _stats(bounded.latencies(True), q).scaled(1000), "the same load, heavy requests unbounded",
        _stats(unbounded.latencies(True), q).scaled(1000), notes="unbounded: " + _describe(unbounded, len(plan)))
        for q in (50, 95)]
    rows.append(Result.from_stats(
        "api_load_rss_after_mib", GROUP, "server RSS after the mixed load, bounded", "MiB",
        Stats(bounded.rss_after_mib, 0.0, bounded.rss_after_mib, bounded.rss_after_mib, 1),
        "the same server before the load (after one warm-up request of each kind)",
        Stats(bounded.rss_before_mib, 0.0, bounded.rss_before_mib, bounded.rss_before_mib, 1),
        notes=f"peak {bounded.peak_mib:.0f} MiB; unbounded: {unbounded.rss_before_mib:.0f} → "
              f"{unbounded.rss_after_mib:.0f} MiB (peak {unbounded.peak_mib:.0f})"))
    return rows
