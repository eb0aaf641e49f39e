"""Faults: kill -9 at random points, a full disk. The store survives and stays whole."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core import store
from core.errors import StoreError

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import sys, numpy as np, pandas as pd
sys.path.insert(0, {root!r})
from core import store
engine = store.init_store({url!r})
with store.write_session(engine) as s:
    p = (store.list_projects(s) or [store.create_project(s, "Busy")])[0].id
i = 0
while True:
    frame = pd.DataFrame({{"i": np.arange(20_000) + i, "x": np.random.default_rng(i).normal(size=20_000)}})
    with store.write_session(engine) as s:
        d = store.save_dataset(s, p, f"part {{i}} {{np.random.randint(1e9)}}", frame, roles={{"target": "x"}})
        store.save_recipe(s, d.id, {{"clean": [], "features": []}}, note=str(i))
    i += 1
"""


def _count(url: str) -> int:
    with sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True, timeout=30) as conn:
        try:
            return conn.execute("SELECT count(*) FROM dataset").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def _check_whole(url: str) -> int:
    engine = store.init_store(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    with store.read_session(engine) as s:
        datasets = s.scalars(sa.select(store.Dataset)).all()
        for d in datasets:  # every committed dataset is complete: its table and its recipe
            frame = store.read_dataset_frame(s, d)
            assert len(frame) == d.n_rows == 20_000
            assert store.head_recipe(s, d.id) is not None
    store.dispose_engines()
    return len(datasets)


def test_kill_9_of_a_writer_at_random_points_never_corrupts_the_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store.init_store(url)
    store.dispose_engines()
    rng = random.Random(7)
    counts = []
    for _ in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), url=url)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait until this writer has committed something (imports are slow on a busy machine),
        # then kill it at a random point of its next writes
        deadline = time.monotonic() + 120
        while _count(url) <= (counts[-1] if counts else 0):
            assert writer.poll() is None, writer.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the writer never wrote"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.6))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        counts.append(_check_whole(url))
    assert counts == sorted(counts) and len(set(counts)) == 5, counts  # each round added work; none was lost


def test_a_full_disk_gives_a_clear_error_and_leaves_the_store_as_it_was(tmp_path):
    url = f"sqlite:///{tmp_path / 'small.db'}"
    engine = store.init_store(url)
    with store.write_session(engine) as s:
        p = store.create_project(s, "Kept").id
        store.save_dataset(s, p, "small", pd.DataFrame({"a": range(10)}))
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record):  # the disk holds only a few more pages
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 3}")

    engine.dispose()
    big = pd.DataFrame({"x": range(300_000), "y": [f"row {i}" for i in range(300_000)]})
    with pytest.raises(StoreError, match="disk holding the project store is full"):
        with store.write_session(engine) as s:
            store.save_dataset(s, p, "too big", big)
    event.remove(engine, "connect", _cap)
    store.dispose_engines()
    assert _whole_and_names(url) == ["small"]


def _whole_and_names(url: str) -> list[str]:
    engine = store.init_store(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    with store.read_session(engine) as s:
        names = [d.name for d in s.scalars(sa.select(store.Dataset))]
        assert s.scalar(sa.select(sa.func.count()).select_from(store.Blob)) == len(names)
    store.dispose_engines()
    return names
