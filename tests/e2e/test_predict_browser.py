"""Scoring in a real browser: upload new rows, score them, download the predictions and the model card."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from playwright.sync_api import expect

from core import export, scoring, store
from tests.conftest import dataset_path
from tests.e2e.conftest import AppServer
from tests.model_helpers import load, make_bundle, store_model

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path):
    """An app whose store holds a project with a trained model (made before the server starts)."""
    home = tmp_path / "app-home"
    frame, kinds = load(dataset_path("penguins.csv"))
    bundle = make_bundle(frame, kinds, "species", "multiclass")
    engine = store.init_store(f"sqlite:///{home / 'assay.db'}")
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "Birds").id
    store_model(engine, project_id, bundle, frame, dataset_name="Palmer penguins")
    store.dispose_engines()
    server = AppServer(home).start()
    yield server, bundle, frame
    server.stop()


def test_upload_new_rows_score_and_download_the_predictions(served, page, tmp_path):
    server, bundle, frame = served
    rows = frame.drop(columns=["species"]).iloc[::4].reset_index(drop=True)
    rows["note"] = ["=HYPERLINK(\"http://x\")"] + ["ok"] * (len(rows) - 1)
    upload = tmp_path / "new birds.csv"
    upload.write_bytes(export.to_bytes(rows, "csv"))

    page.goto(server.url, wait_until="domcontentloaded")
    expect(page.get_by_text("Project Birds")).to_be_visible()  # the app (not a bare page) has run
    page.get_by_role("link", name="Predict").click()
    expect(page.get_by_text("trained on Palmer penguins")).to_be_visible()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    expect(page.get_by_text("1 column(s) the model does not use are ignored: 'note'.")).to_be_visible()
    page.get_by_role("button", name=f"Score {len(rows)} rows").click()
    expect(page.get_by_text("Against the training data")).to_be_visible()
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "predictions - new birds.csv"
    text = download.path().read_bytes().decode("utf-8")
    got = pd.read_csv(io.StringIO(text))
    expected = scoring.score(bundle, rows).predictions
    assert len(got) == len(rows) and list(got.columns) == [*rows.columns, *expected.columns]
    assert got["prediction"].tolist() == expected["prediction"].tolist()
    assert got["note"].iloc[0] == "'=HYPERLINK(\"http://x\")"  # formula-safe

    with page.expect_download() as info:
        page.get_by_role("button", name="Model card").click()
    card = info.value.path().read_text(encoding="utf-8")
    assert "<h1>Model card: species · catboost</h1>" in card and "<script" not in card
    assert page.dialogs == []
