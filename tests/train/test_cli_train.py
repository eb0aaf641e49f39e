"""`assay train` and `assay predict`: the leaderboard, a JSON last line, bundles that score files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core import store
from core.cli import main
from core.train import job as training
from tests.conftest import dataset_path


def test_train_a_file_write_a_bundle_and_score_a_file_with_it(tmp_path, capsys):
    bundle = tmp_path / "model.zip"
    code = main(["train", str(dataset_path("penguins.csv")), "--target", "species", "--time-budget", "4",
                 "--threads", "1", "--seed", "2", "--out", str(bundle)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    result = json.loads(out[-1])
    assert result["metric"] == "log_loss" and result["task"] == "multiclass" and result["run_id"] is None
    assert result["holdout"] < result["holdout_baseline"]
    assert out[0].startswith("Leaderboard (log loss, ") and " Rank " in out[1]
    assert any("chosen" in line for line in out[2:-1])

    rows = pd.read_csv(dataset_path("penguins.csv")).drop(columns=["species"]).head(30)
    new = tmp_path / "new.csv"
    rows.to_csv(new, index=False)
    preds = tmp_path / "scores.csv"
    assert main(["predict", str(bundle), str(new), "--out", str(preds)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["rows"] == 30 and summary["columns"][0] == "prediction"
    scored = pd.read_csv(preds)
    assert list(scored.columns[:len(rows.columns)]) == list(rows.columns)
    proba = scored[["proba:Adelie", "proba:Chinstrap", "proba:Gentoo"]]
    assert (proba.sum(axis=1) - 1).abs().max() < 1e-6
    assert set(scored["prediction"]) <= {"Adelie", "Chinstrap", "Gentoo"}


def test_train_a_stored_dataset_keeps_the_run_in_the_project(capsys):
    assert main(["import", str(dataset_path("credit_scoring.csv")), "--project", "Bank", "--target", "Status"]) == 0
    capsys.readouterr()
    assert main(["train", "Bank/credit_scoring", "--time-budget", "4", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["metric"] == "roc_auc" and result["holdout"] > 0.7
    with store.read_session() as s:
        run = training.get_run(s, result["run_id"])
        assert run.status == "done" and run.target == "Status"
        assert training.chosen_model(s, run.id) is not None


@pytest.mark.parametrize("argv, message", [
    (["--time-budget", "0"], "error: The time budget must be more than 0 seconds. Got 0.0 instead."),
    (["--target", "nope"], "error: The target column 'nope' is not in the data"),
    (["--metric", "rmse"], "error: The 'metric' parameter of training must be one of ['log_loss', 'accuracy', 'macro_f1']"),
])
def test_mistakes_print_one_line_and_exit_2(argv, message, capsys):
    args = ["train", str(dataset_path("penguins.csv")), "--target", "species", "--time-budget", "3", *argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(message), err


def test_predict_refuses_a_file_that_is_not_a_bundle(tmp_path, capsys):
    fake = tmp_path / "model.zip"
    fake.write_bytes(b"PK not really")
    assert main(["predict", str(fake), str(dataset_path("penguins.csv")), "--out", str(tmp_path / "p.csv")]) == 2
    assert "not an Assay model bundle" in capsys.readouterr().err
