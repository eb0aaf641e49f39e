"""Features in a real browser: propose a feature, see its preview, add it to the recipe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from core import store
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def test_preview_a_feature_and_add_it(app_server, page):
    engine = store.init_store(f"sqlite:///{app_server.home / 'assay.db'}")
    rng = np.random.default_rng(0)
    city = "<img src=x onerror=alert(1)>"
    frame = pd.DataFrame({"city": rng.choice([city, "Oslo", "Rome"], 200), "rooms": rng.integers(1, 6, 200)})
    frame["price"] = frame["rooms"] * 100.0 + (frame["city"] == "Oslo") * 50 + rng.normal(0, 5, 200)
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "Homes").id
        store.save_dataset(s, project_id, "homes", frame, roles={"target": "price"},
                           schema={"columns": {"city": {"kind": "categorical"}, "rooms": {"kind": "integer"},
                                               "price": {"kind": "float"}}})
    store.dispose_engines()

    page.goto(f"{app_server.url}/?project={project_id}", wait_until="domcontentloaded")
    expect(page.get_by_text("Project Homes")).to_be_visible()
    page.get_by_role("link", name="Features").click()
    expect(page.get_by_text("No feature steps yet")).to_be_visible()
    wait_for_app(page)

    kind = page.get_by_label("Kind of feature", exact=True).first
    option = page.get_by_role("option", name="Categories · Frequency encoding", exact=True)
    for _ in range(5):  # a rerun still drawing can close the list: retry
        kind.click()
        try:
            expect(option).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    option.click()
    expect(kind).to_have_value("Categories · Frequency encoding")
    wait_for_app(page)
    page.get_by_label("Columns", exact=True).first.click()
    page.get_by_role("option", name="city", exact=True).click()
    page.keyboard.press("Escape")

    expect(page.get_by_text("Preview").first).to_be_visible()
    expect(page.get_by_text("Frequency encoding of 'city'").first).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]', has_text="city_freq").first).to_be_visible()
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(2)
    page.get_by_role("button", name="Add feature").click()
    wait_for_app(page)
    expect(page.get_by_text("1. Frequency encoding of 'city'")).to_be_visible()
    assert page.dialogs == []
