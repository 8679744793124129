"""In Chromium: a shared link carrying Markdown, HTML and directives renders none of them; a visitor cannot train.

One studio (``streamlit run app.py``, a tiny model) with an owner password set, so the browser is a
visitor's. The Generate page is opened with a payload in every URL parameter, and once more with the
Analyze panel and its text; the page must hold no link to the outside host, no image from it, no
coloured span or icon made from the payload, yet show the payload's words. The Training page must
refuse the visitor before drawing its form.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest

from bench.studio_server import CHROMIUM, streamlit_server
from core import credentials
from tests.browser_support import PAGE_S, tiny_output_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from screenshot_pages import CHROMIUM_ARGS, wait_for_render  # noqa: E402
from test_plain_text import PARAMETERS, PAYLOADS  # noqa: E402

#: what the payloads would make if rendered: outside links and images, colours, icons.
RENDERED = ("a[href*='evil']", "img[src*='evil']", ".stMarkdownColoredText", "[data-testid='stMarkdownContainer'] "
            "span[role='img'][aria-label*='skull']", "[data-testid='stMarkdownContainer'] del")


def hostile_link(shift: int, **more: str) -> str:
    return urlencode({name: PAYLOADS[(n + shift) % len(PAYLOADS)] for n, name in enumerate(PARAMETERS)} | more)


def test_a_hostile_link_renders_nothing_and_a_visitor_cannot_train(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("CHORDSMITH_SECRETS", str(secrets))  # the server inherits it: an owner password is set
    credentials.store_hash(credentials.OWNER_KEY, credentials.hashed("correct horse battery staple"))
    output = tiny_output_dir(tmp_path / "output")
    with streamlit_server(output, log_name="streamlit-plain-text.log") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(PAGE_S * 1000)
        for address in (hostile_link(0), hostile_link(3, view="analyze", analyze=PAYLOADS[0])):
            page.goto(f"{base}/generate?{address}", wait_until="domcontentloaded")
            wait_for_render(page, settle_s=1.0, timeout_s=PAGE_S)
            expect(page.get_by_text("unknown genre").first).to_be_visible(timeout=PAGE_S * 1000)  # the warnings are there
            wait_for_render(page, settle_s=1.0, timeout_s=PAGE_S)
            assert "evil" in page.locator("[data-testid='stAlert']").first.inner_text()  # the payloads shown, as text
            assert page.locator("[data-testid='stException']").count() == 0
            for selector in RENDERED:
                assert page.locator(selector).count() == 0, (selector, address)
        page.goto(f"{base}/training", wait_until="domcontentloaded")
        wait_for_render(page, settle_s=1.0, timeout_s=PAGE_S)
        expect(page.get_by_text("is for the studio's owner").first).to_be_visible(timeout=PAGE_S * 1000)
        assert page.get_by_role("button", name="Start training").count() == 0
        browser.close()
