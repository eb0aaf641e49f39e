"""`assay profile`: the same profile as the page, as text, JSON or the full HTML report."""

from __future__ import annotations

import json

import sqlalchemy as sa

from core import store
from core.cli import main
from tests.conftest import dataset_path


def _reports(kind: str) -> int:
    with store.read_session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(store.Report).where(store.Report.kind == kind))


def test_a_file_with_a_target_names_the_leak(tmp_path, capsys):
    out = tmp_path / "bikes.json"
    assert main(["profile", str(dataset_path("bikeshare.csv")), "--target", "bikers", "--json", str(out)]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0] == "bikeshare.csv: 8,645 rows x 15 columns, 3 alert(s)"
    assert text[1].startswith("  [critical] casual: 'bikers' is exactly 'casual' + 'registered'")
    data = json.loads(out.read_text())
    assert (data["format"], data["rows"], data["target"]["column"]) == ("assay.profile", 8645, "bikers")
    assert {a["column"] for a in data["alerts"] if a["kind"] == "suspected_leakage"} == {"casual", "registered"}
    assert data["correlations"]["pairs"][0] == {"a": "mnth", "b": "day", "method": "correlation_ratio",
                                                "value": data["correlations"]["pairs"][0]["value"]}
    assert _reports("profile") == 0  # a file is profiled, not stored


def test_a_dataset_profile_is_stored_once_and_json_goes_to_stdout(capsys):
    assert main(["import", str(dataset_path("diamonds.csv")), "--project", "Gems", "--target", "price"]) == 0
    capsys.readouterr()
    assert main(["profile", "Gems/diamonds", "--json", "-"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["target"]["column"] == "price" and first["duplicate_rows"] == 146
    assert not [a for a in first["alerts"] if a["kind"] == "suspected_leakage"]
    assert main(["profile", "diamonds", "--project", "Gems", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == first and _reports("profile") == 1
    assert main(["profile", "Gems/diamonds", "--target", "carat"]) == 0
    assert _reports("profile") == 2 and "diamonds: 53,940 rows x 10 columns" in capsys.readouterr().out


def test_mistakes_print_one_line_and_exit_2(tmp_path, capsys):
    assert main(["profile", str(dataset_path("penguins.csv")), "--target", "wings"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The target column 'wings' is not in the table.") and err.count("\n") == 1
    assert main(["profile", "Nope/data"]) == 2
    assert "There is no project named 'Nope'" in capsys.readouterr().err
    assert main(["profile", str(dataset_path("penguins.csv")), "--json", str(tmp_path / "no" / "dir.json")]) == 2
    assert "Cannot write" in capsys.readouterr().err


def test_html_writes_the_hardened_report_and_reuses_it_for_a_dataset(tmp_path, capsys):
    assert main(["import", str(dataset_path("penguins.csv")), "--project", "Birds", "--target", "species"]) == 0
    first, again = tmp_path / "a.html", tmp_path / "b.html"
    assert main(["profile", "Birds/penguins", "--html", str(first)]) == 0
    assert "Making the full ydata-profiling report" in capsys.readouterr().err
    assert main(["profile", "Birds/penguins", "--html", str(again)]) == 0
    assert "Making the full" not in capsys.readouterr().err
    html = first.read_text()
    assert html == again.read_text() and "Content-Security-Policy" in html and "flipper_length_mm" in html
    assert _reports("ydata_report") == 1
