"""The Explanations page driven through Streamlit's AppTest, over real models and real jobs."""

from __future__ import annotations

import pandas as pd
import pytest

from core import jobs, store
from core.explain.job import last_job
from tests.app.conftest import shown
from tests.conftest import dataset_path
from tests.model_helpers import dataset_of, kinds_of, make_bundle, store_model


def _make(frame, target, task, families=("catboost",), **kwargs):
    """A small real bundle, the column kinds inferred as the Data page does."""
    return make_bundle(frame, kinds_of(frame), target, task, families=families, **kwargs)


def _store(engine, project_id, frame, bundle, **kwargs):
    """Store ``bundle`` as a run's model on ``frame``; returns (model id, dataset id)."""
    model_id = store_model(engine, project_id, bundle, frame, **kwargs)
    return model_id, dataset_of(engine, model_id)


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_csv(dataset_path("penguins.csv"))


def _texts(at) -> str:
    return "\n".join([*shown(at.markdown), *shown(at.caption), *shown(at.info), *shown(at.warning),
                      *shown(at.error)])


def _open(new_app):
    at = new_app().run()
    at.switch_page("views/explain.py").run()
    assert not at.exception, at.exception
    return at


def _charts(at) -> list:
    return at.get("plotly_chart")


def _model(demo_project, penguins, task="multiclass", families=("catboost", "linear")):
    target = {"multiclass": "species", "binary": "sex", "regression": "body_mass_g"}[task]
    bundle = _make(penguins, target, task, families)
    model_id, dataset_id = _store(store.init_store(), demo_project, penguins, bundle, dataset_name="penguins")
    return bundle, model_id, dataset_id


def _explained(demo_project, penguins, **kwargs):
    bundle, model_id, dataset_id = _model(demo_project, penguins, **kwargs)
    engine = store.init_store()
    with store.write_session(engine) as s:
        job_id = jobs.submit(s, project_id=demo_project, kind="explain", dataset_id=dataset_id,
                             params={"model_id": model_id, "dataset_id": dataset_id, "rows": 5000}).id
    assert jobs.run_job(job_id, engine) == "done"
    return bundle, model_id, dataset_id


def test_without_a_model_the_page_says_where_to_train(new_app, demo_project):
    at = _open(new_app)
    assert "no trained model yet" in _texts(at) and "Train" in _texts(at)


def test_compute_starts_a_job_and_the_result_appears(new_app, demo_project, penguins):
    _, model_id, dataset_id = _model(demo_project, penguins, task="binary", families=("catboost",))
    at = _open(new_app)
    assert "has not been explained on these rows yet" in _texts(at)
    at.number_input(key="explain.rows").set_value(100)
    at.button(key="explain.start").click().run()
    assert not at.exception
    assert "Computing the explanation" in _texts(at)
    with store.read_session() as s:
        job = last_job(s, demo_project, model_id, dataset_id)
        assert job.params["rows"] == 100
    assert jobs.wait(job.id, timeout=300).status == "done"
    at.run()
    assert not at.exception
    assert "Explained on 100 of 344 rows of penguins (a random sample, seed 0)" in _texts(at)
    assert "log-odds of" in _texts(at) and len(_charts(at)) == 2  # mean |SHAP| and the beeswarm
    # a model made without a training run has no holdout importance: the page says so beside the SHAP bars
    assert "Permutation importance on the holdout is not available for this model" in _texts(at)


def test_the_views_of_a_multiclass_ensemble(new_app, demo_project, penguins):
    _explained(demo_project, penguins)
    at = _open(new_app)
    assert "probability of Adelie" in _texts(at) and "averages the probabilities" in _texts(at)
    at.selectbox(key=f"explain.class.{at.selectbox(key='explain.model').value}").set_value("Gentoo").run()
    assert "probability of Gentoo" in _texts(at)

    at.segmented_control(key="explain.view").set_value("One column").run()
    assert not at.exception
    feature = at.selectbox(key="explain.feature").value
    colour = at.selectbox(key=f"explain.colour.{feature}").value
    assert colour is not None and colour != feature and len(_charts(at)) == 1

    at.segmented_control(key="explain.view").set_value("One row").run()
    at.segmented_control(key="explain.how").set_value("largest errors").run()
    assert not at.exception
    picked = at.dataframe[0].value  # the candidates, then the row's values
    assert list(picked.columns)[:3] == ["row", "prediction", "actual"] and len(picked) == 25
    assert at.selectbox(key="explain.pick.largest errors").value == picked["row"].iloc[0]
    assert [m.label for m in at.metric][:2] == ["Prediction", "Probability of Gentoo"]
    table = at.dataframe[1].value
    assert list(table.columns) == ["column", "value", "effect"] and len(table) == 7


def test_what_if_predicts_the_edited_row_as_the_model_does(new_app, demo_project, penguins):
    bundle, model_id, _ = _explained(demo_project, penguins, task="regression", families=("catboost", "hgb"))
    at = _open(new_app)
    at.segmented_control(key="explain.view").set_value("What if").run()
    at.selectbox(key="explain.label").set_value(5).run()
    assert not at.exception
    form = f"explain.form.{model_id}.5"
    inputs = {w.label: w for w in at.number_input if w.key and w.key.startswith(form)}
    inputs["flipper_length_mm"].set_value(230.0)
    next(b for b in at.button if b.label == "Predict with these values").click().run()
    assert not at.exception
    result = at.session_state["explain.whatif"][3]
    edited = penguins.loc[[5]].copy()
    edited["flipper_length_mm"] = 230.0
    expected = bundle.predict(edited)["prediction"].iloc[0]
    assert result.predictions["prediction"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(bundle.predict(penguins.loc[[5]])["prediction"].iloc[0])
    assert "flipper_length_mm → 230" in _texts(at)
    assert at.metric[0].label == "Prediction" and at.metric[0].delta.startswith(("+", "-"))


def test_a_failed_job_says_why(new_app, demo_project, penguins):
    _, model_id, dataset_id = _model(demo_project, penguins, task="binary", families=("linear",))
    with store.write_session() as s:
        other = store.save_dataset(s, demo_project, "no columns", pd.DataFrame({"x": [1, 2, 3]}))
        job_id = jobs.submit(s, project_id=demo_project, kind="explain", dataset_id=other.id,
                             params={"model_id": model_id, "dataset_id": other.id, "rows": 100}).id
    assert jobs.run_job(job_id) == "failed"
    at = _open(new_app)
    at.selectbox(key=f"explain.data.{model_id}").set_value(other.id).run()
    assert not at.exception
    assert "did not finish (failed)" in _texts(at) and "lack" in _texts(at)


def test_the_holdout_importance_of_a_training_run_is_shown_beside_the_shap_bars(new_app, demo_project):
    from core.charts.explain import number
    from tests.model_helpers import signal_and_noise, train_with_holdout_importance

    frame = signal_and_noise(600)
    result = train_with_holdout_importance(frame, "y", families=("linear",))
    stored = result.summary["holdout_importance"]
    assert stored["status"] == "done", stored
    model_id, dataset_id = _store(store.init_store(), demo_project, frame, result.bundle, dataset_name="signals")
    with store.write_session() as s:
        newer = store.save_dataset(s, demo_project, "newer signals", signal_and_noise(300, seed=1)).id
        jobs_ = [jobs.submit(s, project_id=demo_project, kind="explain", dataset_id=d,
                             params={"model_id": model_id, "dataset_id": d, "rows": 200}).id
                 for d in (dataset_id, newer)]
    assert [jobs.run_job(j) for j in jobs_] == ["done", "done"]
    at = _open(new_app)
    texts = _texts(at)
    assert "Permutation importance on the holdout: 120 rows the model never saw, metric RMSE" in texts
    top = stored["columns"][int(max(range(4), key=stored["mean"].__getitem__))]
    assert top == "signal" and f"shuffling **signal** costs the most ({number(max(stored['mean']))})" in texts
    assert "before the feature steps" in texts and "Permutation importance on these rows" not in texts
    charts = _charts(at)
    assert len(charts) == 3 and '"signal"' in charts[1].proto.spec and '"noise"' in charts[1].proto.spec

    at.selectbox(key=f"explain.data.{model_id}").set_value(newer).run()  # labelled rows of another dataset
    assert not at.exception
    texts = _texts(at)
    assert "Permutation importance on the holdout: 120 rows" in texts
    assert "Permutation importance on these rows: 300 labelled rows, metric RMSE" in texts
    assert "rows of newer signals, another dataset" in texts and len(_charts(at)) == 4
