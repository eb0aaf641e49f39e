"""kill -9 of the app server in the middle of a save, then a restart: nothing half-written."""

from __future__ import annotations

import os
import signal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core import store
from tests.e2e.conftest import AppServer, wait_for_app

pytestmark = pytest.mark.e2e


def test_kill_9_of_the_app_mid_save_then_restart(tmp_path, browser):
    home = tmp_path / "home"
    data = tmp_path / "big.csv"
    data.write_text("a,b\n" + "".join(f"{i},{i * 0.5}\n" for i in range(100_000)))
    server = AppServer(home).start()
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(server.url, wait_until="domcontentloaded")
        wait_for_app(page)
        page.get_by_label("Project name").last.fill("Survivor")
        page.get_by_role("button", name="Create project").last.click()
        expect(page.get_by_text("Project Survivor · add a table")).to_be_visible()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(data))
        expect(page.get_by_role("button", name="Save dataset")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Save dataset").click()
        page.wait_for_timeout(150)
        os.killpg(server.process.pid, signal.SIGKILL)  # mid-save, or just after it
        server.process.wait()

        url = f"sqlite:///{home / 'assay.db'}"
        engine = store.init_store(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        with store.read_session(engine) as s:
            assert [p.name for p in store.list_projects(s)] == ["Survivor"]
            datasets = s.scalars(sa.select(store.Dataset)).all()
            for d in datasets:  # saved whole, or not at all
                assert len(store.read_dataset_frame(s, d)) == d.n_rows == 100_000
        store.dispose_engines()

        server.start()  # same home, same store: the app comes back
        page.goto(server.url, wait_until="domcontentloaded")
        wait_for_app(page)
        expect(page.get_by_text("Project Survivor · add a table")).to_be_visible()
    finally:
        context.close()
        server.stop()
