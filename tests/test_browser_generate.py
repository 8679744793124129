"""The Generate page in a real browser: hearing chords, the composer, favourites and their link, and the address on Back.

One ``streamlit run app.py`` for the module (a tiny random-weight model made active in a private
output folder), headless Debian Chromium through PyPI playwright, as :mod:`tests.test_browser_e2e`.
Screenshots of each state go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
    with streamlit_server(tiny_output_dir(tmp_path_factory.mktemp("generate-output"))) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), timeout=30_000,
                                              args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        yield chromium
        chromium.close()


def opened(browser: Browser, url: str, count: int = 0) -> Page:
    """A fresh context on ``url``, once the page has written its address (it names the model), drawn ``count``
    headings and finished its run. The address is written by a second run; a click on the first run's widgets
    while the second redraws them is the likeliest cause of a chord click that went unheard in one CI run."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(PAGE_S * 1000)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_url(re.compile(r"[?&]model="))
    if count:
        expect(page.locator("h3").filter(has_text=HEADING)).to_have_count(count)
    wait_for_render(page, settle_s=0.3, timeout_s=PAGE_S)
    return page


def button(page: Page, key: str, index: int = 0):
    """The button of the Streamlit widget with ``key`` (a key prefix: ``index`` picks among several)."""
    return page.locator(f"[class*='st-key-{key}'] button:visible").nth(index)


def headings(page: Page) -> list[str]:
    return page.locator("h3").filter(has_text=HEADING).all_inner_texts()


def playing(page: Page, scope: str) -> None:
    """Wait until the player of panel ``scope`` is there and sounding (autoplay, not paused)."""
    player = page.locator(f"[class*='st-key-gen-hear-{scope}-'] audio").last
    player.wait_for(state="attached")
    expect(player).to_have_js_property("autoplay", True)
    page.wait_for_function("a => !a.paused && a.currentTime > 0", arg=player.element_handle())


def test_a_chord_and_its_alternatives_are_heard_before_one_is_chosen(server: str, browser: Browser) -> None:
    page = opened(browser, f"{server}/generate?samples=2&length=6&seed=3", 2)
    first = headings(page)
    page.locator("[class*='st-key-gen-chords-0'] button:visible").nth(2).click()  # chord 3 of progression 1
    playing(page, "p0")
    expect(page.get_by_text(re.compile(r"^Chord 3: "))).to_be_visible()
    expect(page.get_by_text("current chord")).to_be_visible()  # the chord now there, marked among its alternatives
    full_screenshot(page, ARTIFACTS / "generate-chord-panel.png", 1400, settle_s=0.5)
    button(page, "gen-hear-alt-0-2-", 1).click()  # an alternative, heard in place
    expect(page.get_by_text(re.compile(r"in place of chord 3"))).to_be_visible()
    playing(page, "p0")
    button(page, "gen-swap-0-2-").click()
    expect(page.locator("h3").filter(has_text=HEADING).first).not_to_have_text(first[0])
    assert headings(page)[1] == first[1]  # the other progression is untouched
    assert "p1=" in page.url
    page.context.close()


def test_the_composer_ranks_next_chords_and_adds_one_with_a_click(server: str, browser: Browser) -> None:
    page = opened(browser, f"{server}/generate?seed=5&view=compose&compose=C+G")
    offers = page.locator("[class*='st-key-gen-compose-add-next-'] button:visible")
    expect(offers).to_have_count(8)
    page.locator("[class*='st-key-gen-compose-hear-next-'] button:visible").first.click()
    playing(page, "compose")
    offers.first.click()
    page.wait_for_url(re.compile(r"compose=C\+G\+\w"))
    expect(page.locator("[class*='st-key-gen-compose-play-'] button:visible")).to_have_count(3 + 1)  # 3 chords, Play
    expect(page.locator("[class*='st-key-gen-compose-add-fit-'] button:visible").first).to_be_visible()  # fits here
    full_screenshot(page, ARTIFACTS / "generate-composer.png", 1400, settle_s=0.5)
    page.context.close()


def test_favourites_have_a_link_that_brings_them_back_with_the_model(server: str, browser: Browser) -> None:
    page = opened(browser, f"{server}/generate?samples=2&length=4&seed=7", 2)
    starred = headings(page)[0].split(":", 1)[1].strip()
    button(page, "gen-star-0").click()
    page.wait_for_url(re.compile(r"fav="))
    button(page, "gen-new").click()
    expect(page.locator("h3").filter(has_text=HEADING).first).not_to_have_text(f"Progression 1: {starred}")
    page.get_by_role("tab", name="Favourites").click()
    link = page.locator("[data-testid='stCode'] code:visible").filter(has_text="fav=").first.inner_text().strip()
    assert "model=tiny%40" in link and "view=favourites" in link
    full_screenshot(page, ARTIFACTS / "generate-favourites.png", 1400, settle_s=0.5)
    page.context.close()
    again = opened(browser, link.replace("http://localhost:8501", server))
    expect(again.get_by_text(starred, exact=True)).to_be_visible()
    again.context.close()


def test_back_after_another_page_lands_on_a_clean_address_and_the_work_comes_back(server: str, browser: Browser) -> None:
    page = opened(browser, f"{server}/generate?samples=2&length=5&seed=11", 2)
    before = headings(page)
    button(page, "gen-regen-1").click()
    expect(page.locator("h3").filter(has_text=HEADING).nth(1)).not_to_have_text(before[1])
    work = headings(page)
    page.locator("a", has_text="Dataset").first.click()
    page.wait_for_url(re.compile(r"/dataset$"))
    page.locator("a", has_text="Generate").first.click()
    page.wait_for_url(re.compile(r"/generate\?.*p2="))
    expect(page.locator("h3").filter(has_text=HEADING)).to_have_text(work)
    page.go_back()
    page.go_back()
    page.wait_for_url(re.compile(r"/dataset$"))  # no query string of the Generate page on the Dataset page's entry
    page.go_forward()
    page.wait_for_url(re.compile(r"/generate"))
    expect(page.locator("h3").filter(has_text=HEADING)).to_have_text(work)
    page.context.close()
