"""Exported feature code: runs without Assay and gives exactly Assay's columns."""

from __future__ import annotations

import ast
import subprocess
import sys

import pandas as pd

from core.feature_code import transformer_code
from core.recipe import Recipe
from core.steps import FitContext
from tests.test_feature_steps import EVERY_KIND, RICH_KINDS, _rich_frame

DRIVER = """
import sys
df = pd.read_parquet(sys.argv[1])
out = AssayFeatures().fit(df).transform(df)
out.to_parquet(sys.argv[2])
"""


def _run(code: str, frame: pd.DataFrame, tmp_path) -> pd.DataFrame:
    (tmp_path / "features.py").write_text(code + DRIVER)
    frame.to_parquet(tmp_path / "in.parquet")
    done = subprocess.run([sys.executable, "-I", "features.py", "in.parquet", "out.parquet"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return pd.read_parquet(tmp_path / "out.parquet")


def test_exported_transformer_reproduces_every_kind_of_step(tmp_path):
    frame = _rich_frame()
    train, new_rows = frame.iloc[:180], frame.iloc[180:].drop(columns="y")
    fitted, _ = Recipe.from_dict({"features": EVERY_KIND}).fit(
        train, FitContext(target="y", time="when", kinds=RICH_KINDS, seed=1))
    code = transformer_code(fitted.recipe.features, fitted.feature_states)
    imports = {n.names[0].name.split(".")[0] for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Import)}
    imports |= {n.module.split(".")[0] for n in ast.walk(ast.parse(code)) if isinstance(n, ast.ImportFrom)}
    assert imports == {"json", "numpy", "pandas", "sklearn", "warnings"}  # runs without Assay
    assert "class AssayFeatures(TransformerMixin, BaseEstimator)" in code
    pd.testing.assert_frame_equal(_run(code, new_rows, tmp_path), fitted.transform(new_rows))


def test_hostile_column_names_and_formulas_stay_data(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"x'] + __import__('os').system('touch {marker}') + df['\n__import__('os').system('touch {marker}')"
    frame = pd.DataFrame({evil: [1.0, 2.0, 3.0, 4.0], "cat\n#": ["a", "b", "a", None], "y": [0.0, 1.0, 0.0, 1.0]})
    steps = [{"kind": "standardize", "columns": [evil]},
             {"kind": "formula", "name": "f\nimport os", "expression": f"`{evil}` * 2"},
             {"kind": "one_hot", "columns": ["cat\n#"]}]
    fitted, _ = Recipe.from_dict({"features": steps}).fit(frame, FitContext(target="y"))
    code = transformer_code(fitted.recipe.features, fitted.feature_states)
    ast.parse(code)
    out = _run(code, frame.drop(columns="y"), tmp_path)
    pd.testing.assert_frame_equal(out, fitted.transform(frame.drop(columns="y")))
    assert not marker.exists()


def test_the_recipe_script_cleans_then_adds_the_features(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "drop_me": [1, 2, 3], "c": ["x", "y", "x"], "y": [0, 1, 0]})
    recipe = Recipe.from_dict({"clean": [{"kind": "drop_columns", "columns": ["drop_me"]}],
                               "features": [{"kind": "standardize", "columns": ["a"]},
                                            {"kind": "one_hot", "columns": ["c"]}]})
    fitted, _ = recipe.fit(frame, FitContext(target="y"))
    frame.to_parquet(tmp_path / "data.parquet")
    code = recipe.to_code(fitted.clean_states, feature_states=fitted.feature_states)
    assert "class AssayFeatures(TransformerMixin, BaseEstimator)" in code
    (tmp_path / "run.py").write_text(code)
    done = subprocess.run([sys.executable, "-I", "run.py", "data.parquet", "out.parquet"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    expected = fitted.transform(frame, scoring=False).reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected)
