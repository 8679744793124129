"""Screenshot the studio's pages with headless Chromium (playwright), to look at them as a user does.

Start the studio first, e.g.::

    streamlit run app.py --server.address 127.0.0.1 --server.port 8599 --server.headless true &
    python scripts/screenshot_pages.py --base http://127.0.0.1:8599 --out test-artifacts/screens

Each page is opened at its URL path (``/``, ``/dataset``, ``/training``, …), given time to
render (no "running" indicator, no spinner), and saved as a PNG of the whole page (the
viewport is grown to the page's height, as Streamlit scrolls inside its own container). Pass ``--click TAB``
to also capture each tab of a page whose label matches (e.g. the Dataset tabs).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DEFAULT_PAGES = ("", "dataset", "training", "evaluation", "generate")


def wait_for_render(page: Page, settle_s: float, timeout_s: float = 60.0) -> None:
    """Wait until Streamlit has drawn the app and stopped running the script."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    time.sleep(settle_s)
    while time.time() < deadline:
        busy = page.locator("[data-testid='stStatusWidget'], [data-testid='stSpinner'], [data-testid='stSkeleton']").count()
        if not busy:
            break
        time.sleep(0.5)
    time.sleep(settle_s)


def full_screenshot(page: Page, target: Path, width: int, settle_s: float) -> Path:
    """Screenshot the whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it first."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 12000)})
    time.sleep(settle_s / 2)
    page.screenshot(path=str(target), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})
    return target


def screenshot_pages(base: str, out_dir: Path, pages: list[str], tabs: list[str], width: int, settle_s: float,
                     executable: str) -> list[Path]:
    """Save one PNG per page (and per clicked tab); returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
        page = context.new_page()
        for name in pages:
            page.goto(f"{base.rstrip('/')}/{name}", wait_until="domcontentloaded")
            wait_for_render(page, settle_s)
            written.append(full_screenshot(page, out_dir / f"{name or 'home'}.png", width, settle_s))
            for tab in tabs:
                button = page.get_by_role("tab", name=tab)
                if button.count():
                    button.first.click()
                    wait_for_render(page, settle_s)
                    target = out_dir / f"{name or 'home'}-{tab.split()[0].lower()}.png"
                    written.append(full_screenshot(page, target, width, settle_s))
        browser.close()
    return written


def main() -> None:
    """Parse the command line and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8599", help="URL of the running studio")
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/screens"), help="folder for the PNGs")
    parser.add_argument("--pages", nargs="*", default=list(DEFAULT_PAGES), help="URL paths ('' is Home)")
    parser.add_argument("--click", nargs="*", default=[], metavar="TAB", help="tab labels to open and capture too")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to let charts draw")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    for path in screenshot_pages(args.base, args.out, args.pages, args.click, args.width, args.settle, args.chromium):
        print(path)


if __name__ == "__main__":
    main()
