"""A shared song link opened first after a server start shows the same song (sections, chords) in Chromium."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bench.studio_server import CHROMIUM, streamlit_server
from studio.song_url import read_song_text
from tests.browser_support import ARTIFACTS, PAGE_S, tiny_output_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from screenshot_pages import CHROMIUM_ARGS, full_screenshot, wait_for_render  # noqa: E402

SONG = ("1~3/4~84~77~folk~calm~D major~Intro:2:D.3 A/C#.3*~Verse:4:D.3 G.3 Bm.6~Chorus:2:G.2 A.1 D.3"
        "~Verse:4:D.3 G.3 Bm.6~Outro:1:A7.1 D.2")


def test_a_shared_song_link_opened_first_shows_the_same_song(tmp_path_factory: pytest.TempPathFactory) -> None:
    song = read_song_text(SONG)
    output_dir = tiny_output_dir(tmp_path_factory.mktemp("song-link-output"))
    ARTIFACTS.mkdir(exist_ok=True)
    address = "generate?" + urlencode({"view": "song", "genre": "folk", "key": "D", "seed": "5", "song": SONG})
    with streamlit_server(output_dir, log_name="streamlit-song-link.log") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(PAGE_S * 1000)
        page.goto(f"{base}/{address}", wait_until="domcontentloaded")
        wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)
        expect(page.get_by_text("1. Intro").first).to_be_visible(timeout=PAGE_S * 1000)
        for index, section in enumerate(song.sections):
            card = page.locator(f".st-key-song-section-{index}")
            expect(card.get_by_text(f"{index + 1}. {section.name}")).to_be_visible()
            shown = [card.locator(f".st-key-song-chord-{index}-{p} button").first.inner_text().strip()
                     for p in range(len(section.chords))]
            assert shown == song.symbols(index), (index, shown)
        assert page.locator("[data-testid='stException']").count() == 0
        assert "song=" in page.url and "view=song" in page.url, page.url
        full_screenshot(page, ARTIFACTS / "song-link.png", 1400, settle_s=0.5)
        browser.close()
