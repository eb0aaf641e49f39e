"""Explanations in a real browser: choose a row and read its waterfall, from the base value to its prediction."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import jobs, store
from core.charts.explain import number, short_value
from core.explain import Explanation
from core.explain.job import stored_report
from tests.conftest import dataset_path
from tests.e2e.conftest import AppServer, wait_for_app
from tests.model_helpers import dataset_of, load, make_bundle, store_model

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path):
    """An app whose store holds a regression model of penguins and its stored explanation."""
    home = tmp_path / "app-home"
    frame, kinds = load(dataset_path("penguins.csv"))
    bundle = make_bundle(frame, kinds, "body_mass_g", "regression", families=("catboost", "hgb"))
    engine = store.init_store(f"sqlite:///{home / 'assay.db'}")
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "Birds").id
    model_id = store_model(engine, project_id, bundle, frame, dataset_name="Palmer penguins")
    dataset_id = dataset_of(engine, model_id)
    with store.write_session(engine) as s:
        job_id = jobs.submit(s, project_id=project_id, kind="explain", dataset_id=dataset_id,
                             params={"model_id": model_id, "dataset_id": dataset_id, "rows": 5000}).id
    assert jobs.run_job(job_id, engine) == "done"
    with store.read_session(engine) as s:
        expl = Explanation.from_parquet(store.get_blob(s, stored_report(s, project_id, model_id, dataset_id).blob_sha))
    store.dispose_engines()
    server = AppServer(home).start()
    yield server, expl
    server.stop()


def test_the_waterfall_of_a_chosen_row(served, page):
    server, expl = served
    label = 42
    row = expl.row(label)
    final = expl.output()[list(expl.X.index).index(label)]

    page.goto(server.url, wait_until="domcontentloaded")
    expect(page.get_by_text("Project Birds")).to_be_visible()
    page.get_by_role("link", name="Explanations").click()
    expect(page.get_by_text("Explained on all 344 rows of Palmer penguins")).to_be_visible()
    page.get_by_role("radio", name="One row").click()
    picker = page.get_by_label("Row (its position in the table, from 0)")
    expect(picker).to_be_visible()
    picker.click()
    page.keyboard.type(str(label))
    page.get_by_role("option", name=str(label), exact=True).click()
    wait_for_app(page)

    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart).to_contain_text(f"Why row {label} gets {number(final)}", timeout=30_000)
    expect(chart).to_contain_text("typical prediction (base)")
    expect(chart).to_contain_text("this row's prediction")
    top = row.iloc[0]
    expect(chart).to_contain_text(f"{top['feature']} = {short_value(top['value'])}")
    expect(chart).to_contain_text(number(top["shap"], sign=True))
    table = page.locator('[data-testid="stDataFrame"]').last
    expect(table).to_contain_text(top["feature"], timeout=30_000)
    assert page.dialogs == []
