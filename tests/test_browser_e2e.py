"""The studio in a real browser: ``streamlit run app.py`` driven by headless Chromium (PyPI playwright).

One server for the module, on a free port, with CHORDSMITH_OUTPUT in a temporary folder holding a
tiny random-weight model made active. Every page is opened and screenshotted into
``test-artifacts/`` (git-ignored); a shared Generate link reproduces the same chords in a new
browser context; a short training starts from the Training form, its epoch counter and chart
update live, and it is stopped (it starts first and trains while the other pages are checked).
Every wait is bounded; the module aims at under 3 minutes on an idle 2-core machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.studio_server import CHROMIUM, streamlit_server
from core.run_files import TRAINING_LOCK_FILE
from tests.browser_support import ARTIFACTS, PAGE_S, tiny_output_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from screenshot_pages import CHROMIUM_ARGS, full_screenshot, wait_for_render  # noqa: E402


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private output folder with a tiny model as the active model."""
    return tiny_output_dir(tmp_path_factory.mktemp("e2e-output"))


@pytest.fixture(scope="module")
def server(output_dir: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free port; yields its base URL, stops it (and any training it started)."""
    try:
        with streamlit_server(output_dir) as base:
            yield base
    finally:
        stop_training_started_by_the_test(output_dir)


def stop_training_started_by_the_test(output_dir: Path) -> None:
    """Kill the process group of a training the test's server started, if it still runs."""
    lock = output_dir / TRAINING_LOCK_FILE
    if lock.exists():
        try:
            pid = int(json.loads(lock.read_text(encoding="utf-8"))["pid"])
            if pid != os.getpid():
                os.killpg(pid, signal.SIGKILL)
        except (OSError, ValueError, KeyError):
            pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        yield chromium
        chromium.close()


def open_page(browser: Browser, url: str) -> Page:
    """A new context (nothing shared with earlier pages) on ``url``, rendered."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(PAGE_S * 1000)
    page.goto(url, wait_until="domcontentloaded")
    wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)
    return page


def shown_progressions(page: Page, count: int = 2) -> list[str]:
    """The chords of each 'Progression N: …' heading on the Generate page, once all ``count`` have rendered."""
    headings = page.locator("h3").filter(has_text=re.compile(r"^Progression \d+:"))
    expect(headings).to_have_count(count, timeout=PAGE_S * 1000)
    return [text.split(":", 1)[1].strip() for text in headings.all_inner_texts()]


@pytest.fixture(scope="module")
def training_run(server: str, browser: Browser) -> str:
    """Start a short training from the Training form; returns the run name.

    Module-scoped and requested by the first test, so the run trains while the other pages are checked.
    """
    from core.paths import CORPUS_TABLE

    if not CORPUS_TABLE.exists():
        pytest.skip(f"training needs the corpus table {CORPUS_TABLE} (python -m core data build)")
    page = open_page(browser, f"{server}/training")
    form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Start training"))
    form.get_by_label("Epochs", exact=True).fill("3")  # the form's own fields (the fine-tune panels have a Run name too)
    form.get_by_label("Units per layer", exact=True).fill("32")
    form.get_by_label("Chord embedding size", exact=True).fill("16")
    form.get_by_label(re.compile("^Train-window slice")).fill("100")
    form.get_by_label("Run name", exact=True).fill("e2e-run")
    form.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Training now: e2e-run")).to_be_visible(timeout=30_000)
    page.context.close()
    return "e2e-run"


def test_training_starts_from_the_form(training_run: str) -> None:
    assert training_run == "e2e-run"


def test_every_page_renders_and_a_shared_link_reproduces_the_chords(server: str, browser: Browser) -> None:
    for path, title in (("", "Chordsmith"), ("dataset", "Dataset"), ("training", "Training"),
                        ("evaluation", "Evaluation"), ("generate?samples=2", "Generate")):
        started = time.time()
        page = open_page(browser, f"{server}/{path}")
        print(f"/{path}: rendered in {time.time() - started:.1f}s")
        expect(page.locator("h1").first).to_contain_text(title, timeout=PAGE_S * 1000)
        assert page.locator("[data-testid='stException']").count() == 0, f"traceback on /{path}"
        full_screenshot(page, ARTIFACTS / f"e2e-{title.lower()}.png", 1400, settle_s=1.0)
        page.context.close()

    page = open_page(browser, f"{server}/generate?genre=pop&samples=2&length=6&seed=4242")
    first = shown_progressions(page)
    page.get_by_role("button", name="Generate new").click()
    for number, before in enumerate(first, start=1):  # every heading redrawn, none left over from the last run
        expect(page.locator("h3").filter(has_text=f"Progression {number}:")).not_to_have_text(
            f"Progression {number}: {before}", timeout=PAGE_S * 1000)
    wait_for_render(page, settle_s=1.0, timeout_s=PAGE_S)
    chords = shown_progressions(page)
    page.get_by_text("Share these progressions").click()
    link = page.locator("[data-testid='stCode'] code").first.inner_text(timeout=PAGE_S * 1000).strip()
    assert "seed=" in link and "seed=4242" not in link and "genre=pop" in link
    full_screenshot(page, ARTIFACTS / "e2e-generate-shared.png", 1400, settle_s=1.0)
    page.context.close()

    again = open_page(browser, link.replace("http://localhost:8501", server))
    assert shown_progressions(again) == chords
    again.context.close()


def test_the_training_updates_live_and_stops(server: str, browser: Browser, training_run: str) -> None:
    page = open_page(browser, f"{server}/training")
    expect(page.get_by_text(re.compile(r"epoch [1-3] of 3"))).to_be_visible(timeout=120_000)
    expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible(timeout=15_000)
    full_screenshot(page, ARTIFACTS / "e2e-training-live.png", 1400, settle_s=0.5)
    stop = page.get_by_role("button", name="Stop training")
    if stop.count():  # a 100-window run may already be done
        stop.click()
        said = page.get_by_text(re.compile(r"stopping|stopped|finished", re.IGNORECASE)).filter(visible=True)
        expect(said.first).to_be_visible(timeout=30_000)
    page.context.close()
