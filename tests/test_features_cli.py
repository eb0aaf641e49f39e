"""`assay features`: the CLI fits the same feature steps as the page and writes the model's input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from core import datasets, ingest, store
from core.cli import main
from core.recipe import FittedRecipe, Recipe
from tests.conftest import dataset_path

RECIPE = {"format": "assay.recipe", "version": 1, "clean": [{"kind": "drop_columns", "columns": ["Records"]}],
          "features": [{"kind": "target_encode", "columns": ["Job", "Home"]},
                       {"kind": "formula", "name": "debt_share", "expression": "where(Income > 0, Debt / Income, 0)"}]}


def test_a_file_with_a_recipe_and_a_target(tmp_path, capsys):
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps(RECIPE))
    out, fitted, script = tmp_path / "input.parquet", tmp_path / "fitted.json", tmp_path / "features.py"
    assert main(["features", str(dataset_path("credit_scoring.csv")), "--recipe", str(recipe), "--target", "Status",
                 "--out", str(out), "--fitted", str(fitted), "--script", str(script)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows_out"] == 4454 and summary["feature_steps"] == 2
    table = pd.read_parquet(out)
    assert {"Job_te", "Home_te", "debt_share"} <= set(table.columns) and "Records" not in table.columns

    # the fitted recipe scores new rows; the script (no Assay) gives the same columns
    replay = FittedRecipe.from_dict(json.loads(fitted.read_text()))
    raw = pd.read_csv(dataset_path("credit_scoring.csv")).drop(columns="Status")
    raw.to_parquet(tmp_path / "raw.parquet")
    done = subprocess.run([sys.executable, "-I", str(script), "raw.parquet", "scored.parquet"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = replay.transform(store.parquet_to_frame(store.frame_to_parquet(raw)), scoring=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "scored.parquet"), expected.reset_index(drop=True),
                                  check_dtype=False)


def test_a_stored_dataset_uses_its_recipe_and_roles(tmp_path, capsys):
    with store.write_session() as s:
        project = store.create_project(s, "Credit")
        dataset = datasets.save_loaded(s, project.id, "credit", ingest.load(dataset_path("credit_scoring.csv")),
                                       {"target": "Status"})
        store.save_recipe(s, dataset.id, Recipe.from_dict(RECIPE).to_dict(), note="by hand")
    out = tmp_path / "input.csv"
    assert main(["features", "Credit/credit", "--out", str(out)]) == 0
    assert {"Job_te", "debt_share"} <= set(pd.read_csv(out).columns)


def test_a_recipe_needing_a_target_says_how_to_give_one(tmp_path, capsys):
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps(RECIPE))
    assert main(["features", str(dataset_path("credit_scoring.csv")), "--recipe", str(recipe),
                 "--out", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert "Target encoding needs a target" in err and "--target" in err
    assert not (tmp_path / "x.parquet").exists()
    assert main(["features", str(dataset_path("credit_scoring.csv")), "--recipe", str(recipe), "--target", "nope",
                 "--out", str(tmp_path / "x.parquet")]) == 2
    assert "The target column 'nope' is not in the table" in capsys.readouterr().err
