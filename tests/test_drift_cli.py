"""`assay drift`: exit codes that can gate a pipeline, JSON/HTML output, stored reports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import store
from core.cli import main
from tests.conftest import dataset_path


@pytest.fixture
def halves(tmp_path):
    frame = pd.read_csv(dataset_path("diamonds.csv"))
    order = np.random.default_rng(0).permutation(len(frame))
    ref, cur = frame.iloc[order[:20_000]], frame.iloc[order[20_000:40_000]].copy()
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "same.csv", index=False)
    shifted = cur.copy()
    shifted["carat"] = shifted["carat"] * 1.3
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    warned = cur.copy()
    warned.loc[warned.sample(frac=0.01, random_state=0).index, "cut"] = "Astor"
    warned.to_csv(tmp_path / "warned.csv", index=False)
    return tmp_path


def test_no_drift_exits_0_and_writes_json(halves, capsys):
    out = halves / "report.json"
    assert main(["drift", str(halves / "ref.csv"), str(halves / "same.csv"), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["status"] == "stable" and data["reference"] == {"name": "ref.csv", "rows": 20_000, "columns": 10}
    assert capsys.readouterr().out.startswith("No drift: none of the 10 compared columns changed materially")


def test_drift_exits_1_and_says_where(halves, capsys):
    out, page = halves / "report.json", halves / "report.html"
    code = main(["drift", str(halves / "ref.csv"), str(halves / "shifted.csv"), "--out", str(out), "--html", str(page)])
    assert code == 1
    assert json.loads(out.read_text())["drifted"] == ["carat"]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Drift: 1 of 10 columns drifted (carat).")
    assert lines[1].startswith("  drift    carat: median ")
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_warnings_pass_unless_asked_to_fail(halves, capsys):
    args = ["drift", str(halves / "ref.csv"), str(halves / "warned.csv")]
    assert main(args) == 0
    assert "1 new category ('Astor'; 1.0% of current rows)" in capsys.readouterr().out
    assert main([*args, "--fail-on", "warning"]) == 1


def test_a_time_slice_of_a_saved_dataset_is_stored_once(capsys):
    assert main(["import", str(dataset_path("bikeshare.csv")), "--project", "Bikes"]) == 0
    capsys.readouterr()
    args = ["drift", "Bikes/bikeshare", "--cut", "day=182", "--save"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert out.startswith("Drift: ") and "mnth" in out.splitlines()[0]
    assert main(args) == 1
    with store.read_session() as s:
        project = store.list_projects(s)[0]
        [report] = store.list_reports(s, project.id, kind="drift")
        assert report.title == "bikeshare before 182 → bikeshare from 182"
        data = store.get_report(s, report.id).data
    assert "day" not in [c["name"] for c in data["columns"]]  # the column the slice was cut on
    assert data["reference"]["rows"] + data["current"]["rows"] == 8645


@pytest.mark.parametrize("args, message", [
    (["drift", "REF"], "error: Give either CURRENT or --cut COLUMN=VALUE (not both, not neither)."),
    (["drift", "REF", "CUR", "--cut", "a=1"], "error: Give either CURRENT or --cut COLUMN=VALUE"),
    (["drift", "REF", "--cut", "day"], "error: --cut 'day' is not COLUMN=VALUE."),
    (["drift", "REF", "--cut", "day=9999"], "error: No rows from 9999.0 in 'day': it runs from 1 to 365."),
    (["drift", "REF", "REF", "--save"], "error: --save needs a project"),
    (["drift", "nowhere.csv", "REF"], "error: 'nowhere.csv' is neither a file nor a dataset."),
])
def test_user_errors_exit_2_with_one_line(args, message, capsys, tmp_path):
    ref = tmp_path / "bikes.csv"
    ref.write_bytes(dataset_path("bikeshare.csv").read_bytes())
    args = [str(ref) if a == "REF" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_with_a_model_bundle_against_its_training_rows(tmp_path, capsys):
    from tests.test_drift_model import tiny_bundle

    frame = pd.read_csv(dataset_path("diamonds.csv")).sample(frac=1.0, random_state=0)  # the file is sorted
    bundle = tiny_bundle(frame.iloc[:3000], "price", "regression")
    (tmp_path / "model.zip").write_bytes(bundle.to_bytes())
    same, bigger = frame.iloc[3000:6000].copy(), frame.iloc[3000:6000].copy()
    bigger["carat"] = bigger["carat"] * 1.5
    same.to_csv(tmp_path / "same.csv", index=False)
    bigger.to_csv(tmp_path / "bigger.csv", index=False)
    out = tmp_path / "report.json"
    code = main(["drift", "@model", str(tmp_path / "bigger.csv"), "--model", str(tmp_path / "model.zip"),
                 "--out", str(out)])
    assert code == 1
    data = json.loads(out.read_text())
    assert data["reference"]["name"] == "the model's training rows" and data["model"]["status"] == "drift"
    printed = capsys.readouterr().out
    assert "  model    Predictions (3,000 reference and 3,000 current rows scored): " in printed
    assert "  model    Performance: drift: RMSE " in printed
    assert main(["drift", "@model", str(tmp_path / "same.csv"), "--model", str(tmp_path / "model.zip")]) == 0
    assert "The model's predictions look the same." in capsys.readouterr().out
    assert main(["drift", "@model", str(tmp_path / "bigger.csv")]) == 2
    assert "give the model with --model BUNDLE" in capsys.readouterr().err
    assert main(["drift", "@model", "x.csv", "--model", "P/abc"]) == 2
    assert "--model 'P/abc' is neither a bundle file nor PROJECT/MODEL_ID." in capsys.readouterr().err
