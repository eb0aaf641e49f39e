"""Every cleaning step kind: JSON round trip, JSON state, no mutation, and to_code equivalence.

``EXAMPLES`` holds at least one configuration per registered cleaning kind (a test
fails when a kind has none), with variants for each strategy, type and action.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pandas as pd
import pytest

from core import jsonutil, store
from core.errors import ValidationError
from core.recipe import FittedRecipe, Recipe
from core.steps import STEPS, FitContext, step_from_dict
from tests.steps.conftest import messy_frame

EXAMPLES: list[tuple[str, dict]] = [
    ("drop", {"kind": "drop_columns", "columns": ["code", "ratio"]}),
    ("rename", {"kind": "rename_columns", "mapping": {"amount": "Amount €", "id": "row id"}}),
    ("cast-number", {"kind": "cast", "columns": ["price_text", "count", "seen"], "to": "number"}),
    ("cast-integer", {"kind": "cast", "columns": ["price_text", "amount"], "to": "integer"}),
    ("cast-boolean", {"kind": "cast", "columns": ["flag"], "to": "boolean"}),
    ("cast-datetime", {"kind": "cast", "columns": ["when"], "to": "datetime"}),
    ("cast-category", {"kind": "cast", "columns": ["name", "count"], "to": "category"}),
    ("cast-text", {"kind": "cast", "columns": ["amount", "city", "seen"], "to": "text"}),
    ("impute-mean", {"kind": "impute", "columns": ["amount", "count"], "strategy": "mean", "add_indicator": True}),
    ("impute-median", {"kind": "impute", "columns": ["amount", "ratio"], "strategy": "median"}),
    ("impute-mode", {"kind": "impute", "columns": ["city", "name", "count"], "strategy": "mode"}),
    ("impute-constant", {"kind": "impute", "columns": ["city", "code"], "strategy": "constant",
                         "fill_value": "unknown"}),
    ("impute-knn", {"kind": "impute", "columns": ["amount", "count", "ratio"], "strategy": "knn",
                    "n_neighbors": 3, "sample_size": 50}),
    ("impute-iterative", {"kind": "impute", "columns": ["amount", "count", "ratio"], "strategy": "iterative",
                          "add_indicator": True}),
    ("drop-missing", {"kind": "drop_missing", "columns": ["amount", "city"]}),
    ("drop-missing-all", {"kind": "drop_missing", "columns": ["amount", "ratio"], "how": "all"}),
    ("dedupe", {"kind": "deduplicate"}),
    ("dedupe-last", {"kind": "deduplicate", "columns": ["id"], "keep": "last"}),
    ("outliers-iqr-flag", {"kind": "outliers", "columns": ["amount", "count"]}),
    ("outliers-z-clip", {"kind": "outliers", "columns": ["amount", "count"], "method": "zscore",
                         "action": "clip", "threshold": 1.5}),
    ("outliers-iqr-remove", {"kind": "outliers", "columns": ["amount"], "action": "remove"}),
    ("outliers-forest", {"kind": "outliers", "columns": ["amount", "ratio"], "method": "isolation_forest",
                         "action": "flag", "threshold": 0.1, "n_estimators": 20, "flag_column": "odd"}),
    ("outliers-forest-remove", {"kind": "outliers", "columns": ["amount", "count"],
                                "method": "isolation_forest", "action": "remove", "n_estimators": 20}),
    ("filter-gt", {"kind": "filter_rows", "column": "amount", "operator": ">", "value": 95}),
    ("filter-between", {"kind": "filter_rows", "column": "seen", "operator": "between",
                        "value": ["2024-02-01", "2024-06-30"]}),
    ("filter-in-drop", {"kind": "filter_rows", "column": "city", "operator": "in", "value": ["Lyon", "Nice"],
                        "keep": False}),
    ("filter-contains", {"kind": "filter_rows", "column": "name", "operator": "contains", "value": "o"}),
    ("filter-missing", {"kind": "filter_rows", "column": "count", "operator": "is not missing"}),
    ("replace", {"kind": "replace_values", "column": "city", "pairs": [["Lyon", "Nice"], ["Nice", "Lyon"],
                                                                       [None, "?"]]}),
    ("replace-numbers", {"kind": "replace_values", "column": "count", "pairs": [[0, None], [5, 50]]}),
    ("replace-text", {"kind": "replace_values", "column": "flag", "pairs": [["maybe", None], ["yes", "Yes"]]}),
    ("merge-rare", {"kind": "merge_rare", "column": "city", "min_share": 0.15}),
    ("merge-rare-text", {"kind": "merge_rare", "column": "code", "min_count": 13, "other": "rest"}),
    ("text", {"kind": "text_cleanup", "columns": ["name", "city"], "case": "lower", "normalize": "NFKC",
              "empty_as_missing": True}),
    ("text-title", {"kind": "text_cleanup", "columns": ["flag"], "case": "title", "collapse_spaces": False}),
    ("dates-detected", {"kind": "parse_dates", "columns": ["when"]}),
    ("dates-format", {"kind": "parse_dates", "columns": ["when"], "format": "%m/%d/%Y"}),
    ("split", {"kind": "split_column", "column": "code", "delimiter": "-", "into": ["letter", "rest"]}),
    ("split-keep", {"kind": "split_column", "column": "city", "delimiter": "a", "into": ["c1", "c2", "c3"],
                    "keep_original": True}),
]
IDS = [name for name, _ in EXAMPLES]
CLEAN_KINDS = sorted(k for k, cls in STEPS.items() if cls.stage == "clean")


def _raw() -> pd.DataFrame:
    """The table as the app holds it: through the store's Parquet snapshot."""
    return store.parquet_to_frame(store.frame_to_parquet(messy_frame()))


def _script_clean(code: str):
    namespace: dict = {"__name__": "exported"}
    exec(compile(code, "exported_script.py", "exec"), namespace)  # noqa: S102 - our own generated code
    modules = {v.__name__ for v in namespace.values() if isinstance(v, types.ModuleType)}
    assert modules == {"json", "sys", "numpy", "pandas"}, "the script must not need Assay"
    return namespace["clean"]


def test_every_cleaning_kind_has_an_example():
    covered = {data["kind"] for _, data in EXAMPLES}
    assert covered == set(CLEAN_KINDS)


@pytest.mark.parametrize("data", [d for _, d in EXAMPLES], ids=IDS)
def test_round_trip_through_json(data):
    step = step_from_dict(data)
    again = step_from_dict(json.loads(json.dumps(step.to_dict())))
    assert again == step and again.to_dict() == step.to_dict()
    assert hash(again) == hash(step)
    assert Recipe.from_json(Recipe(clean=(step,)).to_json()).clean == (step,)


@pytest.mark.parametrize("data", [d for _, d in EXAMPLES], ids=IDS)
def test_to_code_gives_exactly_the_apps_result(data):
    raw = _raw()
    recipe = Recipe(clean=(step_from_dict(data),))
    expected, states = recipe.apply_clean(raw)
    clean = _script_clean(recipe.to_code(states))
    got = clean(_raw())
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert not expected.equals(raw), "the example should change something"


@pytest.mark.parametrize("data", [d for _, d in EXAMPLES], ids=IDS)
def test_state_is_plain_json_and_replays(data):
    raw = _raw()
    step = step_from_dict(data)
    out, state = step.fit_transform(raw, FitContext())
    stored = json.loads(jsonutil.dumps(state))
    assert stored == state, "the state must survive JSON unchanged"
    pd.testing.assert_frame_equal(step.transform(raw, stored), out, check_exact=True)


@pytest.mark.parametrize("data", [d for _, d in EXAMPLES], ids=IDS)
def test_steps_never_change_their_input(data):
    raw = _raw()
    before = raw.copy(deep=True)
    step_from_dict(data).apply(raw)
    pd.testing.assert_frame_equal(raw, before, check_exact=True)


@pytest.mark.parametrize("data", [d for _, d in EXAMPLES], ids=IDS)
def test_scoring_skips_training_only_steps_and_replays_the_rest(data):
    raw = _raw()
    step = step_from_dict(data)
    fitted, _ = Recipe(clean=(step,)).fit(raw)
    new_rows = raw.iloc[::3]
    scored = fitted.transform(new_rows, scoring=True)
    if step.training_only:
        pd.testing.assert_frame_equal(scored, new_rows)
    else:
        pd.testing.assert_frame_equal(scored, step.transform(new_rows, fitted.clean_states[0]), check_exact=True)
    again = FittedRecipe.from_dict(json.loads(jsonutil.dumps(fitted.to_dict())))
    pd.testing.assert_frame_equal(again.transform(new_rows), scored, check_exact=True)


def test_exported_script_runs_on_its_own_and_writes_the_cleaned_table(tmp_path):
    """One recipe with a step of every kind, run as a separate program without Assay."""
    recipe = Recipe.from_dict({"clean": [
        {"kind": "text_cleanup", "columns": ["city", "name"], "case": "lower"},
        {"kind": "split_column", "column": "code", "delimiter": "-", "into": ["letter", "rest"]},
        {"kind": "cast", "columns": ["price_text"], "to": "number"},
        {"kind": "cast", "columns": ["flag"], "to": "boolean"},
        {"kind": "parse_dates", "columns": ["when"]},
        {"kind": "impute", "columns": ["amount", "count", "ratio"], "strategy": "knn", "sample_size": 50},
        {"kind": "impute", "columns": ["city"], "strategy": "mode"},
        {"kind": "outliers", "columns": ["amount"], "method": "isolation_forest", "n_estimators": 10},
        {"kind": "outliers", "columns": ["ratio"], "action": "clip"},
        {"kind": "replace_values", "column": "letter", "pairs": [["A", "alpha"]]},
        {"kind": "merge_rare", "column": "city", "min_share": 0.2},
        {"kind": "filter_rows", "column": "amount", "operator": "<", "value": 500},
        {"kind": "drop_missing", "columns": ["price_text"]},
        {"kind": "deduplicate", "columns": ["id"]},
        {"kind": "rename_columns", "mapping": {"amount": "Amount"}},
        {"kind": "drop_columns", "columns": ["seen"]},
    ]})
    assert {s.kind for s in recipe.clean} == set(CLEAN_KINDS)
    raw_path = tmp_path / "raw.parquet"
    raw_path.write_bytes(store.frame_to_parquet(messy_frame()))
    expected, states = recipe.apply_clean(_raw())
    script = tmp_path / "clean_it.py"
    script.write_text(recipe.to_code(states, source="raw.parquet", title="Messy"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-I", str(script), str(raw_path), str(tmp_path / "out.parquet")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"{len(expected):,} rows x {expected.shape[1]} columns" in result.stdout
    got = pd.read_parquet(tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_exact=True)


def test_the_script_skips_training_only_steps_when_scoring():
    raw = _raw()
    recipe = Recipe.from_dict({"clean": [
        {"kind": "filter_rows", "column": "amount", "operator": ">", "value": 95},
        {"kind": "impute", "columns": ["amount"], "strategy": "median"},
    ]})
    fitted, _ = recipe.fit(raw)
    clean = _script_clean(recipe.to_code(list(fitted.clean_states)))
    pd.testing.assert_frame_equal(clean(raw, scoring=True), fitted.transform(raw, scoring=True), check_exact=True)
    assert len(clean(raw, scoring=True)) == len(raw) > len(clean(raw))


@pytest.mark.parametrize("data", [
    {"kind": "impute", "columns": ["amount"], "strategy": "mean"},
    {"kind": "cast", "columns": ["when"], "to": "datetime"},
    {"kind": "parse_dates", "columns": ["when"]},
    {"kind": "merge_rare", "column": "city"},
    {"kind": "outliers", "columns": ["amount"]},
])
def test_a_learning_step_cannot_be_exported_or_run_without_its_state(data):
    recipe = Recipe(clean=(step_from_dict(data),))
    with pytest.raises(ValidationError, match="must be fitted"):
        recipe.to_code()
    with pytest.raises(ValidationError, match="must be fitted"):
        recipe.clean[0].transform(_raw(), {})


def test_user_text_cannot_escape_the_scripts_comments():
    sneaky = 'x\nimport os; os.system("echo pwned")\n"""'
    raw = pd.DataFrame({sneaky: [1, 2]})
    recipe = Recipe.from_dict({"clean": [{"kind": "rename_columns", "mapping": {sneaky: "y"}}]})
    code = recipe.script(raw, title=sneaky)
    assert "\nimport os" not in code
    clean = _script_clean(code)
    assert clean(raw).columns.tolist() == ["y"]
