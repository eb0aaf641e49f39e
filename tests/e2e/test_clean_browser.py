"""Cleaning in a real browser: add two steps, undo one, download the cleaned CSV."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from playwright.sync_api import expect

from core import store
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in a select box (a rerun that is still drawing can close the list: retry)."""
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        page.get_by_label(label, exact=True).first.click()
        try:
            expect(choice).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    choice.click()
    expect(page.get_by_label(label, exact=True).first).to_have_value(option)


def test_add_two_steps_undo_one_and_download_the_cleaned_csv(app_server, page):
    engine = store.init_store(f"sqlite:///{app_server.home / 'assay.db'}")
    frame = pd.DataFrame({"name": ["=1+2", "@SUM(A1)", "ok", "plain"], "amount": [1.0, None, 3.0, 10.0],
                          "year": [2020, 2021, 2022, 2023]})
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "Shop").id
        store.save_dataset(s, project_id, "orders", frame)
    store.dispose_engines()

    page.goto(f"{app_server.url}/?project={project_id}", wait_until="domcontentloaded")
    expect(page.get_by_text("Project Shop")).to_be_visible()  # the app (not a bare page) has run
    page.get_by_role("link", name="Clean").click()
    expect(page.get_by_text("No steps yet: the table is as it was uploaded.")).to_be_visible()

    # step 1: drop 'year' (the default step kind)
    page.get_by_label("Columns to drop").click()
    page.get_by_role("option", name="year", exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_text("Drop 'year'").first).to_be_visible()
    page.get_by_role("button", name="Add step").click()
    expect(page.get_by_text("1. Drop 'year'")).to_be_visible()
    wait_for_app(page)

    # step 2: fill the missing amount with the median
    _choose(page, "Step", "Fill missing values")
    page.get_by_label("Columns", exact=True).first.click()
    page.get_by_role("option", name="amount (1 missing)").click()
    page.keyboard.press("Escape")
    expect(page.get_by_text("Fill missing 'amount' with median").first).to_be_visible()
    page.get_by_role("button", name="Add step").click()
    wait_for_app(page)
    expect(page.get_by_text("2. Fill missing 'amount' with median")).to_be_visible()

    # undo the second step
    page.get_by_role("button", name="Undo").click()
    wait_for_app(page)
    expect(page.get_by_text("2. Fill missing 'amount' with median")).to_have_count(0)
    expect(page.get_by_text("1. Drop 'year'")).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("button", name="Cleaned CSV").click()
    download = info.value
    assert download.suggested_filename == "orders.cleaned.csv"
    cleaned = pd.read_csv(io.BytesIO(open(download.path(), "rb").read()), keep_default_na=False)
    assert cleaned.columns.tolist() == ["name", "amount"]
    assert cleaned["name"].tolist() == ["'=1+2", "'@SUM(A1)", "ok", "plain"], "formula-safe"
    assert cleaned["amount"].tolist() == ["1.0", "", "3.0", "10.0"], "the undone fill is not applied"
    assert page.dialogs == []
