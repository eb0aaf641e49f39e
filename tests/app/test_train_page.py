"""The Train page through AppTest, with a real training job in a worker process."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from core import datasets, ingest, jobs, store
from core.bundle import ModelBundle
from core.explain.importance import holdout_importance
from core.train import job as training
from ui.explain import holdout_label
from ui.training import bundle_of
from tests.conftest import dataset_path


def _texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.error] + [e.value for e in at.warning]
    parts += [e.value for e in at.info] + [e.value for e in at.caption]
    return "\n".join(map(str, parts))


def _dataset(project_id: int, name: str, frame_or_path, roles: dict) -> int:
    loaded = ingest.load(frame_or_path) if not isinstance(frame_or_path, pd.DataFrame) else None
    with store.write_session() as s:
        if loaded is not None:
            return datasets.save_loaded(s, project_id, name, loaded, roles).id
        return store.save_dataset(s, project_id, name, frame_or_path, roles=roles).id


def _train_page(new_app):
    at = new_app().run()
    at.switch_page("views/train.py").run()
    assert not at.exception
    return at


def test_start_a_run_see_it_finish_and_read_the_leaderboard(new_app, demo_project):
    _dataset(demo_project, "Penguins", dataset_path("penguins.csv"), {"target": "species"})
    at = _train_page(new_app)
    assert "Detected task: **multiclass** (3 distinct labels) · 3 classes · 344 rows with a target" in _texts(at)
    assert "No training run for this dataset yet" in _texts(at)
    at.number_input(key="train.budget").set_value(4)
    at.button(key="train.start").click().run()
    assert not at.exception
    job_id = at.session_state["train.job_id"]
    job = jobs.wait(job_id, timeout=180)
    assert job.status == "done", job.error
    at.run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Holdout log loss"]) == round(job.result["holdout"], 4)
    assert float(labels["Holdout log loss"]) < float(labels["Trivial baseline log loss"])
    assert at.subheader[0].value == "Run 1: predicting species"
    board = at.dataframe[0].value
    assert board["Rank"].iloc[0] == 1 and "chosen" in set(board["Status"])
    assert [t.label for t in at.tabs][:5] == ["Search", "Confusion matrix", "ROC", "Precision-recall", "Calibration"]
    # the Importance tab: the model's own shares beside the holdout permutation importance of the run
    with store.read_session() as s:
        model = training.chosen_model(s, training.run_for_job(s, job_id).id)
        holdout, why = holdout_importance(ModelBundle.from_bytes(store.get_blob(s, model.blob_sha)).metadata)
    assert "The model's own importance" in _texts(at)
    assert (holdout_label(holdout) if holdout is not None else why) in _texts(at)
    assert bundle_of(model.blob_sha) is bundle_of(model.blob_sha), "the model is loaded once, then shared"
    _a_model_without_its_own_importance_says_so(model.blob_sha)

    again = _train_page(new_app)  # a new session (a reload) finds the run in the store
    assert again.subheader[0].value == "Run 1: predicting species"


def _importance_tab_script():
    import streamlit as st

    from ui.training import importance_tab

    importance_tab(st.session_state["test.blob"])


def _a_model_without_its_own_importance_says_so(blob_sha: str) -> None:
    with store.write_session() as s:
        bundle = ModelBundle.from_bytes(store.get_blob(s, blob_sha))
        bundle.importance = {}  # as when no member could be measured
        unmeasured = store.put_blob(s, bundle.to_bytes())
    for sha, measured in ((blob_sha, True), (unmeasured, False)):
        at = AppTest.from_function(_importance_tab_script, default_timeout=30)
        at.session_state["test.blob"] = sha
        at.run()
        assert not at.exception
        assert ("Not measured: the model is neither CatBoost nor a forest" in _texts(at)) is not measured
        assert ("Each bar is a model input's share" in _texts(at)) is measured


def test_a_target_that_cannot_be_trained_is_explained_before_starting(new_app, demo_project):
    frame = pd.DataFrame({"x": range(30), "label": ["same"] * 30})
    _dataset(demo_project, "Flat", frame, {"target": "label"})
    at = _train_page(new_app)
    errors = [e.value.replace("\\", "") for e in at.error]  # messages are shown Markdown-escaped
    assert any("'label' has a single value ('same') in every row" in e for e in errors), errors
    assert at.button(key="train.start").disabled
    with store.read_session() as s:
        assert jobs.list_jobs(s, demo_project) == []


def test_a_suspected_leak_is_flagged_before_training(new_app, demo_project):
    frame = pd.read_csv(dataset_path("bikeshare.csv")).head(2000)
    _dataset(demo_project, "Bikes", frame, {"target": "bikers"})
    at = _train_page(new_app)
    warnings = [w.value for w in at.warning]
    assert any("Suspected leak (left out of the model)" in w and "'casual' + 'registered'" in w for w in warnings)
