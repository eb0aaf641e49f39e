"""Jobs run in real worker processes; a killed worker leaves its job failed, nothing else."""

from __future__ import annotations

import os
import signal
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from core import jobs, store
from core.errors import JobError


def _wait_running(engine, job_id, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.read_session(engine) as s:
            job = jobs.get_job(s, job_id)
            if job.status == "running" and job.progress > 0:
                return job
        time.sleep(0.1)
    raise AssertionError("the job never started")


def test_a_job_runs_in_a_worker_and_reports_progress_and_result(engine, project_id):
    job_id = jobs.submit_and_start(project_id=project_id, kind="selftest", params={"steps": 3}, engine=engine)
    job = jobs.wait(job_id, engine=engine, timeout=60)
    assert (job.status, job.progress, job.result, job.error) == ("done", 1.0, {"steps": 3}, "")
    assert job.pid != os.getpid() and job.finished_at >= job.started_at


def test_a_failing_job_is_marked_failed_with_its_message(engine, project_id):
    job_id = jobs.submit_and_start(project_id=project_id, kind="selftest", params={"fail": True}, engine=engine)
    job = jobs.wait(job_id, engine=engine, timeout=60)
    assert job.status == "failed"
    assert job.error == "The self-test was asked to fail."


def test_cancel_stops_a_running_job(engine, project_id):
    job_id = jobs.submit_and_start(project_id=project_id, kind="selftest",
                                   params={"steps": 200, "sleep": 0.05}, engine=engine)
    _wait_running(engine, job_id)
    with store.write_session(engine) as s:
        jobs.request_cancel(s, job_id)
    job = jobs.wait(job_id, engine=engine, timeout=60)
    assert job.status == "cancelled" and job.progress < 1.0


def test_kill_9_of_a_worker_marks_its_job_failed_and_touches_nothing_else(engine, project_id):
    with store.write_session(engine) as s:
        store.save_dataset(s, project_id, "kept", pd.DataFrame({"a": [1, 2, 3]}))
    job_id = jobs.submit_and_start(project_id=project_id, kind="selftest",
                                   params={"steps": 500, "sleep": 0.05}, engine=engine)
    job = _wait_running(engine, job_id)
    os.kill(job.pid, signal.SIGKILL)
    job = jobs.wait(job_id, engine=engine, timeout=60)
    assert job.status == "failed"
    assert "stopped unexpectedly" in job.error and "start the job again" in job.error
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    with store.read_session(engine) as s:
        assert [d.name for d in store.list_datasets(s, project_id)] == ["kept"]
    # and it can be run again
    again = jobs.submit_and_start(project_id=project_id, kind="selftest", params={"steps": 2}, engine=engine)
    assert jobs.wait(again, engine=engine, timeout=60).status == "done"


def test_a_job_whose_heartbeat_stopped_is_reaped(engine, project_id):
    with store.write_session(engine) as s:
        job = jobs.submit(s, project_id=project_id, kind="selftest")
        job.status, job.host, job.pid = "running", "another-machine", 12345
        job.heartbeat_at = store.utcnow() - pd.Timedelta(seconds=jobs.STALE_SECONDS + 5)
    with store.write_session(engine) as s:
        assert jobs.reap_stale(s) == 1
    with store.read_session(engine) as s:
        assert s.scalar(sa.select(store.Job.status)) == "failed"


def test_unknown_job_kinds_are_refused(engine, project_id):
    with pytest.raises(JobError, match="no handler for jobs of kind 'rm -rf'"):
        with store.write_session(engine) as s:
            jobs.submit(s, project_id=project_id, kind="rm -rf")


def test_claim_next_takes_each_job_once(engine, project_id):
    with store.write_session(engine) as s:
        first = jobs.submit(s, project_id=project_id, kind="selftest").id
        second = jobs.submit(s, project_id=project_id, kind="selftest").id
    with store.write_session(engine) as s:
        assert jobs.claim_next(s).id == first
    with store.write_session(engine) as s:
        assert jobs.claim_next(s).id == second
    with store.write_session(engine) as s:
        assert jobs.claim_next(s) is None
