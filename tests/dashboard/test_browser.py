"""The dashboard served for real (`shopstream dashboard` → `streamlit run` on 127.0.0.1) and opened in Debian's
Chromium through Playwright: every page must render its metric cards and charts with no exception on the page and
no error in the browser console. Screenshots land in the test's tmp dir; with SHOPSTREAM_UPDATE_SCREENSHOTS=1 they
also replace the ones in docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.source.server import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("SHOPSTREAM_UPDATE_SCREENSHOTS") == "1"
# url path → charts the page must draw
PAGES = {"overview": 3, "products": 1, "customers": 2, "funnel": 2}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does it)",
    ),
]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the dashboard exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer on {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def dashboard_url(marts_stack) -> Iterator[str]:
    """`shopstream dashboard --stack test --port P` in its own process group, stopped with the module."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("shopstream")), "dashboard", "--stack", marts_stack.stack]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own group: stopping it also stops the streamlit child
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        process.stderr.close()


class BrowserTab:
    """One Chromium tab on the dashboard, with the console errors and page errors it reported."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))


@pytest.fixture(scope="module")
def tab(dashboard_url) -> Iterator[BrowserTab]:
    """A tab opened once on the app's root; the tests move between pages through the sidebar, as a user does.

    (Opened directly at /products, Streamlit's client first probes /products/_stcore/... for a base path and logs
    two 404s in the console.)
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # Tall enough for a whole page: Streamlit scrolls inside its own container, not the document.
            page = browser.new_page(viewport={"width": 1440, "height": 1500})
            opened = BrowserTab(page)
            page.goto(dashboard_url, wait_until="domcontentloaded")
            page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
            yield opened
        finally:
            browser.close()


@pytest.mark.parametrize("page_path", list(PAGES))
def test_page_renders_in_chromium(dashboard_url, tab, page_path, tmp_path):
    page, title = tab.page, page_path.capitalize()
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    page.wait_for_url(f"{dashboard_url}/{'' if page_path == 'overview' else page_path}")
    page.locator("h1", has_text=title).wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    page.locator('[data-testid="stPlotlyChart"] .main-svg').nth(PAGES[page_path] - 1).wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=60_000)  # run finished
    page.wait_for_timeout(500)  # let the charts finish their first transition before the screenshot

    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stPlotlyChart"]').count() == PAGES[page_path]
    assert page.locator('[data-testid="stMetric"]').count() >= 3
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text().strip() not in ("", "—")
    screenshot = tmp_path / f"{page_path}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    if UPDATE_SCREENSHOTS:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, DOCS_SCREENSHOTS / screenshot.name)
    assert tab.errors == []
