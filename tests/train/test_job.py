"""Training as a job in real worker processes: stored runs and models, kill -9, cancel, two workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import datasets, ingest, jobs, store
from core.bundle import ModelBundle
from core.train import job as training
from tests.conftest import dataset_path

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["linear", "hgb"]  # families whose first trial lands within seconds: the run is surely mid-way


def _dataset(engine, project_id: int, name: str = "penguins.csv", target: str = "species") -> int:
    with store.write_session(engine) as s:
        return datasets.save_loaded(s, project_id, name.split(".")[0], ingest.load(dataset_path(name)),
                                    {"target": target}).id


def _wait_for_trials(engine, job_id: int, timeout: float = 120.0) -> store.Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.read_session(engine) as s:
            run = training.run_for_job(s, job_id)
            job = jobs.get_job(s, job_id)
            assert job.status in jobs.ACTIVE, job.error
            if run is not None and any(r.get("cv_mean") is not None for r in run.leaderboard or []):
                return run
        time.sleep(0.2)
    raise AssertionError("no trial finished")


def test_a_training_job_stores_its_run_and_a_model_that_loads(engine, project_id):
    dataset_id = _dataset(engine, project_id)
    job_id = training.start_training(engine, project_id, dataset_id, {"target": "species", "time_budget": 5,
                                                                       "threads": 1, "seed": 11})
    job = jobs.wait(job_id, engine=engine, timeout=180)
    assert job.status == "done", job.error
    with store.read_session(engine) as s:
        run = training.get_run(s, job.result["run_id"], project_id)
        model = training.chosen_model(s, run.id)
        data = training.model_bundle_bytes(s, model.id, project_id)
    assert (run.status, run.task, run.metric, run.seed) == ("done", "multiclass", "log_loss", 11)
    assert run.metrics["summary"]["holdout"] == job.result["holdout"] < run.metrics["summary"]["holdout_baseline"]
    assert run.split["holdout_rows"] == 69 and run.leaderboard
    bundle = ModelBundle.from_bytes(data)
    assert bundle.metadata["run_id"] == run.id and bundle.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert model.features == bundle.feature_names
    with store.read_session(engine) as s:  # out-of-fold scratch data is gone
        assert s.scalar(sa.select(sa.func.count()).select_from(store.Report)) == 0


def test_kill_9_of_the_worker_mid_run_leaves_the_job_failed_and_the_store_intact(engine, project_id):
    dataset_id = _dataset(engine, project_id)
    job_id = training.start_training(engine, project_id, dataset_id, {"target": "species", "time_budget": 60,
                                                                       "threads": 1, "families": QUICK})
    _wait_for_trials(engine, job_id)
    with store.read_session(engine) as s:
        pid = jobs.get_job(s, job_id).pid
    os.kill(pid, signal.SIGKILL)
    job = jobs.wait(job_id, engine=engine, timeout=60)
    assert job.status == "failed" and "stopped unexpectedly" in job.error
    with store.write_session(engine) as s:
        assert training.sync_runs(s, project_id) == 1
    with store.read_session(engine) as s:
        run = training.run_for_job(s, job_id)
        assert run.status == "failed" and "stopped unexpectedly" in run.metrics["error"]
        assert s.scalar(sa.select(sa.func.count()).select_from(store.Model)) == 0
        assert [d.id for d in store.list_datasets(s, project_id)] == [dataset_id]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    again = training.start_training(engine, project_id, dataset_id, {"target": "species", "time_budget": 3,
                                                                     "threads": 1, "families": ["linear"]})
    assert jobs.wait(again, engine=engine, timeout=120).status == "done"


def test_a_cancelled_run_stops_and_keeps_no_model(engine, project_id):
    dataset_id = _dataset(engine, project_id)
    job_id = training.start_training(engine, project_id, dataset_id, {"target": "species", "time_budget": 120,
                                                                       "threads": 1, "families": QUICK})
    _wait_for_trials(engine, job_id)
    with store.write_session(engine) as s:
        jobs.request_cancel(s, job_id)
    job = jobs.wait(job_id, engine=engine, timeout=60)
    assert job.status == "cancelled"
    with store.read_session(engine) as s:
        assert training.run_for_job(s, job_id).status == "cancelled"
        assert s.scalar(sa.select(sa.func.count()).select_from(store.Model)) == 0


def test_bad_settings_are_refused_before_a_worker_starts(engine, project_id):
    from core.errors import ValidationError

    dataset_id = _dataset(engine, project_id)
    with pytest.raises(ValidationError, match="time budget must be more than 0 seconds"):
        training.start_training(engine, project_id, dataset_id, {"target": "species", "time_budget": 0})
    with store.read_session(engine) as s:
        assert jobs.list_jobs(s, project_id) == []


def tmp_logs():
    from core.config import settings

    return [p.read_text()[-3000:] for p in (settings().home / "logs").glob("*.log")]


@pytest.mark.postgres
def test_two_workers_on_postgresql_share_one_runs_trials(postgres_url):
    engine = store.init_store(postgres_url)
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "Shared").id
    dataset_id = _dataset(engine, project_id)
    job_id = training.start_training(engine, project_id, dataset_id, {
        "target": "species", "time_budget": 30, "threads": 1, "workers": 2, "folds": 3})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the run queues a helper job once its data is ready
        with store.read_session(engine) as s:
            if jobs.list_jobs(s, project_id, kind="train_trials"):
                break
        time.sleep(0.2)
    env = {**os.environ, "ASSAY_DATABASE_URL": postgres_url, "PYTHONPATH": str(ROOT)}
    helper = subprocess.Popen([sys.executable, "-m", "core.worker", "--loop", "--kinds", "train_trials",
                               "--idle-exit", "3"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        job = jobs.wait(job_id, engine=engine, timeout=240)
        helper.wait(timeout=60)
    finally:
        if helper.poll() is None:
            os.killpg(helper.pid, signal.SIGKILL)
    assert job.status == "done", job.error
    with store.read_session(engine) as s:
        run = training.get_run(s, job.result["run_id"])
        helpers = jobs.list_jobs(s, project_id, kind="train_trials")
    trials = [(r["number"], r.get("worker", "")[-6:], r["status"], r.get("note")) for r in run.leaderboard]
    assert [(h.status, h.result.get("trials", 0) > 0) for h in helpers] == [("done", True)], (trials, helpers[0].log)
    finished = [r for r in run.leaderboard if r.get("cv_mean") is not None and r["family"] != "ensemble"]
    workers = {r["worker"] for r in finished}
    assert len(workers) == 2, workers  # both processes finished trials of this run
    best = min(finished, key=lambda r: r["cv_mean"])  # log loss: lower is better
    summary = run.metrics["summary"]
    assert summary["chosen"]["best_trial"] == best["number"] and summary["cv"]["mean"] == best["cv_mean"]
    with engine.connect() as conn:  # the run's Optuna study is removed when the run ends
        schema = conn.execute(sa.text("select current_schema()")).scalar()
        names = conn.execute(sa.text(f'select study_name from "{schema}_optuna".studies')).scalars().all()
    assert names == [], (tmp_logs(), job.log)
    with engine.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}_optuna" cascade'))
