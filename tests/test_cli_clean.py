"""`assay clean`: the stored recipe, a hand-written one, exports, and one-line errors."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core import export, store
from core.cli import main
from core.recipe import Recipe
from tests.conftest import dataset_path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_recipe() -> dict:
    """The example recipe in the README (so the documentation cannot go stale)."""
    section = README.read_text().split("## Cleaning recipes", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


@pytest.fixture
def penguins(capsys) -> int:
    assert main(["import", str(dataset_path("penguins.csv")), "--project", "Birds", "--target", "species"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])["id"]


def test_the_readme_recipe_is_valid_and_cleans_a_file(tmp_path, capsys):
    recipe_file = tmp_path / "recipe.json"
    recipe_file.write_text(json.dumps(readme_recipe()))
    out = tmp_path / "cleaned.csv"
    assert main(["clean", str(dataset_path("penguins.csv")), "--recipe", str(recipe_file), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    cleaned = pd.read_csv(out)
    assert summary == {"rows_in": 344, "rows_out": len(cleaned), "columns": 9, "steps": 6, "out": str(out)}
    assert "bill_length" in cleaned.columns and "sex_missing" in cleaned.columns
    assert cleaned["bill_length"].notna().all() and set(cleaned["sex"]) == {"male", "female"}
    assert cleaned["body_mass_g"].between(2500, 6500).all()


def test_a_dataset_with_its_stored_recipe_gives_the_apps_table(penguins, tmp_path, capsys):
    recipe = Recipe.from_dict(readme_recipe())
    with store.write_session() as s:
        store.save_recipe(s, penguins, recipe.to_dict(), expected_head=None)
        expected = recipe.apply_clean(store.read_dataset_frame(s, store.get_dataset(s, penguins)))[0]
    out, script, raw = tmp_path / "out.parquet", tmp_path / "clean.py", tmp_path / "raw.parquet"
    assert main(["clean", "Birds/penguins", "--out", str(out), "--script", str(script), "--snapshot", str(raw)]) == 0
    got = pd.read_parquet(out)
    pd.testing.assert_frame_equal(got, pd.read_parquet(io.BytesIO(export.to_bytes(expected, "parquet"))),
                                  check_exact=True)
    # the exported script, run on the snapshot, writes the same table
    again = tmp_path / "again.parquet"
    run = subprocess.run([sys.executable, "-I", str(script), str(raw), str(again)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(again), got, check_exact=True)


def test_a_recipe_exported_from_the_page_works_unchanged(penguins, tmp_path):
    exported = Recipe.from_dict({"clean": [{"kind": "drop_columns", "columns": ["year"]}]}).to_json()
    (tmp_path / "r.json").write_text(exported)
    assert main(["clean", "penguins", "--project", "Birds", "--recipe", str(tmp_path / "r.json"),
                 "--out", str(tmp_path / "o.xlsx")]) == 0
    assert "year" not in pd.read_excel(tmp_path / "o.xlsx").columns


@pytest.mark.parametrize("recipe, message", [
    ({"clean": [{"kind": "drop_columns", "columns": ["year"]}, {"kind": "impute", "columns": ["year"]}]},
     "error: Clean step 2 (Fill missing 'year' with median) uses the column 'year', which is not in the data"),
    ({"clean": [{"kind": "impute", "columns": ["island"], "strategy": "avg"}]},
     "error: Clean step 1: The 'strategy' parameter of Impute must be one of"),
    ({"clean": [{"kind": "cast", "columns": ["year"], "to": "number", "errors": "ignore"}]},
     "error: Clean step 1: Cast has no parameter 'errors'."),
])
def test_bad_recipes_print_one_line_naming_the_step(recipe, message, tmp_path, capsys):
    (tmp_path / "r.json").write_text(json.dumps(recipe))
    out = tmp_path / "o.parquet"
    assert main(["clean", str(dataset_path("penguins.csv")), "--recipe", str(tmp_path / "r.json"),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_a_file_needs_a_recipe_and_the_output_needs_a_known_format(tmp_path, capsys):
    assert main(["clean", str(dataset_path("penguins.csv")), "--out", str(tmp_path / "o.parquet")]) == 2
    assert "Give one with --recipe" in capsys.readouterr().err
    (tmp_path / "r.json").write_text('{"clean": []}')
    assert main(["clean", str(dataset_path("penguins.csv")), "--recipe", str(tmp_path / "r.json"),
                 "--out", str(tmp_path / "o.txt")]) == 2
    assert "End the file name with .csv, .parquet or .xlsx" in capsys.readouterr().err
