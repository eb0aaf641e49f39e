"""Training as a job: a worker process runs it; the store holds the run, its live leaderboard and the model.

- ``train`` jobs (:func:`train_job`) create a :class:`core.store.Run`, update its
  leaderboard as trials finish (the page polls it), and save the chosen model's
  bundle as a blob with a :class:`core.store.Model` row.
- Trials go through an Optuna storage. On SQLite it lives in the worker's memory
  (one local worker: several SQLite writers would lock each other). On PostgreSQL it
  is a schema of the same database (``<schema>_optuna``), so with ``workers`` > 1
  the run queues ``train_trials`` jobs that ``assay worker`` processes on any machine
  take (:func:`train_trials_job`): they run trials on the same study until the run's
  deadline and leave their out-of-fold predictions for the ensemble.
- A killed worker stops beating; :func:`core.jobs.reap_stale` marks its job failed
  and :func:`sync_runs` marks its run failed. Nothing else in the project changes.
"""

from __future__ import annotations

import io
import logging
import os
import time
import uuid

import numpy as np
import sqlalchemy as sa

from core import jobs, store
from core.errors import NotFoundError, ValidationError
from core.recipe import Recipe

__all__ = ["train_job", "train_trials_job", "start_training", "sync_runs", "list_runs", "get_run",
           "run_for_job", "model_bundle_bytes", "optuna_storage", "OOF_REPORT"]

log = logging.getLogger("assay.train")

OOF_REPORT = "train_oof"
_LIVE_WRITE_SECONDS = 1.0


# --------------------------------------------------------------------------- page and CLI side


def start_training(engine: sa.Engine, project_id: int, dataset_id: int, config: dict) -> int:
    """Validate the settings, queue a ``train`` job and start its worker; returns the job id."""
    from core.train.config import TrainConfig

    TrainConfig.from_dict(config)  # refuse bad settings before a worker starts
    with store.read_session(engine) as s:
        store.get_dataset(s, dataset_id, project_id)
    return jobs.submit_and_start(project_id=project_id, kind="train", dataset_id=dataset_id,
                                 params={"dataset_id": dataset_id, "config": config}, engine=engine)


def sync_runs(session, project_id: int) -> int:
    """Mark runs whose job ended without finishing them (killed worker, crash) as failed."""
    stale = session.scalars(
        sa.select(store.Run).join(store.Job, store.Run.job_id == store.Job.id)
        .where(store.Run.project_id == project_id, store.Run.status == "running",
               store.Job.status.in_(jobs.FINISHED))
    ).all()
    for run in stale:
        job = session.get(store.Job, run.job_id)
        run.status = "cancelled" if job.status == "cancelled" else "failed"
        run.finished_at = job.finished_at or store.utcnow()
        run.metrics = {**(run.metrics or {}), "error": job.error or "The worker stopped."}
    return len(stale)


def list_runs(session, project_id: int, dataset_id: int | None = None, limit: int = 50) -> list[store.Run]:
    query = sa.select(store.Run).where(store.Run.project_id == project_id)
    if dataset_id is not None:
        query = query.where(store.Run.dataset_id == dataset_id)
    return list(session.scalars(query.order_by(store.Run.id.desc()).limit(limit)))


def get_run(session, run_id: int, project_id: int | None = None) -> store.Run:
    run = session.get(store.Run, run_id)
    if run is None or (project_id is not None and run.project_id != project_id):
        raise NotFoundError(f"Training run {run_id} does not exist in this project.")
    return run


def run_for_job(session, job_id: int) -> store.Run | None:
    return session.scalar(sa.select(store.Run).where(store.Run.job_id == job_id))


def chosen_model(session, run_id: int) -> store.Model | None:
    return session.scalar(sa.select(store.Model).where(store.Model.run_id == run_id, store.Model.chosen.is_(True)))


def model_bundle_bytes(session, model_id: int, project_id: int | None = None) -> bytes:
    model = session.get(store.Model, model_id)
    if model is None or (project_id is not None and model.project_id != project_id):
        raise NotFoundError(f"Model {model_id} does not exist in this project.")
    return store.get_blob(session, model.blob_sha)


# --------------------------------------------------------------------------- Optuna storage


def optuna_storage(engine: sa.Engine):
    """An Optuna storage shared by every worker of a run, or None (in memory) on SQLite.

    ``ASSAY_OPTUNA_URL`` points trials at any database Optuna supports. Otherwise a
    PostgreSQL store gets a schema of its own for Optuna's tables (they would clash
    with the store's migrations in the same schema).
    """
    import optuna

    url = os.environ.get("ASSAY_OPTUNA_URL")
    if url:
        return optuna.storages.RDBStorage(url)
    if engine.dialect.name != "postgresql":
        return None
    with engine.begin() as conn:
        current = conn.execute(sa.text("select current_schema()")).scalar()
        schema = f"{current}_optuna"
        conn.execute(sa.text(f'create schema if not exists "{schema}"'))
    return optuna.storages.RDBStorage(
        engine.url.render_as_string(hide_password=False),
        engine_kwargs={"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True},
    )


def _delete_study(storage, name: str) -> None:
    """Remove a finished run's trials from the Optuna storage (the run keeps its leaderboard)."""
    import optuna

    for attempt in range(5):
        try:
            optuna.delete_study(study_name=name, storage=storage)
            return
        except KeyError:
            return
        except Exception:  # noqa: BLE001 - a helper may be writing its last trial; try again
            log.warning("could not delete Optuna study %s (attempt %d)", name, attempt + 1, exc_info=True)
            time.sleep(1.0)


# --------------------------------------------------------------------------- the job


def _inputs(session, dataset_id: int, project_id: int, recipe_json: dict | None = None):
    dataset = store.get_dataset(session, dataset_id, project_id)
    raw = store.read_dataset_frame(session, dataset)
    if recipe_json is None:
        head = store.head_recipe(session, dataset_id)
        recipe_json = head.steps if head is not None else {}
    kinds = {name: col.get("kind") for name, col in (dataset.schema or {}).get("columns", {}).items()}
    return raw, Recipe.from_dict(recipe_json), kinds, dict(dataset.roles or {})


def _config(params: dict, roles: dict):
    from core.train.config import TrainConfig

    data = dict(params.get("config") or {})
    for role in ("time", "group", "id"):
        if role not in data and roles.get(role) and roles.get(role) != data.get("target"):
            data[role] = roles[role]
    if "target" not in data and roles.get("target"):
        data["target"] = roles["target"]
    if "target" not in data:
        raise ValidationError("Choose the target column: the one the model should predict.")
    return TrainConfig.from_dict(data)


class _Live:
    """Writes the live leaderboard to the run at most once a second."""

    def __init__(self, ctx: jobs.JobContext, run_id: int, budget: float):
        self.ctx, self.run_id, self.budget = ctx, run_id, budget
        self.last = 0.0
        self.started = time.monotonic()
        self.meta: dict = {}

    def prepared(self, prep) -> None:
        """Once the data is checked: the task and metric the page needs to show scores."""
        metric = prep.setup.metric
        self.meta = {"metric_label": metric.label, "greater_is_better": metric.greater_is_better,
                     "validation": prep.split.method, "warnings": list(prep.pre.warnings)}
        with store.write_session(self.ctx.engine) as s:
            run = s.get(store.Run, self.run_id)
            run.task, run.metric = prep.pre.task, prep.pre.metric
            run.metrics = {"live": {**self.meta, "elapsed_s": round(time.monotonic() - self.started, 1),
                                    "budget_s": self.budget}}

    def __call__(self, fraction: float, message: str, records: list[dict]) -> None:
        self.ctx.progress(fraction, message)
        now = time.monotonic()
        if records and (now - self.last >= _LIVE_WRITE_SECONDS or fraction >= 1.0):
            self.last = now
            with store.write_session(self.ctx.engine) as s:
                run = s.get(store.Run, self.run_id)
                run.leaderboard = records
                run.metrics = {"live": {**self.meta, "elapsed_s": round(now - self.started, 1),
                                        "budget_s": self.budget, "message": message}}


def train_job(ctx: jobs.JobContext, params: dict) -> dict:
    """Job handler (kind ``train``): one training run, from the stored dataset to a stored model."""
    from core.train.run import TrainingCancelled, train

    engine = ctx.engine
    dataset_id = int(params["dataset_id"])
    with store.read_session(engine) as s:
        raw, recipe, kinds, roles = _inputs(s, dataset_id, ctx.project_id, params.get("recipe"))
    config = _config(params, roles)
    with store.write_session(engine) as s:
        run = store.Run(project_id=ctx.project_id, dataset_id=dataset_id, job_id=ctx.job_id,
                        recipe=recipe.to_dict(), target=config.target, task=config.task or "",
                        metric=config.metric or "", seed=config.seed, config=config.to_dict())
        s.add(run)
        s.flush()
        run_id = run.id
    ctx.log(f"Run {run_id}: target {config.target!r}, budget {config.time_budget:g} s, seed {config.seed}")
    storage = optuna_storage(engine)
    study_name = f"assay-run-{run_id}-{uuid.uuid4().hex[:8]}"
    helpers: list[int] = []

    def on_study(study):
        if storage is not None and config.workers > 1:
            with store.write_session(engine) as s:
                for _ in range(config.workers - 1):
                    helpers.append(jobs.submit(s, project_id=ctx.project_id, kind="train_trials",
                                               dataset_id=dataset_id,
                                               params={"run_id": run_id, "study_name": study_name}).id)
            ctx.log(f"Queued {len(helpers)} helper job(s) for `assay worker` processes.")
        elif config.workers > 1:
            ctx.log("Several workers need a PostgreSQL store; this run uses one local worker.")

    status = "failed"
    try:
        live = _Live(ctx, run_id, config.time_budget)
        result = train(raw, config, recipe=recipe, kinds=kinds, progress=live, cancelled=lambda: ctx.cancelled,
                       storage=storage, study_name=study_name, extra_oof=lambda: _helper_oof(engine, run_id),
                       on_study=on_study, on_prepared=live.prepared, run_id=run_id)
        status = "done"
    except TrainingCancelled:
        status = "cancelled"
        raise jobs.JobCancelled() from None
    finally:
        _finish_helpers(engine, helpers)
        if storage is not None:
            _delete_study(storage, study_name)
        if status != "done":
            with store.write_session(engine) as s:
                run = s.get(store.Run, run_id)
                run.status = status
                run.finished_at = store.utcnow()
            _drop_oof(engine, run_id)
    data = result.bundle.to_bytes()
    summary = result.summary
    with store.write_session(engine) as s:
        run = s.get(store.Run, run_id)
        run.task, run.metric = summary["task"], summary["metric"]
        run.status = "done"
        run.leaderboard = result.leaderboard
        run.split = result.split
        run.metrics = {"summary": summary, "evaluation": result.evaluation, "preflight": result.preflight}
        run.finished_at = store.utcnow()
        sha = store.put_blob(s, data)
        chosen = summary["chosen"]
        kind = "ensemble" if chosen["kind"] == "ensemble" else chosen["best_family"]
        model = store.Model(project_id=ctx.project_id, run_id=run_id, name=f"{config.target} · {kind}",
                            kind=kind, blob_sha=sha, features=result.bundle.feature_names,
                            metrics={"metric": summary["metric"], "cv": summary["cv"], "holdout": summary["holdout"]},
                            chosen=True)
        s.add(model)
        s.flush()
        model_id = model.id
    _drop_oof(engine, run_id)
    ctx.log(f"Run {run_id} done: holdout {summary['metric']} {summary['holdout']}")
    return {"run_id": run_id, "model_id": model_id, "metric": summary["metric"], "holdout": summary["holdout"],
            "cv": summary["cv"]["mean"]}


def train_trials_job(ctx: jobs.JobContext, params: dict) -> dict:
    """Job handler (kind ``train_trials``): join a running run's search until its deadline."""
    from core.train.run import TrainingCancelled, search_only
    from core.train.search import create_study

    engine = ctx.engine
    run_id = int(params["run_id"])
    with store.read_session(engine) as s:
        run = get_run(s, run_id, ctx.project_id)
        if run.status != "running":
            return {"trials": 0, "note": "the run had already finished"}
        raw, recipe, kinds, _ = _inputs(s, run.dataset_id, ctx.project_id, run.recipe)
        config_data = dict(run.config)
    from core.train.config import TrainConfig

    config = TrainConfig.from_dict(config_data)
    storage = optuna_storage(engine)
    if storage is None:
        raise ValidationError("Workers can join a run only when the store is PostgreSQL.")
    import optuna

    try:
        summary = optuna.study.get_all_study_summaries(storage)
        if not any(x.study_name == params["study_name"] for x in summary):
            return {"trials": 0, "note": "the run had already finished"}
        study = create_study(None, storage=storage, study_name=params["study_name"],
                             seed=config.seed + ctx.job_id, load=True)
    except KeyError:
        return {"trials": 0, "note": "the run had already finished"}
    ctx.log(f"Joining run {run_id} ({params['study_name']})")

    def keep_oof(record: dict, oof) -> None:
        ctx.progress(0.5, f"trial {record['number'] + 1} done")
        if oof is None:
            return
        sink = io.BytesIO()
        np.save(sink, np.asarray(oof), allow_pickle=False)
        with store.write_session(engine) as s:
            sha = store.put_blob(s, sink.getvalue())
            s.add(store.Report(project_id=ctx.project_id, dataset_id=run.dataset_id, kind=OOF_REPORT,
                               key=f"run:{run_id}:trial:{record['number']}", blob_sha=sha,
                               title=f"out-of-fold predictions of trial {record['number']}"))

    try:
        n = search_only(raw, config, study, recipe=recipe, kinds=kinds, cancelled=lambda: ctx.cancelled,
                        on_trial=keep_oof)
    except TrainingCancelled:
        raise jobs.JobCancelled() from None
    return {"trials": n, "run_id": run_id}


def _helper_oof(engine: sa.Engine, run_id: int) -> dict[int, np.ndarray]:
    out = {}
    with store.read_session(engine) as s:
        rows = s.scalars(sa.select(store.Report).where(store.Report.kind == OOF_REPORT,
                                                       store.Report.key.like(f"run:{run_id}:trial:%"))).all()
        for row in rows:
            number = int(row.key.rsplit(":", 1)[1])
            out[number] = np.load(io.BytesIO(store.get_blob(s, row.blob_sha)), allow_pickle=False)
    return out


def _drop_oof(engine: sa.Engine, run_id: int) -> None:
    with store.write_session(engine) as s:
        s.execute(sa.delete(store.Report).where(store.Report.kind == OOF_REPORT,
                                                store.Report.key.like(f"run:{run_id}:trial:%")))
        store.gc_blobs(s)


def _finish_helpers(engine: sa.Engine, helpers: list[int], wait_s: float = 30.0) -> None:
    """Cancel helper jobs nobody took, and wait (briefly) for running ones to end: they
    stop starting trials when the search ends, and their last write must land before
    the study is deleted."""
    if not helpers:
        return
    with store.write_session(engine) as s:
        for job_id in helpers:
            job = s.get(store.Job, job_id)
            if job is not None and job.status == "queued":
                jobs.request_cancel(s, job_id)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with store.write_session(engine) as s:
            jobs.reap_stale(s)
            running = s.scalar(sa.select(sa.func.count()).select_from(store.Job)
                               .where(store.Job.id.in_(helpers), store.Job.status.in_(jobs.ACTIVE)))
        if not running:
            return
        time.sleep(0.5)

