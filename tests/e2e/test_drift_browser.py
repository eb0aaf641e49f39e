"""Drift in a real browser: save one upload, compare a second upload with it, read the verdict, download it."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.conftest import dataset_path
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

EVIL = "<img src=x onerror=alert(1)>"


def test_compare_two_uploads(app_server, page, tmp_path):
    frame = pd.read_csv(dataset_path("diamonds.csv")).sample(n=4000, random_state=0)
    frame = frame.rename(columns={"table": f"table {EVIL}"})
    before, after = frame.iloc[:2000].copy(), frame.iloc[2000:].copy()
    after["carat"] = after["carat"] * 1.3
    after["cut"] = after["cut"].where(after.index % 10 != 0, EVIL)
    before.to_csv(tmp_path / "march.csv", index=False)
    after.to_csv(tmp_path / "april.csv", index=False)

    page.goto(app_server.url, wait_until="domcontentloaded")
    wait_for_app(page)
    page.get_by_label("Project name").last.fill("Gems")
    page.get_by_role("button", name="Create project").last.click()
    expect(page.get_by_text("Project Gems · add a table")).to_be_visible()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tmp_path / "march.csv"))
    expect(page.get_by_role("heading", name="Preview: march.csv")).to_be_visible()
    page.get_by_role("button", name="Save dataset").click()
    expect(page.get_by_text("Saved 'march' (2,000 rows) to 'Gems'.")).to_be_visible()

    page.get_by_role("link", name="Drift").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Drift")).to_be_visible()
    page.get_by_text("A file", exact=True).click()
    expect(page.get_by_text("Current table (CSV, Excel, Parquet, JSON)")).to_be_visible()
    wait_for_app(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(tmp_path / "april.csv"))
    compare = page.get_by_role("button", name="Compare", exact=True)
    expect(compare).to_be_visible()
    wait_for_app(page)
    compare.click()

    banner = page.get_by_role("alert").first
    expect(banner).to_contain_text("Drift: 2 of 10 columns drifted (carat, cut).", timeout=90_000)
    expect(page.get_by_text("Schema changes")).to_be_visible()
    share = (after["cut"] == EVIL).mean()
    expect(page.get_by_text(f"Column 'cut' has new categories: '{EVIL}' ({share:.1%}).")).to_be_visible()
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_contain_text("carat", timeout=30_000)
    # the verdict is above the fold: a person reads it before anything else of the result
    box = banner.bounding_box()
    assert box is not None and box["y"] < 600

    with page.expect_download() as download:
        page.get_by_role("button", name="JSON").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["status"] == "drift" and data["drifted"] == ["carat", "cut"]
    assert data["current"]["name"] == "april.csv"
    assert page.dialogs == []  # no user text ran as script
