"""The `assay` command: same functions as the pages; one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from core import store
from core.cli import main
from tests.conftest import dataset_path


def test_import_creates_the_project_and_lists_it(tmp_path, capsys):
    assert main(["import", str(dataset_path("penguins.csv")), "--project", "Birds", "--target", "species"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary == {"project": "Birds", "dataset": "penguins", "id": summary["id"], "rows": 344, "columns": 8}
    assert main(["import", str(dataset_path("penguins.csv")), "--project", "Birds"]) == 0
    assert json.loads(capsys.readouterr().out.strip())["dataset"] == "penguins (2)"
    assert main(["projects", "--json"]) == 0
    projects = json.loads(capsys.readouterr().out)
    assert [(p["name"], p["datasets"]) for p in projects] == [("Birds", 2)]
    with store.read_session() as s:
        dataset = store.list_datasets(s, projects[0]["id"])[0]
        assert dataset.roles == {"target": "species"}
        assert dataset.schema["columns"]["species"]["kind"] == "categorical"


def test_user_errors_print_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "ragged.csv"
    bad.write_text("a,b\n1,2\n3\n")
    assert main(["import", str(bad), "--project", "P"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Line 3 of 'ragged.csv' has 1 fields") and err.count("\n") == 1
    assert main(["import", str(tmp_path / "missing.csv"), "--project", "P"]) == 2
    assert "There is no file at" in capsys.readouterr().err
    assert main(["datasets", "--project", "Nope"]) == 2
    assert "There is no project named 'Nope'" in capsys.readouterr().err
    with store.read_session() as s:  # the failed imports left nothing behind
        assert store.list_projects(s) == []


def test_the_installed_command_shows_no_traceback(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "core.cli", "import", str(bad), "--project", "../x"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: 'empty.csv' is empty. Choose a file that contains a table."


def test_seed_demo_fills_an_empty_store_once(capsys):
    assert main(["seed-demo"]) == 0
    assert main(["seed-demo"]) == 0
    with store.read_session() as s:
        projects = store.list_projects(s)
        assert [p.name for p in projects] == ["Demo"]
        assert [d.name for d in store.list_datasets(s, projects[0].id)] == ["Palmer penguins", "Credit scoring"]


def test_export_import_and_backup_commands(tmp_path, capsys):
    assert main(["import", str(dataset_path("penguins.csv")), "--project", "Birds"]) == 0
    out = tmp_path / "birds.assay"
    assert main(["export-project", "Birds", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["file"] == str(out)
    assert main(["import-project", str(out)]) == 0
    assert json.loads(capsys.readouterr().out.strip()) == {"project": "Birds (2)", "id": 2, "datasets": 1}
    assert main(["backup", str(tmp_path / "b.db")]) == 0
    assert (tmp_path / "b.db").stat().st_size > 0
    (tmp_path / "fake.assay").write_text("hello")
    assert main(["import-project", str(tmp_path / "fake.assay")]) == 2
    assert "not an SQLite database" in capsys.readouterr().err
