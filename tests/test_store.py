"""The store on SQLite and (with ASSAY_TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core import migrations, store
from core.errors import ConflictError, NotFoundError, StoreError, ValidationError


def _count(engine, model) -> int:
    with store.read_session(engine) as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def test_migrations_match_the_models(any_engine):
    with any_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), store.Base.metadata)
    assert diff == []
    assert migrations.current_revision(any_engine) == migrations.head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine):
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_project_lifecycle(any_engine):
    with store.write_session(any_engine) as s:
        a = store.create_project(s, "Churn 2024").id
        store.create_project(s, "Ärger & Co (v2)")
    with store.write_session(any_engine) as s:
        store.rename_project(s, a, "Churn 2025")
    with store.read_session(any_engine) as s:
        assert [p.name for p in store.list_projects(s)] == ["Churn 2025", "Ärger & Co (v2)"]
    with store.write_session(any_engine) as s:
        store.delete_project(s, a)
    with store.read_session(any_engine) as s:
        assert [p.name for p in store.list_projects(s)] == ["Ärger & Co (v2)"]
        with pytest.raises(NotFoundError):
            store.get_project(s, a)


@pytest.mark.parametrize(
    "name, message",
    [
        ("../x", "contains '/'"),
        ("a/b", "contains '/'"),
        ("..", "'.' at the start"),
        ("x..y", "'..'"),
        ("", "empty"),
        ("   ", "empty"),
        ("tab\there", "'\\t'"),
        ("x" * 101, "101 characters"),
        ("<script>", "'<'"),
        ("drop;--", "';'"),
    ],
)
def test_bad_project_names_are_refused_with_the_reason(engine, name, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        with store.write_session(engine) as s:
            store.create_project(s, name)
    assert _count(engine, store.Project) == 0


def test_duplicate_project_names_are_refused_case_insensitively(any_engine):
    with store.write_session(any_engine) as s:
        store.create_project(s, "Sales")
    with pytest.raises(ConflictError, match="already exists"):
        with store.write_session(any_engine) as s:
            store.create_project(s, "sales")
    assert _count(any_engine, store.Project) == 1


def test_datasets_are_stored_once_by_content(any_engine):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "P").id
        d1 = store.save_dataset(s, p, "first", frame, roles={"target": "a"})
        d2 = store.save_dataset(s, p, "second", frame.copy())
        assert d1.blob_sha == d2.blob_sha
    assert _count(any_engine, store.Blob) == 1
    with store.read_session(any_engine) as s:
        back = store.read_dataset_frame(s, store.get_dataset(s, d1.id))
    pd.testing.assert_frame_equal(back, frame)


def test_a_failed_write_leaves_the_previous_state(any_engine):
    frame = pd.DataFrame({"a": [1, 2]})
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "P").id
        store.save_dataset(s, p, "kept", frame)
    blobs_before = _count(any_engine, store.Blob)
    with pytest.raises(ValidationError, match="target column 'nope'"):
        with store.write_session(any_engine) as s:
            store.create_project(s, "Half done")  # would be rolled back with the rest
            store.save_dataset(s, p, "new", pd.DataFrame({"z": [9]}), roles={"target": "nope"})
    with store.read_session(any_engine) as s:
        assert [p.name for p in store.list_projects(s)] == ["P"]
        assert [d.name for d in store.list_datasets(s, p)] == ["kept"]
    assert _count(any_engine, store.Blob) == blobs_before


def test_dataset_name_clash_and_roles(any_engine):
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "P").id
        d = store.save_dataset(s, p, "data", pd.DataFrame({"y": [1], "t": [2]}))
    with pytest.raises(ConflictError, match="already has a dataset named 'DATA'"):
        with store.write_session(any_engine) as s:
            store.save_dataset(s, p, "DATA", pd.DataFrame({"y": [1]}))
    with pytest.raises(ValidationError, match="One column cannot have two roles"):
        with store.write_session(any_engine) as s:
            store.set_roles(s, d.id, {"target": "y", "time": "y"})
    with store.write_session(any_engine) as s:
        store.set_roles(s, d.id, {"target": "y", "time": "t", "group": None})
    with store.read_session(any_engine) as s:
        assert store.get_dataset(s, d.id).roles == {"target": "y", "time": "t"}


def test_deleting_a_project_removes_its_rows_and_unused_blobs(any_engine):
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "P").id
        q = store.create_project(s, "Q").id
        store.save_dataset(s, p, "only here", pd.DataFrame({"a": [1]}))
        store.save_dataset(s, p, "shared", pd.DataFrame({"b": [2]}))
        store.save_dataset(s, q, "shared", pd.DataFrame({"b": [2]}))
    with store.write_session(any_engine) as s:
        store.delete_project(s, p)
    assert _count(any_engine, store.Dataset) == 1
    assert _count(any_engine, store.Blob) == 1  # the blob Q still uses survives


def test_concurrent_edit_of_the_same_project_is_refused(any_engine):
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "P").id
    with store.read_session(any_engine) as s:
        stale = store.get_project(s, p)
    with store.write_session(any_engine) as s:
        store.rename_project(s, p, "Renamed by someone else")
    with pytest.raises(ConflictError, match="Someone else changed"):
        with store.write_session(any_engine) as s:
            s.add(stale)
            stale.name = "Mine"
            stale.name_key = "mine"
    with store.read_session(any_engine) as s:
        assert store.get_project(s, p).name == "Renamed by someone else"


def test_a_read_only_database_gives_a_clear_error_and_keeps_its_data(tmp_path):
    path = tmp_path / "ro.db"
    engine = store.init_store(f"sqlite:///{path}")
    with store.write_session(engine) as s:
        store.create_project(s, "Safe")
    store.dispose_engines()
    read_only = store.init_store(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StoreError, match="read-only"):
        with store.write_session(read_only) as s:
            store.create_project(s, "Lost")
    with store.read_session(read_only) as s:
        assert [p.name for p in store.list_projects(s)] == ["Safe"]
    store.dispose_engines()


def test_recipe_versions_undo_redo_and_conflicts(any_engine):
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "P").id
        d = store.save_dataset(s, p, "data", pd.DataFrame({"a": [1]})).id
    with store.write_session(any_engine) as s:
        v1 = store.save_recipe(s, d, {"clean": [1]}, expected_head=None).id
    with store.write_session(any_engine) as s:
        v2 = store.save_recipe(s, d, {"clean": [1, 2]}, expected_head=v1).id
    with pytest.raises(ConflictError, match="changed by someone else"):
        with store.write_session(any_engine) as s:  # an editor still looking at v1
            store.save_recipe(s, d, {"clean": [1, 3]}, expected_head=v1)
    with store.write_session(any_engine) as s:
        assert store.undo_recipe(s, d).id == v1
        assert store.can_redo(s, d)
    with store.write_session(any_engine) as s:
        assert store.redo_recipe(s, d).id == v2
        assert not store.can_redo(s, d)
        store.undo_recipe(s, d)
        store.undo_recipe(s, d)
        assert store.head_recipe(s, d) is None
        with pytest.raises(ValidationError, match="nothing to undo"):
            store.undo_recipe(s, d)
    with store.write_session(any_engine) as s:  # a new edit after undo starts a new branch
        v3 = store.save_recipe(s, d, {"clean": [9]}, expected_head=None).id
        assert store.head_recipe(s, d).steps == {"clean": [9]}
        with pytest.raises(ValidationError, match="nothing to redo"):
            store.redo_recipe(s, d)
    assert v3 not in (v1, v2)


def test_undo_and_redo_refuse_to_move_a_head_someone_else_moved(any_engine):
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "P").id
        d = store.save_dataset(s, p, "data", pd.DataFrame({"a": [1]})).id
    with store.write_session(any_engine) as s:
        v1 = store.save_recipe(s, d, {"clean": [1]}, expected_head=None, note="add 1").id
    with store.write_session(any_engine) as s:  # someone else adds a step
        v2 = store.save_recipe(s, d, {"clean": [1, 2]}, expected_head=v1, note="add 2").id
    with pytest.raises(ConflictError, match="changed by someone else"):
        with store.write_session(any_engine) as s:  # undo from a screen still showing v1
            store.undo_recipe(s, d, expected_head=v1)
    with store.read_session(any_engine) as s:
        assert store.head_recipe(s, d).id == v2, "their step is not lost"
    with store.write_session(any_engine) as s:
        assert store.undo_recipe(s, d, expected_head=v2).id == v1
        assert store.redo_target(s, d).note == "add 2"
    with pytest.raises(ConflictError):
        with store.write_session(any_engine) as s:
            store.redo_recipe(s, d, expected_head=v2)
    with store.write_session(any_engine) as s:
        assert store.redo_recipe(s, d, expected_head=v1).id == v2
        assert store.redo_target(s, d) is None
