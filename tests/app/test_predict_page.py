"""The Predict page driven through Streamlit's AppTest: pick a model, give new rows, score, download."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import pytest

from core import export, scoring, store
from tests.app.conftest import shown
from tests.conftest import dataset_path
from tests.model_helpers import load, make_bundle, store_model


@pytest.fixture(scope="module")
def penguins():
    return load(dataset_path("penguins.csv"))


@pytest.fixture(scope="module")
def bundle(penguins):
    frame, kinds = penguins
    return make_bundle(frame, kinds, "species", "multiclass")


@pytest.fixture
def model_id(demo_project, bundle, penguins):
    return store_model(store.init_store(), demo_project, bundle, penguins[0], dataset_name="penguins")


def _texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.info] + [e.value for e in at.caption]
    return "\n".join(map(str, parts))


def _open(new_app):
    at = new_app().run()
    at.switch_page("views/predict.py").run()
    assert not at.exception and at.title[0].value == "Predict"
    return at


def _predictions(at) -> pd.DataFrame:
    (table,) = [d.value for d in at.dataframe if "prediction" in d.value.columns]
    return table


def _upload(at, frame: pd.DataFrame, name: str = "new rows.csv"):
    at.file_uploader(key="predict.file").set_value((name, export.to_bytes(frame, "csv"), "text/csv")).run()
    assert not at.exception
    return at


def test_without_a_model_the_page_says_to_train_one(new_app, demo_project):
    at = _open(new_app)
    assert "has no trained model yet" in _texts(at)


def test_upload_score_and_see_the_predictions(new_app, model_id, bundle, penguins):
    rows = penguins[0].drop(columns=["species"]).iloc[::10].reset_index(drop=True)
    at = _upload(_open(new_app), rows)
    assert "Predicts **species** (3 classes) · multiclass · from 7 column(s)" in _texts(at)
    go = at.button(key="predict.go")
    assert go.label == f"Score {len(rows):,} rows"
    go.click().run()
    assert not at.exception
    table = _predictions(at)
    expected = scoring.score(bundle, rows).predictions
    assert list(table.columns) == [*expected.columns, *rows.columns]  # predictions first, then the input
    assert table["prediction"].tolist() == expected["prediction"].tolist()
    pd.testing.assert_series_equal(table["proba:Gentoo"], expected["proba:Gentoo"], check_names=False,
                                   check_index=False, atol=1e-9, rtol=0)  # CSV round trip of the upload
    assert at.metric[0].value == f"{len(rows):,}"
    at.run()  # a rerun (e.g. a download) keeps the results without scoring again
    assert _predictions(at)["prediction"].tolist() == expected["prediction"].tolist()


def test_missing_columns_are_an_error_naming_them_and_nothing_is_scored(new_app, model_id, penguins):
    rows = penguins[0].drop(columns=["species", "island", "sex"]).head(20)
    at = _upload(_open(new_app), rows)
    (message,) = shown(at.error)
    assert "lacks 2 column(s) the model was trained with: 'island', 'sex'" in message
    assert not [b for b in at.button if b.key == "predict.go"]


def test_extra_columns_and_type_mismatches_are_reported_before_scoring(new_app, model_id, penguins):
    rows = penguins[0].drop(columns=["species"]).head(30).astype({"body_mass_g": object})
    rows.loc[rows.index[:2], "body_mass_g"] = ["heavy", "**bold**"]
    at = _upload(_open(new_app), rows.assign(comment="looks fine"))
    infos, warnings = shown(at.info), shown(at.warning)
    assert "1 column(s) the model does not use are ignored: 'comment'." in infos
    assert any("Column 'body_mass_g' held numbers in training" in w and "'heavy', '**bold**'" in w for w in warnings)
    at.button(key="predict.go").click().run()
    assert not at.exception and len(_predictions(at)) == 30


def test_a_dataset_of_the_project_can_be_scored(new_app, model_id, bundle, penguins):
    at = _open(new_app)
    at.segmented_control(key="predict.source").set_value("A dataset of this project").run()
    assert not at.exception
    at.button(key="predict.go").click().run()
    assert not at.exception
    table = _predictions(at)
    expected = scoring.score(bundle, penguins[0]).predictions
    assert table["prediction"].tolist() == expected["prediction"].tolist()
    assert "The table has the target column 'species'; it is not used to predict." in shown(at.info)


def test_a_drift_summary_sits_beside_the_predictions_and_is_kept_for_the_model_card(new_app, model_id, penguins):
    rows = penguins[0].drop(columns=["species"]).sample(200, random_state=0).reset_index(drop=True)
    shifted = rows.assign(flipper_length_mm=rows["flipper_length_mm"] + 40)
    at = _upload(_open(new_app), shifted)
    at.button(key="predict.go").click().run()
    assert not at.exception
    (table,) = [d.value for d in at.dataframe if list(d.value.columns) == ["Column", "Status", "Score", "Why"]]
    assert table.iloc[0]["Column"] == "flipper_length_mm" and table.iloc[0]["Status"] == "drift"
    assert set(table["Column"]) == set(penguins[0].columns) - {"species"}  # the model's columns only
    with store.read_session() as s:
        (report,) = s.scalars(sa.select(store.Report).where(store.Report.model_id == model_id)).all()
    assert report.kind == "drift" and report.data["status"] == "drift"
    assert report.data["reference"]["name"] == "the model's training rows"
    assert report.title == "the model's training rows → new rows.csv"


def test_top_reasons_can_be_added_to_each_row(new_app, model_id, bundle, penguins):
    rows = penguins[0].drop(columns=["species"]).dropna().head(12).reset_index(drop=True)
    at = _upload(_open(new_app), rows)
    at.toggle(key="predict.explain").set_value(True).run()
    at.number_input(key="predict.reasons").set_value(2).run()
    at.button(key="predict.go").click().run()
    assert not at.exception
    table = _predictions(at)
    expected = scoring.score(bundle, rows, explain=2)
    assert list(table.columns[:len(expected.predictions.columns) + 2]) == [*expected.predictions.columns,
                                                                            "reason 1", "reason 2"]
    assert table["reason 1"].tolist() == expected.reasons["reason 1"].tolist()
