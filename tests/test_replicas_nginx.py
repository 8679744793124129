"""Two studio replicas behind nginx with sticky sessions: a shared link through the proxy shows what either replica shows.

The layout of docs/sharing.md, run for real (:mod:`bench.replicas`): two ``streamlit run app.py``
on 127.0.0.1 sharing one output folder (the shipped model in use), Debian's nginx in front of them
unprivileged (a high port, its files in the test's folder), and headless Chromium. A new visitor's
first request picks a replica; the cookie nginx sets keeps every later request of that visitor, its
websocket included, on the same one. The test pins one visitor to each replica, opens the same
``/generate?…`` link through the proxy in both, and finds the progressions a visitor gets from a
replica directly; the proxy's access log shows each visitor stayed on their replica.
"""

from __future__ import annotations

import re
import time

import pytest

from bench.replicas import NGINX, REPLICA_COOKIE, access_log, first_visit, nginx_proxy
from bench.studio_server import CHROMIUM, streamlit_servers
from tests.browser_support import PAGE_S

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
if NGINX is None:
    pytest.skip("nginx is not installed (Debian: apt-get install nginx), so the replicas behind a proxy cannot be "
                "started here", allow_module_level=True)

from playwright.sync_api import BrowserContext, expect, sync_playwright  # noqa: E402
from screenshot_pages import CHROMIUM_ARGS, wait_for_render  # noqa: E402

LINK = "/generate?genre=pop&mood=happy&samples=2&length=6&seed=11"
HEADING = re.compile(r"^Progression \d+:")
NEW_VISITORS = 40  # new visitors' first requests until both replicas have served one (each is a coin toss)


def progressions(context: BrowserContext, url: str) -> list[str]:
    """The 'Progression N: chords' headings a visitor opening ``url`` sees, once the page has settled."""
    page = context.new_page()
    page.set_default_timeout(PAGE_S * 1000)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_url(re.compile(r"[?&]model="))
    headings = page.locator("h3").filter(has_text=HEADING)
    expect(headings).to_have_count(2)
    wait_for_render(page, settle_s=0.3, timeout_s=PAGE_S)
    assert page.locator("[data-testid='stException']").count() == 0
    return headings.all_inner_texts()


def test_a_shared_link_through_nginx_shows_the_same_progressions_on_either_replica(tmp_path) -> None:
    output = tmp_path / "output"  # no active model: both replicas write with the shipped models/default
    output.mkdir()
    with streamlit_servers(output, ["replica-1.log", "replica-2.log"]) as (one, two), \
            nginx_proxy(tmp_path / "nginx", [one.split("//")[1], two.split("//")[1]]) as proxy, \
            sync_playwright() as playwright:
        pins: dict[str, str] = {}  # replica -> the cookie value that keeps a visitor there
        for _ in range(NEW_VISITORS):
            replica, key = first_visit(proxy)
            pins.setdefault(replica, key)
            if len(pins) == 2:
                break
        assert set(pins) == {one.split("//")[1], two.split("//")[1]}, pins

        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        direct = browser.new_context(viewport={"width": 1400, "height": 1000})
        expected = progressions(direct, one + LINK)
        direct.close()
        for key in pins.values():
            visitor = browser.new_context(viewport={"width": 1400, "height": 1000})
            visitor.add_cookies([{"name": REPLICA_COOKIE, "value": key, "url": proxy}])
            assert progressions(visitor, proxy + LINK) == expected
            visitor.close()  # its websocket closes, and the proxy logs it
        browser.close()

        deadline = time.time() + 10
        while True:
            log = access_log(tmp_path / "nginx")
            streams = {row["key"] for row in log if row["uri"] == "/_stcore/stream" and row["status"] == "101"}
            if set(pins.values()) <= streams or time.time() > deadline:
                break
            time.sleep(0.2)
        for replica, key in pins.items():
            served = [row for row in log if row.get("key") == key]
            assert any(row["uri"] == "/_stcore/stream" and row["status"] == "101" for row in served), served
            assert {row["upstream"] for row in served} == {replica}, served  # sticky: the page, its files, its websocket
