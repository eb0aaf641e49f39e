"""Every earlier schema version upgrades to the current one at start-up, data intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect

from core import migrations, store

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("store_*.sqlite"))


def test_there_is_a_fixture_for_every_schema_version_but_the_newest():
    versions = {p.stem.split("_")[1] for p in FIXTURES}
    all_revisions = {r for r in migrations.known_revisions() if r}
    assert versions == all_revisions - {migrations.head_revision()}, (
        "add a fixture with tools/make_fixture_db.py for the schema you just replaced")


@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_an_old_store_is_migrated_at_start_up_and_keeps_its_data(fixture, tmp_path):
    path = tmp_path / fixture.name
    shutil.copy(fixture, path)
    engine = store.init_store(f"sqlite:///{path}")
    assert migrations.current_revision(engine) == migrations.head_revision()
    with store.read_session(engine) as s:
        project = store.list_projects(s)[0]
        assert (project.name, project.owner, project.members) == ("Weather", None, [])
        dataset = store.list_datasets(s, project.id)[0]
        assert dataset.roles == {"target": "rainy"}
        frame = store.read_dataset_frame(s, dataset)
        assert frame["city"].tolist() == ["Oslo", "Rome", "Lima"]
        if fixture.stem >= "store_0002":
            assert store.head_recipe(s, dataset.id).note == "drop temp"
            run = s.get(store.Run, 1)
            assert (run.seed, run.metrics) == (7, {"holdout": 0.75})
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert "project_member" in inspect(conn).get_table_names()
    store.dispose_engines()
