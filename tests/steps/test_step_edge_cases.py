"""Edge cases the recipe property test (tests/robustness/test_recipe_properties.py) found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ValidationError
from core.recipe import Recipe
from core.steps import step_from_dict


def _clean(frame: pd.DataFrame, *steps: dict) -> pd.DataFrame:
    return Recipe(clean=tuple(step_from_dict(s) for s in steps)).apply_clean(frame)[0]


def test_merge_rare_on_integer_codes_gives_other():
    frame = pd.DataFrame({"code": pd.array([1, 1, 1, 2, None], dtype="Int64")})
    out = _clean(frame, {"kind": "merge_rare", "column": "code", "min_share": 0.5})
    assert out["code"].tolist()[:4] == [1, 1, 1, "Other"] and pd.isna(out["code"].iloc[4])


def test_merge_rare_on_booleans_gives_other():
    frame = pd.DataFrame({"flag": pd.array([True, True, True, False], dtype="boolean")})
    out = _clean(frame, {"kind": "merge_rare", "column": "flag", "min_share": 0.5, "other": "rest"})
    assert out["flag"].tolist() == [True, True, True, "rest"]


@pytest.mark.parametrize("step", [{"kind": "parse_dates", "columns": ["t"]},
                                  {"kind": "cast", "columns": ["t"], "to": "datetime"}])
def test_seconds_out_of_range_become_missing_dates(step):
    frame = pd.DataFrame({"t": [0.0, np.inf, 1e308, -np.inf, 86400.0, np.nan]})
    out = _clean(frame, step)["t"]
    assert out.iloc[0] == pd.Timestamp("1970-01-01") and out.iloc[4] == pd.Timestamp("1970-01-02")
    assert out.isna().tolist() == [False, True, True, True, False, True]


def test_a_fill_value_of_the_wrong_type_is_named():
    frame = pd.DataFrame({"ok": pd.array([True, None], dtype="boolean")})
    with pytest.raises(ValidationError, match="the fill value 'soon' cannot go in 'ok', which holds boolean values"):
        _clean(frame, {"kind": "impute", "columns": ["ok"], "strategy": "constant", "fill_value": "soon"})


def test_a_replacement_of_the_wrong_type_is_named():
    frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64")})
    with pytest.raises(ValidationError, match="'x' cannot go in 'n', which holds Int64 values"):
        _clean(frame, {"kind": "replace_values", "column": "n", "pairs": [[None, "x"]]})
    assert _clean(frame, {"kind": "replace_values", "column": "n", "pairs": [[None, 7]]})["n"].tolist() == [1, 7]


@pytest.mark.parametrize("step, message", [
    ({"kind": "replace_values", "column": "d", "pairs": [["2024-01-01", "1,5"]]},
     "'1,5' is read as 0001-01-05, outside the dates a column can hold"),
    ({"kind": "filter_rows", "column": "d", "operator": ">", "value": "1,5"}, "'1,5' is not a date"),
])
def test_a_text_that_reads_as_an_impossible_date_is_named(step, message):
    frame = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    with pytest.raises(ValidationError, match=message):
        _clean(frame, step)


def test_mean_and_median_fills_ignore_infinite_values():
    frame = pd.DataFrame({"x": [1.0, np.inf, None, 3.0, -np.inf]})
    for strategy in ("mean", "median"):
        out = _clean(frame, {"kind": "impute", "columns": ["x"], "strategy": strategy})
        assert out["x"].iloc[2] == 2.0
    with pytest.raises(ValidationError, match="'x' has no finite values to learn a mean from"):
        _clean(pd.DataFrame({"x": [np.inf, None]}), {"kind": "impute", "columns": ["x"], "strategy": "mean"})
