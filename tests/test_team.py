"""Team mode: owners and members; every user sees and opens only their projects."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core import store
from core.cli import main
from core.errors import ConflictError, NotFoundError


def test_users_see_only_their_own_and_shared_projects(any_engine):
    with store.write_session(any_engine) as s:
        alice = store.create_project(s, "Alice's churn", owner="alice@example.com").id
        bob = store.create_project(s, "Bob's prices", owner="bob@example.com").id
        store.create_project(s, "Legacy")  # made before sign-in was on: nobody's
    with store.read_session(any_engine) as s:
        assert [p.name for p in store.list_projects(s, "alice@example.com")] == ["Alice's churn"]
        assert [p.name for p in store.list_projects(s, "bob@example.com")] == ["Bob's prices"]
        assert len(store.list_projects(s)) == 3  # authentication off: everything
        with pytest.raises(NotFoundError):
            store.get_project(s, bob, "alice@example.com")
        assert store.last_opened_project(s, "alice@example.com").id == alice
    with store.write_session(any_engine) as s:
        store.add_member(s, bob, "alice@example.com", by="bob@example.com")
    with store.read_session(any_engine) as s:
        assert [p.name for p in store.list_projects(s, "alice@example.com")] == ["Alice's churn", "Bob's prices"]
        assert store.get_project(s, bob, "alice@example.com").owner == "bob@example.com"


def test_only_the_owner_renames_deletes_or_shares(any_engine):
    with store.write_session(any_engine) as s:
        p = store.create_project(s, "Shared", owner="bob").id
        store.add_member(s, p, "alice", by="bob")
        store.save_dataset(s, p, "data", pd.DataFrame({"a": [1]}))
    for action in (
        lambda s: store.delete_project(s, p, by="alice"),
        lambda s: store.rename_project(s, p, "Mine now", by="alice"),
        lambda s: store.add_member(s, p, "mallory", by="alice"),
    ):
        with pytest.raises(ConflictError, match="Only the project's owner"):
            with store.write_session(any_engine) as s:
                action(s)
    with pytest.raises(NotFoundError):
        with store.write_session(any_engine) as s:
            store.delete_project(s, p, by="mallory")
    with store.read_session(any_engine) as s:
        project = store.get_project(s, p)
        assert project.name == "Shared" and [m.user for m in project.members] == ["alice"]
        assert len(store.list_datasets(s, p)) == 1
    with store.write_session(any_engine) as s:
        store.remove_member(s, p, "alice", by="bob")
    with store.read_session(any_engine) as s:
        assert store.list_projects(s, "alice") == []


def test_the_cli_follows_the_same_rules(monkeypatch, capsys, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n")
    monkeypatch.setenv("ASSAY_AUTH", "header")
    assert main(["projects"]) == 2
    assert "Set ASSAY_USER" in capsys.readouterr().err
    monkeypatch.setenv("ASSAY_USER", "alice")
    assert main(["import", str(data), "--project", "Alice only"]) == 0
    monkeypatch.setenv("ASSAY_USER", "bob")
    assert main(["projects", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == []
    assert main(["datasets", "--project", "Alice only"]) == 2
    assert "There is no project named 'Alice only'" in capsys.readouterr().err
    assert main(["export-project", "Alice only", "--out", str(tmp_path / "x.assay")]) == 2
    monkeypatch.setenv("ASSAY_USER", "alice")
    assert main(["projects", "--json"]) == 0
    assert [p["name"] for p in json.loads(capsys.readouterr().out)] == ["Alice only"]
