"""Explanations as jobs, stored and reused.

An ``explain`` job (:func:`explain_job`) loads a stored model and a dataset of the
project, explains a sample of its rows (:func:`core.explain.explain`, which carries
the holdout permutation importance measured at training time), measures permutation
importance on the rows when they are labelled rows of another dataset than the
training one, and stores the result as a
:class:`core.store.Report` of kind ``shap`` keyed by model and dataset: the
Parquet file of :class:`core.explain.Explanation` is a blob, a small summary is
the report's ``data``. Asking again for the same model and data replaces it.
"""

from __future__ import annotations

import sqlalchemy as sa

from core import jobs, store
from core.drift_model import load_bundle
from core.errors import AssayError, NotFoundError, ValidationError

__all__ = ["REPORT_KIND", "JOB_KIND", "DEFAULT_TIME_LIMIT", "start_explain", "explain_job", "stored_report",
           "last_job", "report_key"]

REPORT_KIND = "shap"
JOB_KIND = "explain"
DEFAULT_TIME_LIMIT = 180.0


def report_key(model_id: int, dataset_id: int) -> str:
    return f"model:{int(model_id)}:dataset:{int(dataset_id)}"


def _params(model_id, dataset_id, rows, seed, time_limit) -> dict:
    from core.explain import MAX_ROWS

    for name, value in (("model_id", model_id), ("dataset_id", dataset_id), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"The '{name}' of an explanation must be a whole number. Got {value!r} instead.")
    if isinstance(rows, bool) or not isinstance(rows, int) or not 10 <= rows <= MAX_ROWS:
        raise ValidationError(f"The number of rows to explain must be from 10 to {MAX_ROWS:,}. Got {rows!r} instead.")
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                   or not time_limit > 0):
        raise ValidationError(f"The time limit must be a number of seconds above 0. Got {time_limit!r} instead.")
    return {"model_id": model_id, "dataset_id": dataset_id, "rows": rows, "seed": seed,
            "time_limit": None if time_limit is None else float(time_limit)}


def start_explain(engine: sa.Engine, project_id: int, model_id: int, dataset_id: int, *, rows: int = 5_000,
                  seed: int = 0, time_limit: float | None = DEFAULT_TIME_LIMIT) -> int:
    """Check the request, queue an ``explain`` job and start its worker; returns the job id."""
    params = _params(model_id, dataset_id, rows, seed, time_limit)
    with store.read_session(engine) as s:
        model = s.get(store.Model, model_id)
        if model is None or model.project_id != project_id:
            raise NotFoundError(f"Model {model_id} does not exist in this project.")
        store.get_dataset(s, dataset_id, project_id)
    return jobs.submit_and_start(project_id=project_id, kind=JOB_KIND, params=params, dataset_id=dataset_id,
                                 engine=engine)


def explain_job(ctx: jobs.JobContext, params: dict) -> dict:
    """Job handler (kind ``explain``): SHAP values and permutation importance, stored as a report."""
    from core.explain import explain, permutation_importance

    p = _params(params["model_id"], params["dataset_id"], params["rows"], params.get("seed", 0),
                params.get("time_limit"))
    engine = ctx.engine
    with store.read_session(engine) as s:
        bundle = load_bundle(s, p["model_id"], ctx.project_id)
        dataset = store.get_dataset(s, p["dataset_id"], ctx.project_id)
        frame = store.read_dataset_frame(s, dataset)
        model = s.get(store.Model, p["model_id"])
        trained_on = s.get(store.Run, model.run_id).dataset_id == dataset.id
        title = f"SHAP of {model.name} on {dataset.name}"
        dataset_name = dataset.name
    ctx.log(f"Explaining model {p['model_id']} on dataset {p['dataset_id']} ({len(frame):,} rows)")

    def progress(fraction: float, message: str) -> None:
        ctx.check_cancel()
        ctx.progress(0.85 * fraction, message)

    result = explain(bundle, frame, max_rows=p["rows"], seed=p["seed"], time_limit=p["time_limit"],
                     progress=progress)
    ctx.log(f"SHAP values of {result.n:,} rows in {result.info['seconds']} s")
    if trained_on:
        # The holdout importance measured at training time (result.holdout_importance) is the honest one here:
        # shuffling columns of rows the model was fitted on measures what it memorised as much as what it needs.
        result.info["importance_on_rows"] = "left out: these are the rows the model was trained on"
    else:
        ctx.progress(0.86, "Measuring permutation importance on these rows", force=True)
        ctx.check_cancel()
        note = f"measured on labelled rows of {dataset_name}, another dataset than the one the model was trained on"
        try:
            result.importance = permutation_importance(bundle, frame, seed=p["seed"], note=note)
        except AssayError as exc:
            result.info["importance_error"] = str(exc)
    summary = {"rows": result.n, "total_rows": result.total_rows, "space": result.space,
               "seconds": result.info["seconds"], "stopped_by_time_limit": result.info["stopped_by_time_limit"],
               "seed": p["seed"], "requested_rows": p["rows"], "importance": result.importance is not None,
               "holdout_importance": result.holdout_importance is not None}
    data = result.to_parquet()
    key = report_key(p["model_id"], p["dataset_id"])
    with store.write_session(engine) as s:
        s.execute(sa.delete(store.Report).where(store.Report.project_id == ctx.project_id,
                                                store.Report.kind == REPORT_KIND, store.Report.key == key))
        report = store.Report(project_id=ctx.project_id, dataset_id=p["dataset_id"], model_id=p["model_id"],
                              kind=REPORT_KIND, key=key, title=title, data=summary, blob_sha=store.put_blob(s, data))
        s.add(report)
        s.flush()
        report_id = report.id
        store.gc_blobs(s)
    return {"report_id": report_id, **summary}


def stored_report(session, project_id: int, model_id: int, dataset_id: int) -> store.Report | None:
    """The stored explanation of this model on this dataset, if any."""
    return session.scalar(
        sa.select(store.Report).where(store.Report.project_id == project_id, store.Report.kind == REPORT_KIND,
                                      store.Report.key == report_key(model_id, dataset_id))
        .order_by(store.Report.id.desc()).limit(1)
    )


def last_job(session, project_id: int, model_id: int, dataset_id: int) -> store.Job | None:
    """The newest ``explain`` job for this model and data (running, or how the last one ended)."""
    for job in jobs.list_jobs(session, project_id, kind=JOB_KIND, limit=50):
        if job.params.get("model_id") == model_id and job.params.get("dataset_id") == dataset_id:
            return job
    return None
