"""Two sessions writing the same thing at the same moment: one wins, the other is told,
and nothing is lost silently (on SQLite and PostgreSQL).

The writers start together (a barrier) in threads with their own sessions, as two
browser sessions of the app would; whichever interleaving the database picks, exactly
one write lands and the other raises an AssayError that says what happened.
"""

from __future__ import annotations

import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from core import store
from core.errors import AssayError, ConflictError, NotFoundError


def _together(*writers):
    """Run each writer in its own thread, all released at once; return (results, errors)."""
    barrier = threading.Barrier(len(writers))
    results: list = [None] * len(writers)
    errors: list = [None] * len(writers)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except AssayError as exc:
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


@pytest.fixture
def project(any_engine) -> int:
    with store.write_session(any_engine) as s:
        return store.create_project(s, "Shared").id


def test_two_uploads_with_the_same_name_keep_one_and_tell_the_other(any_engine, project):
    frames = [pd.DataFrame({"who": [name] * 50, "i": range(50)}) for name in ("alice", "bob")]

    def save(frame):
        def go():
            with store.write_session(any_engine) as s:
                return store.save_dataset(s, project, "sales", frame).id
        return go

    results, errors = _together(save(frames[0]), save(frames[1]))
    winners = [i for i, r in enumerate(results) if r is not None]
    assert len(winners) == 1, (results, errors)
    loser = errors[1 - winners[0]]
    assert isinstance(loser, ConflictError)
    assert "already has a dataset named 'sales'" in str(loser) or "nothing was changed" in str(loser)
    with store.read_session(any_engine) as s:
        [dataset] = store.list_datasets(s, project)
        pd.testing.assert_frame_equal(store.read_dataset_frame(s, dataset), frames[winners[0]])


def test_two_recipe_edits_from_the_same_screen_keep_one_and_tell_the_other(any_engine, project):
    with store.write_session(any_engine) as s:
        dataset = store.save_dataset(s, project, "data", pd.DataFrame({"a": [1], "b": [2]})).id
        head = store.save_recipe(s, dataset, {"clean": [{"kind": "drop_columns", "columns": ["a"]}]},
                                 expected_head=None).id

    def edit(column):
        steps = {"clean": [{"kind": "drop_columns", "columns": ["a"]}, {"kind": "drop_columns", "columns": [column]}]}

        def go():
            with store.write_session(any_engine) as s:
                return store.save_recipe(s, dataset, steps, expected_head=head).steps
        return go

    results, errors = _together(edit("b"), edit("c"))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1, errors
    assert isinstance(next(e for e in errors if e is not None), ConflictError)
    with store.read_session(any_engine) as s:
        assert store.head_recipe(s, dataset).steps == winners[0]
        assert s.scalar(sa.select(sa.func.count()).select_from(store.Recipe)) == 2  # v1 + the winner


def test_writing_into_a_project_someone_just_deleted_is_refused(any_engine, project):
    with store.write_session(any_engine) as s:
        dataset = store.save_dataset(s, project, "data", pd.DataFrame({"a": [1]})).id
    with store.write_session(any_engine) as s:  # the other session deletes the project
        store.delete_project(s, project)
    writes = [
        lambda s: store.save_dataset(s, project, "more", pd.DataFrame({"a": [2]})),
        lambda s: store.save_recipe(s, dataset, {"clean": []}, expected_head=None),
        lambda s: store.save_report(s, project, kind="profile", key="k", data={"x": 1}),
        lambda s: store.rename_project(s, project, "Back"),
        lambda s: store.set_roles(s, dataset, {"target": "a"}),
    ]
    for write in writes:
        with pytest.raises(NotFoundError, match="does not exist"):
            with store.write_session(any_engine) as s:
                write(s)
    with store.read_session(any_engine) as s:  # nothing came back half-made
        for table in (store.Project, store.Dataset, store.Recipe, store.Report, store.Blob):
            assert s.scalar(sa.select(sa.func.count()).select_from(table)) == 0, table


def test_two_projects_renamed_to_the_same_name_at_once(any_engine, project):
    with store.write_session(any_engine) as s:
        other = store.create_project(s, "Other").id

    def rename(pid):
        def go():
            with store.write_session(any_engine) as s:
                return store.rename_project(s, pid, "Final").id
        return go

    results, errors = _together(rename(project), rename(other))
    assert sum(r is not None for r in results) == 1, errors
    assert isinstance(next(e for e in errors if e is not None), ConflictError)
    with store.read_session(any_engine) as s:
        assert sorted(p.name for p in store.list_projects(s)) == ["Final", "Other" if results[0] else "Shared"]


def test_two_reports_for_the_same_input_both_land_and_the_newest_is_read(any_engine, project):
    def save(value):
        def go():
            with store.write_session(any_engine) as s:
                return store.save_report(s, project, kind="drift", key="same", data={"v": value}).id
        return go

    results, errors = _together(save(1), save(2))
    assert errors == [None, None]  # reports are added, never overwritten
    with store.read_session(any_engine) as s:
        newest = store.find_report(s, project, "drift", "same")
        assert newest.id == max(results)
        assert sorted(r.id for r in store.list_reports(s, project, "drift")) == sorted(results)
