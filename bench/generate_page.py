"""The Generate page in a real browser: click to drawn for Generate new, regenerate one, swap, and 8 × 32 with padlocks.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, as the browser tests do) against
``streamlit run app.py`` (:func:`bench.studio_server.streamlit_server`, a private output folder,
so the model in use is ``models/default`` unless ``--model`` names another folder). Each action is
done once untimed (warm: model loaded, caches and browser primed), then timed ``repeats`` times;
the figure is the median. A time runs from just before the click until the page is drawn: the
progressions' headings show the new chords, no element is stale (the run is over) and every
notation image has loaded. The page renders a progression's audio in a background thread and plays
it from its Play button, so "first sound" times that button right after Generate new. The load
average (``uptime``) is read before each figure and kept beside it.

Baselines, measured the same way in the same run:

* Generate new (3 × 8) beside a full redraw of the same page with nothing to compute (the
  Streamlit and browser floor: the Progressions tab opened again, every cache warm);
* regenerate one progression and swap one chord beside Generate new (what a click cost when
  every click redrew every progression);
* 8 × 32 chords with three padlocks in each progression beside 8 × 32 without padlocks: the same three
  chords locked in all eight (drawn in one batch, the old page's "lock and regenerate all"), and
  each progression's own three chords (eight draws).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.studio_server import CHROMIUM, streamlit_server
from bench.timing import Result, Stats

GROUP = "generate page (browser)"
PAGE_S = 120
#: the three padlocked positions (1-based) of the 8 × 32 figure.
LOCKED_POSITIONS = (1, 12, 25)
_DRAWN = """([before, count]) => {
  const heads = [...document.querySelectorAll('h3')].map(h => h.innerText).filter(t => /^Progression \\d+:/.test(t));
  if (heads.length !== count) return false;
  if (before !== null && heads.join('|') === before) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  return [...document.querySelectorAll('[data-testid="stImage"] img')].every(i => i.complete && i.naturalWidth > 0);
}"""


def load_average() -> str:
    """``uptime``'s load averages (1, 5, 15 min)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.split("load average:")[1].strip()
    except (OSError, subprocess.CalledProcessError, IndexError):
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def headings(page) -> str:
    """The progressions' headings joined (what a redraw changes)."""
    return "|".join(t for t in page.locator("h3").all_inner_texts() if re.match(r"^Progression \d+:", t))


def drawn(page, before: str | None, count: int) -> None:
    """Wait until the page is drawn (see the module docstring); ``before``: headings that must have changed."""
    page.wait_for_function(_DRAWN, arg=[before, count], timeout=PAGE_S * 1000, polling=20)


def timed(page, act: Callable[[], None], count: int, changes: bool = True) -> float:
    """Seconds from ``act()`` (a click) to drawn."""
    before = headings(page) if changes else None
    start = time.perf_counter()
    act()
    drawn(page, before, count)
    return time.perf_counter() - start


def click(page, key: str, index: int = 0) -> Callable[[], None]:
    """A click on the button whose Streamlit key is ``key`` (a prefix when ``index`` picks among several)."""
    return lambda: page.locator(f"[class*='st-key-{key}'] button:visible").nth(index).click()


def series(name: str, run: Callable[[], float], repeats: int) -> tuple[Stats, str]:
    """One untimed run, then ``repeats`` timed ones; their statistics and the load average before them."""
    load = load_average()
    run()
    times = [run() for _ in range(repeats)]
    print(f"    {name}: {[round(t, 3) for t in times]} (load {load})", flush=True)
    return Stats.of(times), load


def _open(page, url: str, count: int) -> None:
    """Open ``url`` and wait until it is drawn and the page has written its address (it names the model then)."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_url(re.compile(r"[?&]model="), timeout=PAGE_S * 1000)
    drawn(page, None, count)


def _first_sound(page) -> float:
    """Generate new, then the Play button of progression 1: seconds from the Play click until its player is there."""
    timed(page, click(page, "gen-new"), 3)
    start = time.perf_counter()
    page.locator("[class*='st-key-gen-play-all-0'] button:visible").first.click()
    player = page.locator("[class*='st-key-gen-hear-p0-'] audio").last
    player.wait_for(state="attached", timeout=PAGE_S * 1000)
    page.wait_for_function("a => !a.paused && a.currentTime > 0", arg=player.element_handle(), timeout=PAGE_S * 1000)
    return time.perf_counter() - start


def _swap(page) -> float:
    """Open chord 2's panel in progression 1 (unless open), then time choosing an alternative (never the current chord)."""
    swap = page.locator("[class*='st-key-gen-swap-0-1-'] button:visible").first
    if not swap.count():  # the chord's panel stays open after a swap: a second click on the chord would close it
        page.locator("[class*='st-key-gen-chords-0'] button:visible").nth(1).click()
    swap.wait_for(timeout=PAGE_S * 1000)
    drawn(page, None, 3)
    return timed(page, swap.click, 3)


def _locked_link(page, base: str, seed: int, same: bool) -> str:
    """The address of 8 × 32 progressions with padlocks at :data:`LOCKED_POSITIONS` in each (read from the page): on
    each progression's own chords, or (``same``) on the chords progression 1 has there, the same in all eight."""
    from urllib.parse import urlencode

    _open(page, f"{base}/generate?samples=8&length=32&seed={seed}", 8)
    query = {"samples": "8", "length": "32", "seed": str(seed)}
    rows = [text.split(":", 1)[1].split() for text in headings(page).split("|")]
    for number, chords in enumerate(rows, start=1):
        kept = rows[0] if same else chords
        query[f"p{number}"] = " ".join(kept[i] + "*" if i + 1 in LOCKED_POSITIONS else c for i, c in enumerate(chords))
    return f"{base}/generate?{urlencode(query)}"


def measure_page(base: str, repeats: int) -> dict[str, tuple[Stats, str]]:
    """Every figure of the module docstring, on a running studio at ``base``."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from playwright.sync_api import sync_playwright
    from screenshot_pages import CHROMIUM_ARGS

    figures: dict[str, tuple[Stats, str]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(PAGE_S * 1000)
        _open(page, f"{base}/generate?samples=3&length=8&seed=1", 3)
        figures["generate_new"] = series("generate new", lambda: timed(page, click(page, "gen-new"), 3), repeats)
        figures["first_sound"] = series("generate new, then play progression 1", lambda: _first_sound(page), repeats)

        def floor() -> float:
            page.get_by_role("tab", name="Compose").click()
            page.locator("[class*='st-key-gen-compose']").first.wait_for(timeout=PAGE_S * 1000)
            return timed(page, lambda: page.get_by_role("tab", name="Progressions").click(), 3, changes=False)

        figures["floor"] = series("full redraw, nothing new", floor, repeats)
        figures["regenerate_one"] = series("regenerate one", lambda: timed(page, click(page, "gen-regen-1"), 3), repeats)
        figures["swap"] = series("swap", lambda: _swap(page), repeats)
        _open(page, f"{base}/generate?samples=8&length=32&seed=2", 8)
        figures["big_plain"] = series("8 x 32 generate new", lambda: timed(page, click(page, "gen-new"), 8), repeats)
        _open(page, _locked_link(page, base, 3, same=True), 8)
        figures["big_same_locks"] = series("8 x 32, the same 3 locked chords in each, generate new",
                                           lambda: timed(page, click(page, "gen-new"), 8), repeats)
        _open(page, _locked_link(page, base, 3, same=False), 8)
        figures["big_locked"] = series("8 x 32, 3 padlocks on each one's own chords, generate new",
                                       lambda: timed(page, click(page, "gen-new"), 8), repeats)
        browser.close()
    return figures


def run(repeats: int = 5, model_dir: str | None = None) -> list[Result]:
    """Start a studio, measure, and return the figures (with targets and load averages)."""
    if not CHROMIUM.exists():
        print(f"  skipped: {CHROMIUM} is not installed", flush=True)
        return []
    with tempfile.TemporaryDirectory(prefix="bench-generate-page-") as folder:
        out = Path(folder)
        if model_dir is not None:
            (out / "active_model.txt").write_text(str(Path(model_dir).resolve()), encoding="utf-8")
        with streamlit_server(out, log_name="streamlit-bench.log") as base:
            figures = measure_page(base, repeats)
    return _results(figures)


def _results(figures: dict[str, tuple[Stats, str]]) -> list[Result]:
    def result(key: str, description: str, baseline_key: str, baseline: str, target: str) -> Result:
        stats, load = figures[key]
        base_stats, base_load = figures[baseline_key]
        return Result.from_stats(f"generate_page_{key}_s", GROUP, description, "s", stats, baseline, base_stats,
                                 target=target, notes=f"load average {load} (baseline: {base_load})",
                                 extra={"load_average": load, "baseline_load_average": base_load})

    first_sound, load = figures["first_sound"]
    return [
        result("generate_new", "Generate new, 3 × 8 chords with notation (click to drawn)", "floor",
               "full redraw with nothing new (all cached)", "≤ 1.0 s"),
        Result.from_stats("generate_page_first_sound_s", GROUP, "Play right after Generate new (click to the player "
                          "sounding; audio rendered in the background meanwhile)", "s", first_sound, "—", None,
                          notes=f"load average {load}", extra={"load_average": load}),
        result("regenerate_one", "Regenerate one progression of 3 (click to drawn)", "generate_new",
               "Generate new (every progression redrawn)", "≤ 0.8 s"),
        result("swap", "Swap in an alternative chord (click to drawn)", "generate_new",
               "Generate new (every progression redrawn)", "≤ 0.8 s"),
        result("big_same_locks", "Generate new, 8 × 32 chords, the same 3 chords locked in each (one batched draw; "
               "click to drawn, progress bar)", "big_plain", "8 × 32 without padlocks", "≤ 5 s"),
        result("big_locked", "Generate new, 8 × 32 chords, 3 chords locked in each, its own (8 draws; click to drawn, "
               "progress bar)", "big_plain", "8 × 32 without padlocks", "≤ 5 s"),
    ]

