"""A page opened first after a server start renders complete: title, navigation and content.

Streamlit runs a ``pages/`` file on its own when its address is the first request after a start (the
classic multipage mode), without ``app.py``. A songwriter who opens a shared Generate link must
still get the whole studio, so for every page a fresh server is started and that page's address is
the first thing asked of it: the heading, the sidebar with every page, and the page's own content
must appear, with no exception box.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.studio_server import CHROMIUM, streamlit_server
from studio.page import PAGES
from tests.browser_support import ARTIFACTS, PAGE_S, tiny_output_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from screenshot_pages import CHROMIUM_ARGS, full_screenshot, wait_for_render  # noqa: E402

SHARED_GENERATE_LINK = "generate?genre=jazz&length=6&samples=2&seed=1234"

#: first address asked of a fresh server -> (title, text that only that page's content shows)
FIRST_VISITS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (SHARED_GENERATE_LINK, "Generate", re.compile(r"^Progression 1:")),
    ("", "Chordsmith", re.compile(r"^Model in use$")),
    ("dataset", "Dataset", re.compile(r"^Songs$")),
    ("training", "Training", re.compile(r"^Epochs$")),
    ("evaluation", "Evaluation", re.compile(r"^Test set$")),
)


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_output_dir(tmp_path_factory.mktemp("first-visit-output"))


@pytest.mark.parametrize(("address", "title", "content"), FIRST_VISITS, ids=[v[1] for v in FIRST_VISITS])
def test_a_page_opened_first_after_a_restart_renders_complete(output_dir: Path, address: str, title: str,
                                                               content: re.Pattern[str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(output_dir, log_name=f"streamlit-{title}.log") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(PAGE_S * 1000)
        page.goto(f"{base}/{address}", wait_until="domcontentloaded")
        wait_for_render(page, settle_s=0.5, timeout_s=PAGE_S)

        expect(page.locator("h1").first).to_have_text(title, timeout=PAGE_S * 1000)
        sidebar = page.locator("[data-testid='stSidebar']")
        for spec in PAGES:
            expect(sidebar.get_by_role("link", name=spec.title, exact=True)).to_be_visible()
        expect(page.get_by_text(content).first).to_be_visible(timeout=PAGE_S * 1000)
        assert page.locator("[data-testid='stException']").count() == 0, f"an exception on /{address}"
        if address == SHARED_GENERATE_LINK:
            assert "genre=jazz" in page.url and "seed=1234" in page.url, page.url
        full_screenshot(page, ARTIFACTS / f"first-visit-{title.lower()}.png", 1400, settle_s=0.5)
        browser.close()
