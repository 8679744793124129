"""The Generate page's cards in a real browser (issue 23, items 3 and 4): each card is a fragment that redraws alone.

A JSON download of progression 1 made after progression 2 was regenerated carries the page's link with
that edit; chords clicked in three progressions leave one chord panel and one player on the page, and
Lock in it locks that chord. One ``streamlit run app.py`` with a tiny model; screenshots in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest

from bench.studio_server import CHROMIUM, streamlit_server
from tests.browser_support import ARTIFACTS, PAGE_S, tiny_output_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from screenshot_pages import CHROMIUM_ARGS, full_screenshot, wait_for_render  # noqa: E402

HEADING = re.compile(r"^Progression \d+:")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(tiny_output_dir(tmp_path_factory.mktemp("cards-output")), log_name="streamlit-cards.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), timeout=30_000,
                                              args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        yield chromium
        chromium.close()


def opened(browser: Browser, url: str, count: int) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
    page.set_default_timeout(PAGE_S * 1000)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_url(re.compile(r"[?&]model="))
    expect(page.locator("h3").filter(has_text=HEADING)).to_have_count(count)
    wait_for_render(page, settle_s=0.3, timeout_s=PAGE_S)
    return page


def chord(page: Page, progression: int, position: int) -> None:
    page.locator(f".st-key-gen-chords-{progression} button:visible").nth(position).click()
    wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)


def test_a_download_made_after_another_card_changed_carries_the_pages_link(server: str, browser: Browser) -> None:
    page = opened(browser, f"{server}/generate?samples=2&length=4&seed=8", 2)
    page.locator(".st-key-gen-regen-1 button:visible").first.click()  # progression 2 redrawn: only its card reruns
    page.wait_for_url(re.compile(r"[?&]p2="))
    wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)
    with page.expect_download() as download:
        page.locator(".st-key-gen-json-0 button:visible").first.click()
    payload = json.loads(open(download.value.path(), encoding="utf-8").read())
    link = parse_qs(urlparse(payload["link"]).query)
    assert "p2" in link, payload["link"]
    assert link == parse_qs(urlparse(page.url).query)  # the page's own link, as the address bar has it
    page.close()


def test_one_chord_panel_and_one_player_whatever_was_clicked_before(server: str, browser: Browser) -> None:
    page = opened(browser, f"{server}/generate?samples=3&length=4&seed=5", 3)
    for progression, position in ((0, 1), (1, 2), (2, 0)):
        chord(page, progression, position)
    expect(page.locator("[class*='st-key-gen-panel-']")).to_have_count(1)
    expect(page.locator(".st-key-gen-panel-2")).to_be_visible()
    expect(page.locator("audio")).to_have_count(1)
    full_screenshot(page, ARTIFACTS / "walkthrough-one-panel.png", 1400, settle_s=0.5)
    page.locator(".st-key-gen-lock-2 button:visible").first.click()
    page.wait_for_url(re.compile(r"[?&]p3=[^&]*(\*|%2A)"))
    assert "*" in parse_qs(urlparse(page.url).query)["p3"][0].split()[0]  # the chord clicked last is the one locked
    page.close()
