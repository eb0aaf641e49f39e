"""Explanations as jobs: a report keyed by model and data, replaced on a new run; the CLI writes the same file."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from core import cli, jobs, store
from core.errors import NotFoundError, ValidationError
from core.explain import Explanation, explain
from core.explain.job import REPORT_KIND, explain_job, last_job, start_explain, stored_report
from core.scoring import list_models
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


def _run_in_process(engine, project_id, params) -> store.Job:
    """Queue the job and run it here (the worker process path is covered by tests/test_jobs.py)."""
    with store.write_session(engine) as s:
        job_id = jobs.submit(s, project_id=project_id, kind="explain", params=params,
                             dataset_id=params["dataset_id"]).id
    jobs.run_job(job_id, engine)
    with store.read_session(engine) as s:
        job = jobs.get_job(s, job_id)
        s.expunge(job)
    return job


def test_an_explain_job_stores_its_result_and_a_new_run_replaces_it(any_engine, penguins):
    engine = any_engine
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "P").id
    bundle = _make(penguins, "species", "multiclass", ("catboost", "linear"))
    model_id, dataset_id = _store(engine, project_id, penguins, bundle)
    params = {"model_id": model_id, "dataset_id": dataset_id, "rows": 120, "seed": 1, "time_limit": None}
    job = _run_in_process(engine, project_id, params)
    assert job.status == "done", job.error
    assert (job.result["rows"], job.result["total_rows"], job.result["space"]) == (120, 344, "probability")
    with store.read_session(engine) as s:
        report = stored_report(s, project_id, model_id, dataset_id)
        result = Explanation.from_parquet(store.get_blob(s, report.blob_sha))
        assert report.model_id == model_id and report.data["importance"] is False
        assert report.data["holdout_importance"] is False  # a model made without a training run has none
    direct = explain(bundle, penguins, max_rows=120, seed=1)
    np.testing.assert_allclose(result.values, direct.values, atol=1e-12)
    # on the rows it was trained on, shuffling measures memory as much as need: only the holdout's is shown
    assert result.importance is None and "trained on" in result.info["importance_on_rows"]

    job = _run_in_process(engine, project_id, {**params, "rows": 50})
    assert job.status == "done"
    with store.read_session(engine) as s:
        reports = s.scalars(sa.select(store.Report).where(store.Report.kind == REPORT_KIND)).all()
        assert len(reports) == 1 and reports[0].data["rows"] == 50
        blobs = s.scalar(sa.select(sa.func.count()).select_from(store.Blob))
        assert blobs == 3  # dataset, model, one explanation: the replaced one's blob is gone


def test_on_another_labelled_dataset_permutation_importance_is_measured_on_its_rows(engine, project_id, penguins):
    bundle = _make(penguins, "species", "multiclass", ("linear",))
    model_id, _ = _store(engine, project_id, penguins, bundle)
    newer = penguins.sample(200, random_state=3)
    with store.write_session(engine) as s:
        other = store.save_dataset(s, project_id, "newer penguins", newer).id
    job = _run_in_process(engine, project_id, {"model_id": model_id, "dataset_id": other, "rows": 50})
    assert job.status == "done", job.error
    with store.read_session(engine) as s:
        result = Explanation.from_parquet(store.get_blob(s, stored_report(s, project_id, model_id, other).blob_sha))
    importance = result.importance
    assert importance.rows == 200 and importance.features == bundle.feature_names
    assert "rows of newer penguins, another dataset" in importance.note and importance.metric_label == "log loss"
    assert max(importance.mean) > 0.1  # the penguins' measurements matter to their species


def test_models_are_listed_with_the_data_they_were_trained_on(engine, project_id, penguins):
    bundle = _make(penguins, "species", "multiclass", ("linear",))
    model_id, dataset_id = _store(engine, project_id, penguins, bundle, name="species · linear")
    with store.read_session(engine) as s:
        models = list_models(s, project_id)
    assert [(m.id, m.dataset_id, m.dataset, m.name) for m in models] == [(model_id, dataset_id, "training",
                                                                         "species · linear")]


def test_bad_requests_are_refused_before_a_worker_starts(engine, project_id, penguins):
    bundle = _make(penguins, "species", "multiclass", ("linear",))
    model_id, dataset_id = _store(engine, project_id, penguins, bundle)
    with pytest.raises(ValidationError, match="from 10 to"):
        start_explain(engine, project_id, model_id, dataset_id, rows=5)
    with pytest.raises(ValidationError, match="time limit"):
        start_explain(engine, project_id, model_id, dataset_id, time_limit=-1)
    with pytest.raises(NotFoundError, match="Model 999"):
        start_explain(engine, project_id, 999, dataset_id)
    with store.read_session(engine) as s:
        assert jobs.list_jobs(s, project_id) == [] and last_job(s, project_id, model_id, dataset_id) is None


def test_an_explain_job_in_a_worker_process_reports_progress(engine, project_id, penguins):
    bundle = _make(penguins, "sex", "binary", ("catboost",))
    model_id, dataset_id = _store(engine, project_id, penguins, bundle)
    job_id = start_explain(engine, project_id, model_id, dataset_id, rows=200)
    job = jobs.wait(job_id, engine=engine, timeout=300)
    assert job.status == "done", job.error
    assert job.progress == 1.0 and "SHAP values of 200 rows" in job.log


def test_a_job_for_a_model_of_another_project_fails_cleanly(engine, project_id, penguins):
    bundle = _make(penguins, "species", "multiclass", ("linear",))
    model_id, dataset_id = _store(engine, project_id, penguins, bundle)
    with store.write_session(engine) as s:
        other = store.create_project(s, "Other").id
        job_id = jobs.submit(s, project_id=other, kind="explain",
                             params={"model_id": model_id, "dataset_id": dataset_id, "rows": 50}).id
    jobs.run_job(job_id, engine)
    with store.read_session(engine) as s:
        job = jobs.get_job(s, job_id)
        assert job.status == "failed" and f"Model {model_id} does not exist" in job.error
        assert s.scalars(sa.select(store.Report)).all() == []
    assert explain_job.__module__ == "core.explain.job"


def test_cli_explain_writes_the_parquet_the_page_stores(tmp_path, penguins, capsys):
    bundle = _make(penguins, "body_mass_g", "regression", ("catboost",))
    model = tmp_path / "model.zip"
    model.write_bytes(bundle.to_bytes())
    rows = tmp_path / "rows.csv"
    penguins.to_csv(rows, index=False)
    out = tmp_path / "shap.parquet"
    assert cli.main(["explain", str(model), str(rows), "--rows", "100", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rows"], summary["of_rows"], summary["space"]) == (100, 344, "value")
    result = Explanation.from_parquet(out.read_bytes())
    plain = pd.read_parquet(io.BytesIO(out.read_bytes()))
    shap_columns = [c for c in plain if c.startswith("shap:")]
    np.testing.assert_allclose(plain["base"] + plain[shap_columns].sum(axis=1), plain["prediction"], rtol=1e-9)
    assert len(result.X) == 100 and list(summary["top_features"])[0] == result.mean_abs().index[0]


def test_cli_explain_says_what_is_wrong(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n")
    assert cli.main(["explain", str(tmp_path / "missing.zip"), str(rows), "--out", str(tmp_path / "x")]) == 2
    assert "There is no model file" in capsys.readouterr().err
    (tmp_path / "bad.zip").write_bytes(b"nope")
    assert cli.main(["explain", str(tmp_path / "bad.zip"), str(rows), "--out", str(tmp_path / "x")]) == 2
    assert "not an Assay model bundle" in capsys.readouterr().err
