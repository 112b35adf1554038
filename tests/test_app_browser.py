"""The app as a user sees it: `streamlit run` serving the pages to real headless Chromium (Debian's package)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.config import REPO_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
PAGES = [("Arena", "Arena"), ("Leaderboard", "Leaderboard"), ("History", "History"),
         ("Auto Arena", "Auto Arena"), ("Settings", "Settings")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = free_port()
    data = tmp_path_factory.mktemp("app")
    env = {**os.environ, "ARENA_DB": str(data / "local.db"), "ARENA_MODELS": str(data / "models.toml"),
           "ARENA_DOTENV": str(data / ".env"), "OLLAMA_HOST": "http://127.0.0.1:9"}
    log = data / "streamlit.log"
    with log.open("wb") as output:  # a file, not a pipe: nobody reads a pipe, and a full one would stall the app
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(url + "/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("streamlit did not start:\n" + log.read_text(errors="replace"))
        yield url
    finally:
        stop_process_group(server)
    assert server.returncode is not None


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the server's own process group, SIGKILL it if it lingers: nothing may outlive the test."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def page(app_url):
    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 2000})
        yield tab
        browser.close()


def test_every_page_renders_in_chromium(app_url, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(app_url)
    for link_text, heading in PAGES:
        page.get_by_test_id("stSidebarNav").get_by_text(link_text, exact=True).click()
        page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
        if heading == "Settings":
            page.get_by_text("Code runs in").or_(page.get_by_text("No sandbox is available")).first.wait_for(
                timeout=60_000)
        # Let tables and alerts finish drawing (Streamlit streams elements in) before looking and taking a picture.
        page.wait_for_function("document.querySelectorAll('[data-testid=stSkeleton]').length === 0", timeout=30_000)
        for table in page.get_by_test_id("stDataFrame").all():
            table.locator("canvas").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        assert page.get_by_test_id("stException").count() == 0
        page.screenshot(path=str(SCREENSHOTS / f"{heading.lower().replace(' ', '_')}.png"), full_page=True)
