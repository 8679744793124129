"""What a new user's walk through the Training, Evaluation and Home pages found (issue 23), in headless Chromium.

One studio server over a private output folder with a tiny model; each test looks at what a browser
shows: no request leaves 127.0.0.1, the runs table and Compare chart follow a run while it trains, the
Fine-tune section stays as it was left after "… is now the model the studio uses", and the "Model in
use" field's accessible name is words, not Markdown. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.studio_server import CHROMIUM, streamlit_server
from tests.browser_support import ARTIFACTS, PAGE_S, tiny_output_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from screenshot_pages import CHROMIUM_ARGS, full_screenshot, wait_for_render  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "user-songs"


def epoch_record(epoch: int, val_loss: float) -> dict:
    return {"epoch": epoch, "loss": val_loss - 0.1, "accuracy": 0.3, "top5": 0.6, "val_loss": val_loss,
            "val_accuracy": 0.3, "val_top5": 0.6, "lr": 0.001, "seconds": 5.0, "elapsed": 5.0 * epoch,
            "epochs_planned": 2, "status": "running"}


def live_run(out: Path, name: str) -> Path:
    """A run folder as a trainer leaves it after its first of two epochs."""
    folder = out / "runs" / name
    folder.mkdir(parents=True)
    records = [{"status": "started", "epochs_planned": 2, "time": time.time()}, epoch_record(1, 2.0)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "config.json").write_text(json.dumps({"train": {"epochs": 2, "run_name": name}}))
    return folder


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_output_dir(tmp_path_factory.mktemp("walkthrough-output"))


@pytest.fixture(scope="module")
def base(output_dir: Path) -> Iterator[str]:
    with streamlit_server(output_dir, log_name="streamlit-walkthrough.log") as url:
        yield url


@pytest.fixture
def page(base: str) -> Iterator[Page]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        tab = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        tab.set_default_timeout(PAGE_S * 1000)
        yield tab
        browser.close()


def open_page(page: Page, base: str, address: str) -> None:
    page.goto(f"{base}/{address}", wait_until="domcontentloaded")
    wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)


@pytest.mark.parametrize("address", ["", "dataset", "training", "evaluation"])
def test_no_page_asks_anything_of_a_host_other_than_the_studio(page: Page, base: str, address: str) -> None:
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith((base, "data:", "blob:")) else None)
    open_page(page, base, address)
    page.reload(wait_until="domcontentloaded")  # the tab's icon is asked for again on every visit
    wait_for_render(page, settle_s=1.0, timeout_s=PAGE_S)
    full_screenshot(page, ARTIFACTS / f"walkthrough-offline-{address or 'home'}.png", 1400, settle_s=0.5)
    assert outside == [], f"/{address} asked the internet for {outside}"


def test_the_runs_table_and_the_compare_chart_follow_a_run_while_it_trains(page: Page, base: str,
                                                                           output_dir: Path) -> None:
    from core.training.lock import training_lock
    from core.training.run_folder import write_launch, write_phase

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("core.paths.OUTPUT_DIR", output_dir)  # the lock the server reads: held here, as a trainer does
        folder = live_run(output_dir, "live")
        with training_lock("live") as held:
            write_launch(folder, held.holder.started)
            write_phase(folder, "training")
            open_page(page, base, "training")
            cells = "() => [...document.querySelectorAll('.st-key-runs-table [role=gridcell]')].map(c => c.textContent)"
            page.wait_for_function(f"({cells})().includes('1/2')")
            points = "() => document.querySelector('.st-key-compare-chart .js-plotly-plot').data.map(t => t.x.length)"
            page.wait_for_function(f"({points})().includes(1)")
            with (folder / "metrics.jsonl").open("a") as metrics:
                metrics.write(json.dumps(epoch_record(2, 1.8)) + "\n")
            page.wait_for_function(f"({cells})().includes('2/2')", timeout=15_000)  # no reload: the page redraws itself
            page.wait_for_function(f"({points})().includes(2)", timeout=15_000)
            full_screenshot(page, ARTIFACTS / "walkthrough-runs-live.png", 1400, settle_s=0.5)
        with (folder / "metrics.jsonl").open("a") as metrics:
            metrics.write(json.dumps({"status": "finished", "reason": "epochs completed", "time": time.time()}) + "\n")


def test_the_model_in_use_field_is_named_in_words(page: Page, base: str) -> None:
    open_page(page, base, "training")
    field = page.get_by_role("combobox", name="The studio generates and scores with")
    expect(field).to_have_count(1)
    name = field.evaluate("e => e.getAttribute('aria-label') || e.labels?.[0]?.innerText || ''")
    assert name.startswith("The studio generates and scores with") and "*" not in name, name


def test_fine_tune_stays_open_on_its_tab_after_making_a_model_active(page: Page, base: str) -> None:
    open_page(page, base, "training")
    page.locator(".st-key-make-active button").click()
    expect(page.get_by_text("is now the model the studio uses")).to_be_visible()
    wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)
    section = page.locator(".st-key-fine-tune-section")
    section.locator("summary").first.click()
    page.get_by_role("tab", name="Your own songs").click()
    wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)
    songs = sorted(FIXTURES.glob("*.txt"))[:1]
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([str(p) for p in songs])
    expect(page.get_by_text(songs[0].name).first).to_be_visible()
    wait_for_render(page, settle_s=1.0, timeout_s=PAGE_S)
    full_screenshot(page, ARTIFACTS / "walkthrough-fine-tune-after-upload.png", 1400, settle_s=0.5)
    expect(page.get_by_role("tab", name="Your own songs")).to_have_attribute("aria-selected", "true")
    expect(page.locator("[data-testid='stFileUploaderDropzoneInput']")).to_have_count(1)
    assert section.locator("details").first.get_attribute("open") is not None
