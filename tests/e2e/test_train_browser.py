"""Training in a real browser: start a run, reload the page mid-run, and see it finish."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import datasets, ingest, store
from tests.conftest import dataset_path
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_start_reload_mid_run_and_see_it_finish(app_server, page):
    engine = store.init_store(app_server.env["ASSAY_DATABASE_URL"])
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "Birds").id
        datasets.save_loaded(s, project_id, "Penguins", ingest.load(dataset_path("penguins.csv")),
                             {"target": "species"})
    store.dispose_engines()

    page.goto(app_server.url, wait_until="domcontentloaded")
    wait_for_app(page)
    page.get_by_role("link", name="Train", exact=True).click()
    expect(page.get_by_text("Detected task: multiclass")).to_be_visible(timeout=30_000)
    budget = page.get_by_role("spinbutton", name="Time budget (seconds)")
    budget.fill("12")
    budget.press("Tab")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text("Trials finished")).to_be_visible(timeout=60_000)

    page.reload(wait_until="domcontentloaded")  # the run lives in a worker, not in the page
    wait_for_app(page)
    expect(page.get_by_text("Run 1: predicting species")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Holdout log loss")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("button", name="Download the model (zip)")).to_be_visible()
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_contain_text("chosen", timeout=30_000)
    assert page.dialogs == []
