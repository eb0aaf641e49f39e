"""Worker process entry point: ``python -m core.worker JOB_ID`` or ``--loop``.

Started by :func:`core.jobs.start` for one job, or by ``assay worker`` to serve
queued jobs from a shared store (PostgreSQL) until stopped.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from core import jobs, store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.worker")
    parser.add_argument("job_id", nargs="?", type=int)
    parser.add_argument("--loop", action="store_true", help="serve queued jobs until stopped")
    parser.add_argument("--kinds", default="", help="comma-separated job kinds to take")
    parser.add_argument("--idle-exit", type=float, default=0.0, help="stop after this many idle seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = store.init_store()
    if args.job_id is not None:
        status = jobs.run_job(args.job_id, engine)
        return 0 if status in ("done", "cancelled") else 1
    if not args.loop:
        parser.error("give a JOB_ID or --loop")
    kinds = [k for k in args.kinds.split(",") if k] or None
    idle_since = time.monotonic()
    while True:
        with store.write_session(engine) as s:
            jobs.reap_stale(s)
            job = jobs.claim_next(s, kinds)
            job_id = job.id if job else None
        if job_id is None:
            if args.idle_exit and time.monotonic() - idle_since > args.idle_exit:
                return 0
            time.sleep(1.0)
            continue
        jobs.run_job(job_id, engine, claimed=True)
        idle_since = time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
