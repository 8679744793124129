"""Many visitors on one studio: ≥ 10 Playwright contexts of one headless Chromium clicking on the Generate page.

One ``streamlit run app.py`` on 127.0.0.1 (:func:`bench.studio_server.streamlit_server`, a private
output folder) and one Chromium (Debian's, ``/usr/bin/chromium``) with one browser context per
visitor, all driven at once (Playwright's async API). Each visitor opens ``/generate`` with its own
seed (3 × 8 chords) and then, one click a second:

* phase 1, **Generate new** ``clicks`` times (the issue's baseline: 10 visitors × 5 clicks, 1 s apart; the
  visitors' first clicks are spread over that second);
* phase 2, the same number of clicks cycling **a chord** (its panel opens), **Regenerate** one
  progression and **Generate new**.

Figures: click-to-drawn p50 and p95 per phase (from the click until the page is drawn, as
:mod:`bench.generate_page` waits: headings changed or the chord's panel there, no stale element,
every notation image loaded), the errors (timeouts, an exception on the page), and on the server:

* its own CPU seconds (``utime + stime`` of its process, ``/proc/<pid>/stat``) per click of each phase;
* every script run timed inside it (``CHORDSMITH_RERUN_LOG``, :mod:`studio.rerun_timing`: wall and
  CPU seconds of each whole-page or fragment run), p50 and p95 per phase;
* its resident memory before, at the peak, and after the visitors left: Streamlit keeps a
  disconnected visitor's session for ``server.disconnectedSessionTTL`` (120 s) in case they come back,
  and lets it go at the next disconnect after that, so the bench waits past it and one short visit
  (the Home page, opened and closed) ends it. The visitors come in :data:`WAVES` waves (new visitors,
  new seeds) with that wait between them: memory bounded per visitor shows as the second wave ending
  where the first did, not above it.

The browsers run on the same cores as the server, at a lower priority (niceness
:data:`HARNESS_NICENESS`, :func:`harness_below_server`: a visitor's browser would run on their own machine):
click-to-drawn measures the harness as much as the studio; the server's CPU seconds per click and its own
time per run are the figures to hold against the targets (<= 0.25 CPU-s per Generate-new click, p95 <= 2 s
per rerun). The load average is read before and after and stored beside the figures.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.studio_server import CHROMIUM, streamlit_server
from bench.timing import Result, Stats
from studio import rerun_timing

GROUP = "visitors"
PAGE_S = 180
CLICK_S = 60
#: Streamlit keeps a disconnected visitor's session this long (``server.disconnectedSessionTTL``) before it can go.
SESSION_TTL_S = 120
#: waves of new visitors, each after the previous one left and its sessions went.
WAVES = 3
PHASES = ("generate_new", "mixed")
VISITORS = 10
CLICKS = 5
#: the browsers' niceness (:func:`harness_below_server`); the studio keeps the ordinary priority.
HARNESS_NICENESS = 10
PAUSE_S = 1.0
_DRAWN = """([before, panel]) => {
  const heads = [...document.querySelectorAll('h3')].map(h => h.innerText).filter(t => /^Progression \\d+:/.test(t));
  if (heads.length !== 3) return false;
  if (before !== null && heads.join('|') === before) return false;
  if (panel && !document.querySelector("[class*='st-key-gen-panel-0']")) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  return [...document.querySelectorAll('[data-testid="stImage"] img')].every(i => i.complete && i.naturalWidth > 0);
}"""


@dataclass
class Tally:
    """What the visitors saw: seconds per click by phase, and the errors."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: {"generate_new": [], "mixed": []})
    errors: list[str] = field(default_factory=list)


def server_pid(port: int) -> int:
    """The process id of the ``streamlit run`` listening on ``port`` (found by its command line)."""
    wanted = f"--server.port\0{port}\0"
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if wanted in (entry / "cmdline").read_text(errors="replace"):
                    return int(entry.name)
            except OSError:
                continue
    raise RuntimeError(f"no streamlit process found for port {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (``/proc/<pid>/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def harness_below_server(server: int, niceness: int = HARNESS_NICENESS) -> int:
    """Lower the priority of this process's descendants other than the studio (Chromium, Playwright's driver).

    The visitors' browsers would run on their own machines; here they share the studio's two cores, and at the
    same priority ten of them starve the server being measured. Processes they start later (Chromium's renderers,
    forked from its zygote) inherit the niceness. Returns how many processes were lowered.
    """
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    lowered = 0
    for pid in parents:
        ancestor, chain = parents.get(pid), {pid}
        while ancestor and ancestor not in chain and ancestor != os.getpid():
            chain.add(ancestor)
            ancestor = parents.get(ancestor)
        if ancestor == os.getpid() and server not in chain:
            try:
                os.setpriority(os.PRIO_PROCESS, pid, niceness)
                lowered += 1
            except OSError:
                continue
    return lowered


def rss_mib(pid: int) -> float:
    """The process's resident memory (VmRSS), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _headings(page) -> str:
    texts = await page.locator("h3").all_inner_texts()
    return "|".join(t for t in texts if t.startswith("Progression "))


async def _timed_click(page, selector: str, changes: bool, panel: bool = False) -> float:
    before = await _headings(page) if changes else None
    start = time.perf_counter()
    await page.locator(selector).first.click()
    await page.wait_for_function(_DRAWN, arg=[before, panel], timeout=CLICK_S * 1000, polling=50)
    return time.perf_counter() - start


async def _visitor(browser, base: str, number: int, clicks: int, tally: Tally, phases: dict[str, asyncio.Event],
                   ready: asyncio.Barrier, seed: int) -> None:
    """One visitor: open the page with its ``seed``, wait for every visitor, click through both phases, leave."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(PAGE_S * 1000)
    new = "[class*='st-key-gen-new'] button:visible"
    actions = (("[class*='st-key-gen-chords-0'] button:visible >> nth=1", False, True),
               ("[class*='st-key-gen-regen-1'] button:visible", True, False), (new, True, False))
    opened = True
    try:
        await page.goto(f"{base}/generate?samples=3&length=8&seed={seed}", wait_until="domcontentloaded")
        await page.wait_for_function(_DRAWN, arg=[None, False], timeout=PAGE_S * 1000, polling=100)
    except Exception as error:  # noqa: BLE001 - a visitor who cannot open the page is an error to report
        tally.errors.append(f"visitor {number} opening: {type(error).__name__}: {str(error)[:120]}")
        opened = False
    await ready.wait()
    for phase in PHASES:
        await phases[phase].wait()
        await asyncio.sleep(PAUSE_S * number / VISITORS)  # visitors do not all click at the same instant
        for click in range(clicks if opened else 0):
            selector, changes, panel = (new, True, False) if phase == "generate_new" else actions[click % len(actions)]
            try:
                tally.seconds[phase].append(await _timed_click(page, selector, changes, panel))
                if await page.locator("[data-testid='stException']").count():
                    tally.errors.append(f"visitor {number} {phase}: an exception on the page")
            except Exception as error:  # noqa: BLE001 - a timeout or a vanished button counts as an error
                tally.errors.append(f"visitor {number} {phase} click {click}: {type(error).__name__}: {str(error)[:120]}")
            await asyncio.sleep(PAUSE_S)
        await ready.wait()
    await context.close()


async def _wave(browser, base: str, pid: int, visitors: int, clicks: int, wave: int, tally: Tally,
                figures: dict) -> None:
    """One wave of new visitors, all at once; the server's CPU, memory and time windows around each phase."""
    phases = {name: asyncio.Event() for name in PHASES}
    ready = asyncio.Barrier(visitors + 1)
    opened = time.time()
    tasks = [asyncio.create_task(_visitor(browser, base, n, clicks, tally, phases, ready, 1 + n + visitors * wave))
             for n in range(visitors)]
    await ready.wait()  # everyone has the page
    figures["windows"].append(("open", opened, time.time()))
    peak = rss_mib(pid)
    for name in PHASES:
        cpu, started, began = cpu_seconds(pid), time.perf_counter(), time.time()
        phases[name].set()
        await ready.wait()
        figures["windows"].append((name, began, time.time()))
        figures[f"{name}_cpu_s"] = figures.get(f"{name}_cpu_s", 0.0) + cpu_seconds(pid) - cpu
        figures[f"{name}_wall_s"] = figures.get(f"{name}_wall_s", 0.0) + time.perf_counter() - started
        peak = max(peak, rss_mib(pid))
    await asyncio.gather(*tasks)
    figures["rss_peak_mib"].append(peak)


async def _after_leaving(browser, base: str, pid: int) -> float:
    """Wait until Streamlit may let go of the sessions of visitors who left, end them by one short visit; the RSS then."""
    await asyncio.sleep(SESSION_TTL_S + 10)
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(base, wait_until="domcontentloaded")
    await page.locator("h1").first.wait_for(timeout=PAGE_S * 1000)
    await context.close()  # this visit's disconnect lets the expired sessions go
    await asyncio.sleep(10)
    return rss_mib(pid)


async def _drive(base: str, pid: int, visitors: int, clicks: int, waves: int) -> dict:
    """Every wave of visitors in turn, the server's memory after each had left."""
    from playwright.async_api import async_playwright

    tally = Tally()
    figures: dict = {"rss_before_mib": rss_mib(pid), "load_before": os.getloadavg(), "windows": [],
                     "rss_peak_mib": [], "rss_left_mib": []}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        figures["harness_processes_lowered"] = harness_below_server(pid)
        for wave in range(waves):
            await _wave(browser, base, pid, visitors, clicks, wave, tally, figures)
            figures["rss_left_mib"].append(await _after_leaving(browser, base, pid))
        await browser.close()
    figures.update(load_after=os.getloadavg(), tally=tally)
    return figures


def server_runs(runs: list[dict], windows: list[tuple[str, float, float]]) -> dict[str, list[dict]]:
    """The server's timed script runs (:mod:`studio.rerun_timing`) by phase: those that ended inside its windows."""
    by_phase: dict[str, list[dict]] = {}
    for phase, began, ended in windows:
        by_phase.setdefault(phase, []).extend(run for run in runs if began <= run["end"] <= ended + 0.5)
    return by_phase


def measure(visitors: int = VISITORS, clicks: int = CLICKS, model_dir: str | None = None, waves: int = WAVES) -> dict:
    """Start a studio (its runs timed), run every wave of visitors, and return the raw figures (module docstring)."""
    with tempfile.TemporaryDirectory(prefix="bench-visitors-") as folder:
        out = Path(folder)
        if model_dir is not None:
            (out / "active_model.txt").write_text(str(Path(model_dir).resolve()), encoding="utf-8")
        log = out / "reruns.jsonl"
        with streamlit_server(out, log_name="streamlit-visitors.log", env={rerun_timing.LOG_VARIABLE: str(log)}) as base:
            pid = server_pid(int(base.rsplit(":", 1)[1]))
            figures = asyncio.run(_drive(base, pid, visitors, clicks, waves))
        figures["server_runs"] = server_runs(rerun_timing.read(log), figures["windows"])
        return figures


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def run_summary(runs: list[dict]) -> dict:
    """p50 and p95 of the server's wall seconds per script run, its CPU seconds, and how many runs of which kind."""
    walls, cpus = [r["wall_s"] for r in runs], [r["cpu_s"] for r in runs]
    return {"runs": len(runs), "fragment_runs": sum(1 for r in runs if r.get("fragment")),
            "outcomes": {o: sum(1 for r in runs if r.get("outcome") == o) for o in sorted({r.get("outcome") for r in runs})},
            "p50_s": _percentile(walls, 0.5), "p95_s": _percentile(walls, 0.95), "max_s": max(walls, default=float("nan")),
            "cpu_p50_s": _percentile(cpus, 0.5), "cpu_p95_s": _percentile(cpus, 0.95)}


def results(figures: dict, visitors: int) -> list[Result]:
    """The stored figures: per phase click-to-drawn p50/p95, the server's time per run and CPU-s per click; memory."""
    tally: Tally = figures["tally"]
    load = f"load average {figures['load_before'][0]:.1f} before, {figures['load_after'][0]:.1f} after"
    waves = len(figures["rss_peak_mib"])
    who = f"{visitors} visitors at once" + (f", {waves} waves" if waves > 1 else "")
    extra = {key: value for key, value in figures.items() if key not in ("tally", "server_runs", "windows")}
    summaries = {phase: run_summary(runs) for phase, runs in figures["server_runs"].items()}
    extra.update(errors=len(tally.errors), error_samples=tally.errors[:5], visitors=visitors, server_runs=summaries)
    rows = []
    for phase, what in (("generate_new", "Generate new"), ("mixed", "a chord / Regenerate / Generate new")):
        seconds = tally.seconds[phase]
        if not seconds:
            continue
        p95 = _percentile(seconds, 0.95)
        rows.append(Result.from_stats(
            f"visitors_{phase}_click_to_drawn_s", GROUP, f"{who}, {what}, click to drawn in the browser (p50; "
            f"p95 {p95:.2f} s)", "s", Stats.of(seconds), "—", None, target="(browser side; the target is the server's)",
            notes=f"{load}; p95 {p95:.2f} s; {len(tally.errors)} error(s); the browsers share the 2 cores "
                  f"(niceness {HARNESS_NICENESS})",
            extra={**extra, "p95_s": p95, "clicks": len(seconds)}))
        runs = figures["server_runs"].get(phase, [])
        if runs:
            summary = summaries[phase]
            rows.append(Result.from_stats(
                f"visitors_{phase}_server_rerun_s", GROUP, f"{who}, {what}: the server's own time per script run "
                f"(p50; p95 {summary['p95_s']:.2f} s, {summary['runs']} runs, {summary['fragment_runs']} of them "
                f"fragments)", "s", Stats.of([r["wall_s"] for r in runs]), "—", None,
                target="p95 ≤ 2 s server-side per rerun", notes=f"{load}; p95 {summary['p95_s']:.2f} s, max "
                f"{summary['max_s']:.2f} s; CPU per run p50 {summary['cpu_p50_s']:.3f} s", extra={**extra, **summary}))
        per_click = figures[f"{phase}_cpu_s"] / max(1, len(seconds))
        rows.append(Result(
            name=f"visitors_{phase}_server_cpu_s_per_click", group=GROUP, description=f"server CPU seconds per click, "
            f"{what} ({who})", unit="CPU-s", median=per_click, spread=0.0, repeats=len(seconds),
            baseline="—", baseline_median=None, target="≤ 0.25 CPU-s per Generate-new click", notes=load, extra=extra))
    peaks, left = figures["rss_peak_mib"], figures["rss_left_mib"]
    waves_text = "; ".join(f"wave {i + 1}: peak {p:.0f}, after leaving {a:.0f}"
                           for i, (p, a) in enumerate(zip(peaks, left, strict=True)))
    rows.append(Result(
        name="visitors_server_rss_mib", group=GROUP, description=f"server memory with {who} (MiB, the peak; before "
        f"{figures['rss_before_mib']:.0f}; {waves_text})", unit="MiB", median=max(peaks), spread=0.0,
        repeats=waves, baseline="server before the visitors", baseline_median=figures["rss_before_mib"],
        target="bounded per visitor; freed when they leave", notes=load, extra=extra))
    if waves > 1:
        rows.append(Result(
            name="visitors_server_rss_growth_per_wave_mib", group=GROUP, description=f"server memory after the last "
            f"wave of {visitors} visitors left, minus after the first wave left (0: what visitors held went with them)",
            unit="MiB", median=left[-1] - left[0], spread=0.0, repeats=waves, baseline="—", baseline_median=None,
            target="bounded per visitor; freed when they leave", notes=load, extra=extra))
    return rows


def run(visitors: int = VISITORS, clicks: int = CLICKS, model_dir: str | None = None, waves: int = WAVES) -> list[Result]:
    """Measure and return the figures; nothing when Chromium is not installed."""
    if not CHROMIUM.exists():
        print(f"  skipped: {CHROMIUM} is not installed", flush=True)
        return []
    figures = measure(visitors, clicks, model_dir, waves)
    tally: Tally = figures["tally"]
    for phase, seconds in tally.seconds.items():
        if seconds:
            summary = run_summary(figures["server_runs"].get(phase, []))
            print(f"    {phase}: {len(seconds)} clicks, click to drawn p50 {statistics.median(seconds):.2f} s, "
                  f"p95 {_percentile(seconds, 0.95):.2f} s; server {figures[f'{phase}_cpu_s']:.1f} CPU-s "
                  f"({figures[f'{phase}_cpu_s'] / len(seconds):.3f} a click), {summary['runs']} runs p50 "
                  f"{summary['p50_s']:.3f} s p95 {summary['p95_s']:.3f} s", flush=True)
    print(f"    errors: {len(tally.errors)} {tally.errors[:3]}; rss before {figures['rss_before_mib']:.0f} MiB, peaks "
          f"{[round(p) for p in figures['rss_peak_mib']]}, after leaving {[round(a) for a in figures['rss_left_mib']]}; "
          f"load {figures['load_before'][0]:.1f} → {figures['load_after'][0]:.1f}", flush=True)
    return results(figures, visitors)
