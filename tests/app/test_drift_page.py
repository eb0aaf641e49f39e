"""The Drift page driven through Streamlit's AppTest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import drift_report, store
from tests.conftest import dataset_path
from ui.text import md


def _texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.success] + [e.value for e in at.info] + [e.value for e in at.caption]
    return "\n".join(map(str, parts))


@pytest.fixture
def two_months(demo_project) -> int:
    frame = pd.read_csv(dataset_path("diamonds.csv")).sample(n=6000, random_state=0)
    frame = frame.rename(columns={"carat": "carat **<b>x</b>**"})
    jan, feb = frame.iloc[:3000].copy(), frame.iloc[3000:].copy()
    feb["carat **<b>x</b>**"] = feb["carat **<b>x</b>**"] * 1.3
    with store.write_session() as s:
        store.save_dataset(s, demo_project, "january", jan)
        store.save_dataset(s, demo_project, "february (v2)", feb)
    return demo_project


def _drift_page(new_app):
    at = new_app().run()
    at.switch_page("views/drift.py").run()
    assert not at.exception
    return at


def test_no_data_yet_says_where_to_add_it(new_app, demo_project):
    at = _drift_page(new_app)
    assert at.title[0].value == "Drift"
    assert "This project has no data yet. Add a table on the **Data** page." in _texts(at)


def test_compare_two_datasets_verdict_first_and_saved(new_app, two_months):
    at = _drift_page(new_app)
    assert at.selectbox(key="drift.reference").value is not None
    at.button(key="drift.compare").click().run()
    assert not at.exception
    # the verdict banner comes first; the column name shows as typed (escaped), never as markup
    assert at.error[0].value.startswith(r"Drift\: 1 of 10 columns drifted \(carat \*\*\<b\>x\<\/b\>\*\*\)\.")
    assert [m.label for m in at.metric][:2] == ["Columns drifted (10%)", "Classifier ROC-AUC (drift)"]
    assert at.metric[0].value == "1 of 10"
    table = at.dataframe[0].value
    assert table["Column"].tolist()[0] == "carat **<b>x</b>**" and table["Status"].tolist()[0] == "drift"
    with store.read_session() as s:
        [report] = store.list_reports(s, two_months, kind="drift")
    assert report.title == "january → february (v2)"
    assert at.session_state["drift.new"] is False  # the form folded away after the run

    fresh = _drift_page(new_app)  # a reload: the saved report is shown without recomputing
    assert fresh.selectbox(key="drift.pick").value == report.id
    assert fresh.error[0].value.startswith(r"Drift\: 1 of 10 columns drifted")
    fresh.selectbox(key=f"drift.column.{report.id}").set_value("cut").run()
    assert not fresh.exception


def test_a_time_cut_of_one_dataset(new_app, demo_project):
    frame = pd.read_csv(dataset_path("bikeshare.csv"))
    with store.write_session() as s:
        store.save_dataset(s, demo_project, "bikes", frame)
    at = _drift_page(new_app)
    at.segmented_control(key="drift.mode").set_value("Before / after a cut").run()
    dataset_id = at.selectbox(key="drift.cut_dataset").value
    assert at.selectbox(key=f"drift.cut_column.{dataset_id}").value == "day"  # a time-like name is the default
    at.number_input(key=f"drift.cut_number.{dataset_id}.day").set_value(182.0).run()
    at.button(key="drift.compare").click().run()
    assert not at.exception
    result = drift_report.load_result(store.init_store(), at.session_state["drift.report_id"], demo_project)
    assert (result.reference["name"], result.current["name"]) == ("bikes before 182.0", "bikes from 182.0")
    assert "day" not in [c.name for c in result.columns]
    assert result.reference["rows"] + result.current["rows"] == len(frame)


def test_a_cut_outside_the_data_is_explained_and_nothing_is_saved(new_app, demo_project):
    with store.write_session() as s:
        store.save_dataset(s, demo_project, "bikes", pd.read_csv(dataset_path("bikeshare.csv")))
    at = _drift_page(new_app)
    at.segmented_control(key="drift.mode").set_value("Before / after a cut").run()
    dataset_id = at.selectbox(key="drift.cut_dataset").value
    at.number_input(key=f"drift.cut_number.{dataset_id}.day").set_value(5000.0).run()
    at.button(key="drift.compare").click().run()
    assert not at.exception
    assert md("No rows from 5000.0 in 'day': it runs from 1 to 365. Pick a cut inside that range.") in _texts(at)
    with store.read_session() as s:
        assert store.list_reports(s, demo_project) == []


def test_with_a_model_against_its_training_rows(new_app, demo_project):
    from tests.test_drift_model import tiny_bundle

    frame = pd.read_csv(dataset_path("diamonds.csv")).sample(n=4000, random_state=1)
    train, later = frame.iloc[:2000], frame.iloc[2000:].copy()
    later["x"], later["y"], later["z"] = later["x"] * 1.3, later["y"] * 1.3, later["z"] * 1.3
    bundle = tiny_bundle(train, "price", "regression")
    with store.write_session() as s:
        dataset = store.save_dataset(s, demo_project, "later", later)
        run = store.Run(project_id=demo_project, dataset_id=dataset.id, target="price", task="regression",
                        metric="rmse")
        s.add(run)
        s.flush()
        model = store.Model(project_id=demo_project, run_id=run.id, name="price · catboost", kind="catboost",
                            blob_sha=store.put_blob(s, bundle.to_bytes()))
        s.add(model)
        s.flush()
        model_id = model.id
    at = _drift_page(new_app)
    at.selectbox(key="drift.model").set_value(model_id).run()
    at.toggle(key="drift.training_rows").set_value(True).run()
    at.button(key="drift.compare").click().run()
    assert not at.exception
    assert r"The model's predictions moved\. Its RMSE" in at.error[0].value
    text = _texts(at)
    assert "**The model** · target price · regression" in text
    assert r"Performance\: drift\: RMSE" in text
    assert "Importance" in at.dataframe[0].value.columns
    with store.read_session() as s:
        [report] = store.list_reports(s, demo_project, kind="drift")
        assert report.model_id == model_id and report.title == "the model's training rows → later"
    assert np.isclose(at.dataframe[0].value["Importance"].dropna().sum(), 1.0)
