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
every notation image loaded), the errors (timeouts, an exception on the page), the server's
resident memory before, at the peak and after every visitor left, and the server's own CPU
seconds (``utime + stime`` of its process, ``/proc/<pid>/stat``) per click of each phase. The
browsers run on the same cores as the server: click-to-drawn measures the harness as much as the
studio; the server's CPU seconds per click are the figure to hold against the targets (≤ 0.25 CPU-s
per Generate-new click). The load average is read before and after and stored beside the figures.
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

GROUP = "visitors"
PAGE_S = 180
CLICK_S = 60
#: Streamlit keeps a disconnected visitor's session this long (its memory session storage's TTL) before it can go.
SESSION_TTL_S = 120
VISITORS = 10
CLICKS = 5
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
                   ready: asyncio.Barrier) -> None:
    """One visitor: open the page, wait for every visitor, click through both phases, leave."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(PAGE_S * 1000)
    new = "[class*='st-key-gen-new'] button:visible"
    actions = (("[class*='st-key-gen-chords-0'] button:visible >> nth=1", False, True),
               ("[class*='st-key-gen-regen-1'] button:visible", True, False), (new, True, False))
    opened = True
    try:
        await page.goto(f"{base}/generate?samples=3&length=8&seed={number + 1}", wait_until="domcontentloaded")
        await page.wait_for_function(_DRAWN, arg=[None, False], timeout=PAGE_S * 1000, polling=100)
    except Exception as error:  # noqa: BLE001 - a visitor who cannot open the page is an error to report
        tally.errors.append(f"visitor {number} opening: {type(error).__name__}: {str(error)[:120]}")
        opened = False
    await ready.wait()
    for phase in ("generate_new", "mixed"):
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


async def _drive(base: str, pid: int, visitors: int, clicks: int) -> dict:
    """Every visitor at once; the server's CPU and memory around each phase."""
    from playwright.async_api import async_playwright

    tally = Tally()
    phases = {name: asyncio.Event() for name in ("generate_new", "mixed")}
    ready = asyncio.Barrier(visitors + 1)
    figures: dict = {"rss_before_mib": rss_mib(pid), "load_before": os.getloadavg()}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        tasks = [asyncio.create_task(_visitor(browser, base, n, clicks, tally, phases, ready)) for n in range(visitors)]
        await ready.wait()  # everyone has the page
        figures["rss_opened_mib"] = rss_mib(pid)
        for name in ("generate_new", "mixed"):
            cpu, started = cpu_seconds(pid), time.perf_counter()
            phases[name].set()
            await ready.wait()
            figures[f"{name}_cpu_s"] = cpu_seconds(pid) - cpu
            figures[f"{name}_wall_s"] = time.perf_counter() - started
            figures[f"rss_after_{name}_mib"] = rss_mib(pid)
        await asyncio.gather(*tasks)
        await browser.close()
    figures["rss_closed_mib"] = rss_mib(pid)
    await asyncio.sleep(SESSION_TTL_S + 10)  # then the server may let go of the sessions of visitors who left
    figures.update(rss_left_mib=rss_mib(pid), load_after=os.getloadavg(), tally=tally)
    return figures


def measure(visitors: int = VISITORS, clicks: int = CLICKS, model_dir: str | None = None) -> dict:
    """Start a studio, run every visitor at once, and return the raw figures (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="bench-visitors-") as folder:
        out = Path(folder)
        if model_dir is not None:
            (out / "active_model.txt").write_text(str(Path(model_dir).resolve()), encoding="utf-8")
        with streamlit_server(out, log_name="streamlit-visitors.log") as base:
            pid = server_pid(int(base.rsplit(":", 1)[1]))
            return asyncio.run(_drive(base, pid, visitors, clicks))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


def results(figures: dict, visitors: int) -> list[Result]:
    """The stored figures: click-to-drawn p50/p95 per phase, server CPU-s per click, memory, errors."""
    tally: Tally = figures["tally"]
    load = f"load average {figures['load_before'][0]:.1f} before, {figures['load_after'][0]:.1f} after"
    extra = {key: value for key, value in figures.items() if key != "tally"}
    extra.update(errors=len(tally.errors), error_samples=tally.errors[:5], visitors=visitors)
    rows = []
    for phase, what in (("generate_new", "Generate new"), ("mixed", "a chord / Regenerate / Generate new")):
        seconds = tally.seconds[phase]
        if not seconds:
            continue
        p95 = _percentile(seconds, 0.95)
        rows.append(Result.from_stats(
            f"visitors_{phase}_click_to_drawn_s", GROUP, f"{visitors} visitors at once, {what}, click to drawn (p50; "
            f"p95 {p95:.2f} s)", "s", Stats.of(seconds), "—", None, target="p95 ≤ 2 s server-side per rerun",
            notes=f"{load}; p95 {p95:.2f} s; {len(tally.errors)} error(s); browsers share the 2 cores",
            extra={**extra, "p95_s": p95, "clicks": len(seconds)}))
        per_click = figures[f"{phase}_cpu_s"] / max(1, len(seconds))
        rows.append(Result(
            name=f"visitors_{phase}_server_cpu_s_per_click", group=GROUP, description=f"server CPU seconds per click, "
            f"{what} ({visitors} visitors)", unit="CPU-s", median=per_click, spread=0.0, repeats=len(seconds),
            baseline="—", baseline_median=None, target="≤ 0.25 CPU-s per Generate-new click", notes=load, extra=extra))
    rows.append(Result(
        name="visitors_server_rss_mib", group=GROUP, description=f"server memory with {visitors} visitors (peak of the "
        f"phases; before {figures['rss_before_mib']:.0f} MiB, after they left {figures['rss_left_mib']:.0f} MiB)",
        unit="MiB", median=max(figures["rss_after_generate_new_mib"], figures["rss_after_mixed_mib"]), spread=0.0,
        repeats=1, baseline="server before the visitors", baseline_median=figures["rss_before_mib"],
        target="bounded per visitor; freed when they leave", notes=load, extra=extra))
    return rows


def run(visitors: int = VISITORS, clicks: int = CLICKS, model_dir: str | None = None) -> list[Result]:
    """Measure and return the figures; nothing when Chromium is not installed."""
    if not CHROMIUM.exists():
        print(f"  skipped: {CHROMIUM} is not installed", flush=True)
        return []
    figures = measure(visitors, clicks, model_dir)
    tally: Tally = figures["tally"]
    for phase, seconds in tally.seconds.items():
        if seconds:
            print(f"    {phase}: {len(seconds)} clicks, p50 {statistics.median(seconds):.2f} s, "
                  f"p95 {_percentile(seconds, 0.95):.2f} s, server {figures[f'{phase}_cpu_s']:.1f} CPU-s", flush=True)
    print(f"    errors: {len(tally.errors)}; rss {figures['rss_before_mib']:.0f} → {figures['rss_opened_mib']:.0f} → "
          f"{figures['rss_after_mixed_mib']:.0f} → {figures['rss_left_mib']:.0f} MiB after leaving", flush=True)
    return results(figures, visitors)

