"""The first user path in a real browser: project, upload, save, reload, still there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_create_project_upload_save_and_reload(app_server, page, tmp_path):
    data = tmp_path / "orders <img src=x onerror=alert(1)>.csv"
    data.write_text("order_id,amount,status\nA-1,12.5,paid\nA-2,7.25,open\nA-3,99.0,<img src=x onerror=alert(1)>\n")

    page.goto(app_server.url, wait_until="domcontentloaded")
    wait_for_app(page)
    expect(page.get_by_text("Create a project to start")).to_be_visible()
    page.get_by_label("Project name").last.fill("Shop")
    page.get_by_role("button", name="Create project").last.click()
    expect(page.get_by_text("Project Shop · add a table")).to_be_visible()

    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(data))
    expect(page.get_by_role("heading", name="Preview: orders <img src=x onerror=alert(1)>.csv")).to_be_visible()
    page.get_by_role("button", name="Save dataset").click()
    expect(page.get_by_text("Saved 'orders img src x onerror alert(1)' (3 rows) to 'Shop'.")).to_be_visible()

    page.reload(wait_until="domcontentloaded")
    wait_for_app(page)
    expect(page.get_by_text("Project Shop · add a table")).to_be_visible()
    grid = page.locator('[data-testid="stDataFrame"]').last
    expect(grid).to_contain_text("orders img src x onerror alert(1)", timeout=30_000)
    assert page.dialogs == []


def test_a_deep_link_as_the_first_request_runs_through_app_py(tmp_path, page):
    # A fresh server whose very first request is /profile must still run app.py:
    # the navigation titles from app.py and the project picker in the sidebar.
    # (With the page files in a folder named pages/, Streamlit ran the page alone.)
    from core import store
    from tests.e2e.conftest import AppServer

    server = AppServer(tmp_path / "deep-home")
    server.home.mkdir(parents=True)
    engine = store.init_store(server.env["ASSAY_DATABASE_URL"])
    with store.write_session(engine) as s:
        store.create_project(s, "Deep link")
    engine.dispose()
    server.start()
    try:
        page.goto(f"{server.url}/profile", wait_until="domcontentloaded")
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar.get_by_text("Explanations")).to_be_visible()
        expect(sidebar.get_by_text("Manage project")).to_be_visible()
        expect(page.get_by_text("Project Deep link · what is in the table")).to_be_visible()
        expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    finally:
        server.stop()
