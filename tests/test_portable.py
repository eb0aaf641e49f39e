"""Projects as files (export, import, validation) and backups."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest
import sqlalchemy as sa

from core import portable, store
from core.errors import InputError, StoreError


@pytest.fixture
def full_project(engine):
    """A project with two datasets, a recipe history, a run, a model and reports."""
    with store.write_session(engine) as s:
        p = store.create_project(s, "Churn").id
        d1 = store.save_dataset(s, p, "customers", pd.DataFrame({"a": [1, 2, 3], "y": [0, 1, 0]}),
                                roles={"target": "y"})
        d2 = store.save_dataset(s, p, "later", pd.DataFrame({"a": [4, 5], "y": [1, 1]}))
        v1 = store.save_recipe(s, d1.id, {"clean": [{"kind": "drop_columns", "columns": ["a"]}]}).id
        store.save_recipe(s, d1.id, {"clean": []}, expected_head=v1)
        store.undo_recipe(s, d1.id)  # head back on v1, v2 kept for redo
        run = store.Run(project_id=p, dataset_id=d1.id, target="y", task="binary", metric="roc_auc")
        s.add(run)
        s.flush()
        model_sha = store.put_blob(s, b"PK-not-really-a-bundle")
        model = store.Model(project_id=p, run_id=run.id, name="best", kind="catboost", blob_sha=model_sha)
        s.add(model)
        s.flush()
        s.add(store.Report(project_id=p, dataset_id=d2.id, kind="profile", key="k", data={"x": 1}))
        s.add(store.Report(project_id=p, model_id=model.id, kind="card", blob_sha=store.put_blob(s, b"<html>")))
        other = store.create_project(s, "Other").id
        store.save_dataset(s, other, "secret", pd.DataFrame({"s": ["do not export"]}))
    return p


def _counts(engine, project_id):
    with store.read_session(engine) as s:
        q = lambda m, col: s.scalar(sa.select(sa.func.count()).select_from(m).where(col == project_id))  # noqa: E731
        return {
            "datasets": q(store.Dataset, store.Dataset.project_id), "runs": q(store.Run, store.Run.project_id),
            "models": q(store.Model, store.Model.project_id), "reports": q(store.Report, store.Report.project_id),
        }


def test_export_then_import_on_another_installation(engine, full_project, tmp_path):
    path = portable.export_project(engine, full_project, tmp_path / "churn.assay")
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    assert not (tmp_path / "churn.assay-wal").exists()
    with sqlite3.connect(path) as conn:  # only this project went into the file
        assert conn.execute("SELECT name FROM project").fetchall() == [("Churn",)]
        assert ("do not export",) not in conn.execute("SELECT name FROM dataset").fetchall()
    other = store.init_store(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    new_id = portable.import_project(other, path)
    assert _counts(other, new_id) == _counts(engine, full_project) == {
        "datasets": 2, "runs": 1, "models": 1, "reports": 2}
    with store.read_session(other) as s:
        datasets = store.list_datasets(s, new_id)
        assert [d.name for d in datasets] == ["customers", "later"]
        assert datasets[0].roles == {"target": "y"}
        assert store.read_dataset_frame(s, datasets[0])["y"].tolist() == [0, 1, 0]
        assert store.head_recipe(s, datasets[0].id).steps == {"clean": [{"kind": "drop_columns", "columns": ["a"]}]}
        assert store.can_redo(s, datasets[0].id)
    # importing again keeps both, under a new name
    again = portable.import_project(other, path)
    with store.read_session(other) as s:
        assert store.get_project(s, again).name == "Churn (2)"


def _tamper(path, sql: str, *params):
    with sqlite3.connect(path) as conn:
        conn.execute(sql, params)


@pytest.mark.parametrize("tamper, message", [
    (lambda p: _tamper(p, "UPDATE blob SET data = ? WHERE size = 22", b"PK-evil-payload-bundle"),
     "does not match its checksum"),
    (lambda p: _tamper(p, "INSERT INTO project (id, name, name_key, settings, created_at, updated_at, version) "
                          "VALUES (99, 'x', 'x', '{}', '2024-01-01', '2024-01-01', 1)"), "exactly one project"),
    (lambda p: _tamper(p, "UPDATE dataset SET project_id = 99"), "belongs to another project"),
    (lambda p: _tamper(p, "UPDATE recipe SET steps = ?", '{"clean": [{"kind": "exec", "code": "x"}]}'),
     "is invalid"),
    (lambda p: _tamper(p, "CREATE TRIGGER t AFTER INSERT ON project BEGIN DELETE FROM dataset; END"),
     "trigger 't'"),
    (lambda p: _tamper(p, "CREATE TABLE extra (x)"), "table 'extra'"),
    (lambda p: _tamper(p, "UPDATE alembic_version SET version_num = '9999'"), "newer version of Assay"),
    (lambda p: p.write_bytes(b"not a database at all"), "not an SQLite database"),
    (lambda p: p.write_bytes(p.read_bytes()[:5000]), "damaged|integrity"),
])
def test_crafted_or_damaged_files_are_refused_and_change_nothing(engine, full_project, tmp_path, tamper, message):
    path = portable.export_project(engine, full_project, tmp_path / "p.assay")
    tamper(path)
    target = store.init_store(f"sqlite:///{tmp_path / 'target.db'}")
    with store.write_session(target) as s:
        store.create_project(s, "Mine")
    with pytest.raises(InputError, match=message):
        portable.import_project(target, path)
    with store.read_session(target) as s:
        assert [p.name for p in store.list_projects(s)] == ["Mine"]
        assert s.scalar(sa.select(sa.func.count()).select_from(store.Blob)) == 0


def test_an_older_schema_file_is_migrated_on_import(engine, tmp_path):
    from core import migrations

    old = tmp_path / "old.assay"
    old_engine = store.get_engine(f"sqlite:///{old}")
    migrations.upgrade(old_engine, "0001")
    with old_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO project (id, name, name_key, settings, created_at, updated_at, version) "
                             "VALUES (1, 'Old one', 'old one', '{}', '2024-01-01', '2024-01-01', 1)"))
    store.forget_engine(f"sqlite:///{old}")
    new_id = portable.import_project(engine, old)
    with store.read_session(engine) as s:
        assert store.get_project(s, new_id).name == "Old one"
    with sqlite3.connect(old) as conn:  # the user's file was not touched
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)


def test_backup_is_a_consistent_copy_while_the_store_is_in_use(engine, full_project, tmp_path):
    with store.write_session(engine) as s:  # a live writer holds the WAL
        store.create_project(s, "Busy")
        out = portable.backup_store(engine, tmp_path / "backup" / "assay.db")
    with sqlite3.connect(out) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        names = {n for (n,) in conn.execute("SELECT name FROM project")}
    assert {"Churn", "Other"} <= names
    copy = tmp_path / "restored.db"
    shutil.copy(out, copy)
    restored = store.init_store(f"sqlite:///{copy}")
    assert _counts(restored, full_project) == _counts(engine, full_project)


def test_backup_refuses_a_server_database():
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="pg_dump"):
        portable.backup_store(engine, "x.db")
