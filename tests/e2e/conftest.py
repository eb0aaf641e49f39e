"""A real app server and Debian's headless chromium (never a downloaded browser).

With ``ASSAY_REQUIRE_BROWSER=1`` (set by ``.ci/run``) a missing chromium fails the
run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    def __init__(self, home: Path, env: dict | None = None):
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "ASSAY_HOME": str(home),
                    "ASSAY_DATABASE_URL": f"sqlite:///{home / 'assay.db'}", **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self) -> AppServer:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "streamlit.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {(self.home / 'streamlit.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not answer within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def app_server(tmp_path):
    server = AppServer(tmp_path / "app-home").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("ASSAY_REQUIRE_BROWSER") == "1":
            pytest.fail("ASSAY_REQUIRE_BROWSER=1 but chromium is not installed (apt-get install chromium)")
        pytest.skip("browser tests need Debian's chromium: apt-get install -y chromium")
    if _SHARED:  # tests/robustness re-imports this fixture: a second sync_playwright would fail
        _SHARED[1] += 1
        yield _SHARED[0]
        _SHARED[1] -= 1
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=FLAGS)
        _SHARED[:] = [browser, 1]
        yield browser
        _SHARED.clear()
        browser.close()


_SHARED: list = []  # [browser, users] while a session browser is running


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # assertions wait as long as actions (2 busy cores)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # any alert() means user data ran as script
    yield page
    context.close()


def wait_for_app(page) -> None:
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_selector('[data-testid="stMainBlockContainer"]')
    # the script has finished its run when the status widget is gone
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
