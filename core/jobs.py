"""Long work (full profiling reports, training, SHAP) as jobs in worker processes.

A job is a row in the store. :func:`start` runs it in a new worker process of its
own session, so closing the browser tab, switching pages or restarting Streamlit
does not stop it. The worker writes progress, a heartbeat and log lines to the
row; pages only poll. A worker that dies (``kill -9``, out of memory) stops
beating, and :func:`reap_stale` marks its job failed without touching anything
else in the project.

Handlers are plain functions ``handler(ctx: JobContext, params: dict) -> dict``
registered by kind in :data:`HANDLERS` as ``"module:function"`` strings, so the
worker imports only what the job needs. Job kinds come from code, never from users.

On a shared PostgreSQL store, ``assay worker`` processes on other machines take
queued jobs with :func:`claim_next` (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import store
from core.config import settings
from core.errors import AssayError, JobError, NotFoundError

__all__ = [
    "HANDLERS", "JobContext", "JobCancelled", "submit", "start", "submit_and_start", "get_job",
    "list_jobs", "request_cancel", "reap_stale", "claim_next", "run_job", "wait",
    "ACTIVE", "FINISHED",
]

log = logging.getLogger("assay.jobs")

# kind -> "module:function". Add a line when a new kind of job appears.
HANDLERS: dict[str, str] = {
    "selftest": "core.jobs:_selftest_job",
    "explain": "core.explain.job:explain_job",
    "profile_report": "core.profile_report:run_report_job",
    "train": "core.train.job:train_job",
    "train_trials": "core.train.job:train_trials_job",
}

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 20.0  # ten missed heartbeats: the worker is gone
QUEUED_STALE_SECONDS = 120.0
LOG_LIMIT = 200_000
_children: list[subprocess.Popen] = []
_children_lock = threading.Lock()


class JobCancelled(Exception):
    """Raised inside a handler by :meth:`JobContext.check_cancel` after a cancel request."""


def _handler(kind: str) -> Callable[[JobContext, dict], dict]:
    target = HANDLERS.get(kind)
    extra = os.environ.get("ASSAY_EXTRA_JOB_HANDLERS", "")  # tests: "kind=module:function,..."
    for item in filter(None, extra.split(",")):
        name, _, spec = item.partition("=")
        if name == kind:
            target = spec
    if target is None:
        raise JobError(f"There is no handler for jobs of kind {kind!r}.")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


# --------------------------------------------------------------------------- page side


def submit(
    session: Session, *, project_id: int, kind: str, params: dict | None = None, dataset_id: int | None = None
) -> store.Job:
    """Record a queued job (in the caller's transaction); :func:`start` runs it."""
    if kind not in HANDLERS and f"{kind}=" not in os.environ.get("ASSAY_EXTRA_JOB_HANDLERS", ""):
        raise JobError(f"There is no handler for jobs of kind {kind!r}.")
    store.get_project(session, project_id)
    job = store.Job(project_id=project_id, dataset_id=dataset_id, kind=kind, params=params or {})
    session.add(job)
    session.flush()
    return job


def start(job_id: int, database_url: str | None = None) -> int:
    """Run job ``job_id`` in a new worker process; return its pid."""
    url = database_url or settings().database_url
    logs = settings().home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ASSAY_DATABASE_URL": url}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    with open(logs / f"job-{job_id}.log", "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.worker", str(job_id)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # not in the page's process group: survives its end
            cwd=root,
        )
    with _children_lock:
        _children[:] = [p for p in _children if p.poll() is None]  # reap finished ones
        _children.append(process)
    return process.pid


def submit_and_start(
    *, project_id: int, kind: str, params: dict | None = None, dataset_id: int | None = None,
    engine: sa.Engine | None = None,
) -> int:
    """Queue a job, commit, and start its worker. Returns the job id."""
    engine = engine or store.init_store()
    with store.write_session(engine) as s:
        job_id = submit(s, project_id=project_id, kind=kind, params=params, dataset_id=dataset_id).id
    start(job_id, engine.url.render_as_string(hide_password=False))
    return job_id


def get_job(session: Session, job_id: int, project_id: int | None = None) -> store.Job:
    job = session.get(store.Job, job_id)
    if job is None or (project_id is not None and job.project_id != project_id):
        raise NotFoundError(f"Job {job_id} does not exist in this project.")
    return job


def list_jobs(session: Session, project_id: int, kind: str | None = None, limit: int = 50) -> list[store.Job]:
    query = sa.select(store.Job).where(store.Job.project_id == project_id)
    if kind:
        query = query.where(store.Job.kind == kind)
    return list(session.scalars(query.order_by(store.Job.id.desc()).limit(limit)))


def request_cancel(session: Session, job_id: int) -> None:
    job = get_job(session, job_id)
    if job.status in ACTIVE:
        job.cancel_requested = True
        if job.status == "queued" and job.pid is None:
            _finish(job, "cancelled", error="Cancelled before it started.")


def reap_stale(session: Session, *, now: dt.datetime | None = None) -> int:
    """Mark jobs whose worker is gone as failed. Returns how many were marked."""
    now = now or store.utcnow()
    host = socket.gethostname()
    marked = 0
    for job in session.scalars(sa.select(store.Job).where(store.Job.status.in_(ACTIVE))):
        beat = job.heartbeat_at or job.started_at or job.created_at
        age = (now - beat).total_seconds()
        dead_here = job.pid is not None and job.host == host and not _alive(job.pid)
        if job.status == "running" and (age > STALE_SECONDS or dead_here):
            _finish(job, "failed", error=(
                f"The worker stopped unexpectedly at {job.progress:.0%} (it was killed or crashed). "
                "Nothing else in the project was changed; start the job again."
            ))
            marked += 1
        elif job.status == "queued" and (dead_here or (job.pid is not None and age > QUEUED_STALE_SECONDS)):
            _finish(job, "failed", error="The worker never started the job. Start it again.")
            marked += 1
    return marked


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of this process counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def wait(job_id: int, *, timeout: float = 600.0, engine: sa.Engine | None = None, poll: float = 0.2) -> store.Job:
    """Block until the job finishes (CLI and tests; pages poll instead)."""
    engine = engine or store.init_store()
    deadline = time.monotonic() + timeout
    while True:
        with store.write_session(engine) as s:
            reap_stale(s)
            job = get_job(s, job_id)
            if job.status in FINISHED:
                return job
        if time.monotonic() > deadline:
            raise JobError(f"Job {job_id} did not finish within {timeout:.0f} s.")
        time.sleep(poll)


# --------------------------------------------------------------------------- worker side


@dataclass
class JobContext:
    """What a handler gets: where to report progress, and whether to stop."""

    job_id: int
    project_id: int
    dataset_id: int | None
    engine: sa.Engine
    _cancel: threading.Event = field(default_factory=threading.Event)
    _last_write: float = 0.0
    _pending: dict[str, Any] = field(default_factory=dict)
    _lines: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancel(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled()

    def progress(self, fraction: float, message: str | None = None, *, force: bool = False) -> None:
        """Record progress (0..1); written at most twice a second unless ``force``."""
        with self._lock:
            self._pending["progress"] = max(0.0, min(1.0, float(fraction)))
            if message is not None:
                self._pending["message"] = message[:500]
        if force or time.monotonic() - self._last_write > 0.5:
            self.flush()

    def log(self, line: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        with self._lock:
            self._lines.append(f"[{stamp}] {line}")
        log.info("job %s: %s", self.job_id, line)
        if time.monotonic() - self._last_write > 0.5:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            lines, self._lines = self._lines, []
        self._last_write = time.monotonic()
        with store.write_session(self.engine) as s:
            job = s.get(store.Job, self.job_id)
            for key, value in pending.items():
                setattr(job, key, value)
            if lines:
                job.log = (job.log + "\n".join(lines) + "\n")[-LOG_LIMIT:]
            job.heartbeat_at = store.utcnow()
            if job.cancel_requested:
                self._cancel.set()


def _heartbeat(ctx: JobContext, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            ctx.flush()
        except Exception:  # noqa: BLE001 - a missed beat is retried; the reaper has slack
            log.warning("heartbeat for job %s failed", ctx.job_id, exc_info=True)


def claim_next(session: Session, kinds: list[str] | None = None) -> store.Job | None:
    """Take the oldest queued job (no other worker can take it too)."""
    query = sa.select(store.Job).where(store.Job.status == "queued", store.Job.cancel_requested.is_(False))
    if kinds:
        query = query.where(store.Job.kind.in_(kinds))
    job = session.scalar(query.order_by(store.Job.id).limit(1).with_for_update(skip_locked=True))
    if job is not None:
        _claim(job)
    return job


def _claim(job: store.Job) -> None:
    job.status = "running"
    job.pid = os.getpid()
    job.host = socket.gethostname()
    job.started_at = job.heartbeat_at = store.utcnow()


def run_job(job_id: int, engine: sa.Engine | None = None, *, claimed: bool = False) -> str:
    """Run one job to the end in this process; return its final status."""
    engine = engine or store.init_store()
    with store.write_session(engine) as s:
        job = get_job(s, job_id)
        if not claimed:
            if job.status != "queued":
                return job.status
            if job.cancel_requested:
                _finish(job, "cancelled", error="Cancelled before it started.")
                return "cancelled"
            _claim(job)
        kind, params, project_id, dataset_id = job.kind, dict(job.params), job.project_id, job.dataset_id
    ctx = JobContext(job_id=job_id, project_id=project_id, dataset_id=dataset_id, engine=engine)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(ctx, stop), daemon=True)
    beat.start()
    status, error, result = "done", "", {}
    try:
        result = _handler(kind)(ctx, params) or {}
    except JobCancelled:
        status, error = "cancelled", "Cancelled by the user."
    except AssayError as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug: keep the traceback in the log, a short error for the page
        incident = uuid.uuid4().hex[:8]
        log.exception("job %s failed (incident %s)", job_id, incident)
        ctx.log(traceback.format_exc())
        status, error = "failed", f"The job failed unexpectedly ({type(exc).__name__}; incident {incident})."
    finally:
        stop.set()
        beat.join(timeout=5)
    try:
        ctx.flush()
    except Exception:  # noqa: BLE001
        log.warning("final flush for job %s failed", job_id, exc_info=True)
    with store.write_session(engine) as s:
        _finish(get_job(s, job_id), status, error=error, result=result)
    return status


def _finish(job: store.Job, status: str, *, error: str = "", result: dict | None = None) -> None:
    job.status = status
    job.error = error
    if result is not None:
        job.result = result
    if status == "done":
        job.progress = 1.0
    job.finished_at = store.utcnow()


def _selftest_job(ctx: JobContext, params: dict) -> dict:
    """A job that only counts: checks that workers, progress and cancel work here."""
    steps = int(params.get("steps", 5))
    for i in range(steps):
        ctx.check_cancel()
        time.sleep(float(params.get("sleep", 0.1)))
        ctx.progress((i + 1) / steps, f"step {i + 1} of {steps}")
    if params.get("fail"):
        raise JobError("The self-test was asked to fail.")
    return {"steps": steps}
