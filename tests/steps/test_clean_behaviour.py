"""What each cleaning step does to values, and what it refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ValidationError
from core.recipe import Recipe
from core.steps import FitContext, step_from_dict
from core.steps.codegen import KERNELS

CTX = FitContext()


def run(data: dict, frame: pd.DataFrame) -> pd.DataFrame:
    return step_from_dict(data).apply(frame, CTX)


# --------------------------------------------------------------------------- casts


def test_cast_to_number_reads_spaced_and_underscored_numbers(messy):
    out = run({"kind": "cast", "columns": ["price_text"], "to": "number"}, messy)
    assert out["price_text"].dtype == "float64"
    assert out["price_text"].head(6).tolist()[:3] == [1000.0, 2.5, pytest.approx(np.nan, nan_ok=True)]
    assert out["price_text"].iloc[4] == 1250.0 and out["price_text"].iloc[5] == 7.0


def test_cast_to_integer_refuses_fractions_and_keeps_a_stable_type():
    frame = pd.DataFrame({"a": [1.0, 2.5, None, 4.0], "b": ["7", "8", "x", "9"]})
    out = run({"kind": "cast", "columns": ["a", "b"], "to": "integer"}, frame)
    assert out["a"].dtype == "Int64" and out["a"].tolist() == [1, pd.NA, pd.NA, 4]
    assert out["b"].tolist() == [7, 8, pd.NA, 9]
    whole = run({"kind": "cast", "columns": ["a"], "to": "integer"}, frame.iloc[[0, 3]])
    assert whole["a"].dtype == "Int64", "the type must not depend on whether this batch has gaps"


def test_cast_to_boolean_reads_the_usual_words(messy):
    out = run({"kind": "cast", "columns": ["flag"], "to": "boolean"}, messy)
    assert out["flag"].dtype == "boolean"
    assert out["flag"].head(8).tolist() == [True, False, True, pd.NA, pd.NA, False, True, True]


def test_cast_to_datetime_detects_the_day_first_format_and_stores_it(messy):
    step = step_from_dict({"kind": "cast", "columns": ["when"], "to": "datetime"})
    out, state = step.fit_transform(messy, CTX)
    assert state == {"formats": {"when": ["%d/%m/%Y", False]}}
    assert out["when"].iloc[0] == pd.Timestamp("2024-01-31") and pd.isna(out["when"].iloc[3])
    # new rows that would also read month-first are read with the learned format
    new = pd.DataFrame({"when": ["02/03/2024"]})
    assert step.transform(new, state)["when"].iloc[0] == pd.Timestamp("2024-03-02")


def test_parse_dates_with_a_format_given_uses_it(messy):
    out = run({"kind": "parse_dates", "columns": ["when"], "format": "%m/%d/%Y"}, messy)
    assert pd.isna(out["when"].iloc[0]) and out["when"].iloc[1] == pd.Timestamp("2024-01-02")


def test_parse_dates_with_time_zones_converts_to_utc():
    frame = pd.DataFrame({"t": ["2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00Z"]})
    out = run({"kind": "parse_dates", "columns": ["t"]}, frame)
    assert str(out["t"].dt.tz) == "UTC" and out["t"].iloc[0].hour == 8


def test_cast_to_text_and_category(messy):
    out = run({"kind": "cast", "columns": ["amount", "city"], "to": "text"}, messy)
    assert out["amount"].iloc[0] == "100.02" and out["city"].iloc[2] == "Lyon" and out["city"].iloc[0] is None
    out = run({"kind": "cast", "columns": ["name"], "to": "category"}, messy)
    assert isinstance(out["name"].dtype, pd.CategoricalDtype) and "ÉMILE" in out["name"].cat.categories


# --------------------------------------------------------------------------- impute


def test_impute_mean_fills_with_the_mean_and_adds_indicators(messy):
    out = run({"kind": "impute", "columns": ["amount", "count"], "strategy": "mean", "add_indicator": True}, messy)
    assert out.loc[3, "amount"] == pytest.approx(messy["amount"].mean())
    assert out["amount_missing"].sum() == 3 and out["count_missing"].sum() == 2
    assert out["count"].dtype == "float64" and out["count"].notna().all()


@pytest.mark.parametrize("strategy, expected", [("median", 5.0), ("mode", 7), ("constant", -1)])
def test_impute_simple_strategies(strategy, expected):
    frame = pd.DataFrame({"a": pd.array([1, 7, 7, None, 3], dtype="Int64")})
    data = {"kind": "impute", "columns": ["a"], "strategy": strategy}
    if strategy == "constant":
        data["fill_value"] = -1
    out = run(data, frame)
    assert out["a"].iloc[3] == expected and out["a"].dtype == "Int64"


def test_impute_constant_adds_the_label_to_a_categorical(messy):
    out = run({"kind": "impute", "columns": ["city"], "strategy": "constant", "fill_value": "unknown"}, messy)
    assert out["city"].iloc[0] == "unknown" and out["city"].isna().sum() == 0


def test_impute_knn_uses_the_nearest_rows():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 100.0, 101.0], "y": [1.0, 2.0, np.nan, 100.0, 101.0]})
    out = run({"kind": "impute", "columns": ["x", "y"], "strategy": "knn", "n_neighbors": 2}, frame)
    assert out["y"].iloc[2] == pytest.approx(1.5)
    assert out["y"].drop(index=2).tolist() == [1.0, 2.0, 100.0, 101.0], "known values are never touched"


def test_impute_knn_keeps_a_bounded_reference_sample():
    frame = pd.DataFrame({"x": np.arange(5000.0), "y": np.where(np.arange(5000) % 7 == 0, np.nan, 1.0)})
    step = step_from_dict({"kind": "impute", "columns": ["x", "y"], "strategy": "knn", "sample_size": 300})
    state = step.fit(frame, CTX)
    assert len(state["reference"]) == 300


def test_impute_iterative_matches_scikit_learn():
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    x[:, 2] = x[:, 0] * 2 + x[:, 1]
    x[rng.random((200, 3)) < 0.1] = np.nan
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    out = run({"kind": "impute", "columns": ["a", "b", "c"], "strategy": "iterative", "max_iter": 5}, frame)
    expected = IterativeImputer(max_iter=5, random_state=0).fit_transform(x)
    np.testing.assert_array_equal(out.to_numpy(), expected)


def test_impute_refuses_a_text_column_for_the_mean(messy):
    with pytest.raises(ValidationError, match="strategy 'mean' needs numeric columns; 'city' holds category"):
        run({"kind": "impute", "columns": ["city"], "strategy": "mean"}, messy)


def test_impute_refuses_an_all_missing_column():
    with pytest.raises(ValidationError, match="'a' has no values to learn a median from"):
        run({"kind": "impute", "columns": ["a"]}, pd.DataFrame({"a": [np.nan, np.nan]}))


# --------------------------------------------------------------------------- rows


def test_drop_missing_and_deduplicate(messy):
    assert len(run({"kind": "drop_missing", "columns": ["amount"]}, messy)) == len(messy) - 3
    assert run({"kind": "drop_missing", "columns": ["amount", "ratio"], "how": "all"}, messy).index.tolist().count(11) == 0
    deduped = run({"kind": "deduplicate"}, messy)
    assert len(deduped) == len(messy) - 1 and 10 not in deduped.index
    last = run({"kind": "deduplicate", "columns": ["id"], "keep": "last"}, messy)
    assert 4 not in last.index and 10 in last.index


@pytest.mark.parametrize("operator, value, keep, expected", [
    ("==", 2, True, [1]),
    ("!=", 2, True, [0, 2, 4]),
    ("<", 3, True, [0, 1]),
    ("<=", 3, True, [0, 1, 2]),
    (">", 1, True, [1, 2, 4]),
    (">=", 5, True, [4]),
    ("between", [2, 3], True, [1, 2]),
    ("in", [1, 5], True, [0, 4]),
    ("not in", [1, 5], True, [1, 2]),
    ("is missing", None, True, [3]),
    ("is not missing", None, False, [3]),
    ("<", 3, False, [2, 3, 4]),
])
def test_filter_operators_on_numbers(operator, value, keep, expected):
    frame = pd.DataFrame({"n": pd.array([1, 2, 3, None, 5], dtype="Int64")})
    data = {"kind": "filter_rows", "column": "n", "operator": operator, "keep": keep}
    if value is not None:
        data["value"] = value
    assert run(data, frame).index.tolist() == expected


@pytest.mark.parametrize("operator, value, expected", [
    ("contains", "a", [0, 2]), ("starts with", "B", [1]), ("ends with", "a", [0]), ("==", "Bob", [1]),
])
def test_filter_text_operators(operator, value, expected):
    frame = pd.DataFrame({"s": ["Ana", "Bob", "Dan", None]})
    assert run({"kind": "filter_rows", "column": "s", "operator": operator, "value": value}, frame).index.tolist() \
        == expected


def test_filter_on_dates_takes_iso_text(messy):
    out = run({"kind": "filter_rows", "column": "seen", "operator": ">=", "value": "2024-11-01"}, messy)
    assert out["seen"].min() >= pd.Timestamp("2024-11-01") and len(out) == 4


def test_filter_refuses_mismatched_values(messy):
    with pytest.raises(ValidationError, match="'amount' holds numbers, so it cannot be compared with 'big'"):
        run({"kind": "filter_rows", "column": "amount", "operator": ">", "value": "big"}, messy)
    with pytest.raises(ValidationError, match="'city' holds unordered categories"):
        run({"kind": "filter_rows", "column": "city", "operator": "<", "value": "M"}, messy)


# --------------------------------------------------------------------------- outliers


def test_iqr_fences_flag_and_integer_clipping_keeps_integers():
    frame = pd.DataFrame({"a": [10, 11, 12, 13, 14, 100]})
    step = step_from_dict({"kind": "outliers", "columns": ["a"]})
    out, state = step.fit_transform(frame, CTX)
    assert state["fences"]["a"] == [7.5, 17.5]
    assert out["is_outlier"].tolist() == [False] * 5 + [True]
    clipped = run({"kind": "outliers", "columns": ["a"], "action": "clip"}, frame)
    assert clipped["a"].tolist() == [10, 11, 12, 13, 14, 17] and clipped["a"].dtype == "int64"


def test_zscore_removal_is_training_only(messy):
    step = step_from_dict({"kind": "outliers", "columns": ["amount"], "method": "zscore", "action": "remove"})
    assert step.training_only and 5 not in step.apply(messy).index
    assert not step_from_dict({"kind": "outliers", "columns": ["amount"], "action": "clip"}).training_only


def test_isolation_forest_replay_matches_scikit_learn():
    from sklearn.ensemble import IsolationForest

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    frame.iloc[:8] *= 6
    step = step_from_dict({"kind": "outliers", "columns": ["a", "b", "c"], "method": "isolation_forest",
                           "threshold": 0.05, "seed": 3})
    out = step.apply(frame)
    forest = IsolationForest(contamination=0.05, random_state=3).fit(frame.to_numpy())
    assert out["is_outlier"].tolist() == (forest.predict(frame.to_numpy()) == -1).tolist()
    assert out["is_outlier"].sum() == 20


# --------------------------------------------------------------------------- values and text


def test_replace_values_swaps_and_fills_missing(messy):
    out = run({"kind": "replace_values", "column": "city", "pairs": [["Lyon", "Nice"], ["Nice", "Lyon"],
                                                                     [None, "?"]]}, messy)
    assert out["city"].iloc[2] == "Nice" and out["city"].iloc[4] == "Lyon" and out["city"].iloc[0] == "?"
    nums = run({"kind": "replace_values", "column": "n", "pairs": [[0, None], [5, 50]]},
               pd.DataFrame({"n": [0, 5, 1]}))
    assert nums["n"].tolist()[1:] == [50, 1] and pd.isna(nums["n"].iloc[0])


def test_merge_rare_learns_the_kept_labels_and_maps_new_ones_to_other():
    frame = pd.DataFrame({"c": ["a"] * 8 + ["b"] * 3 + ["z", None]})
    step = step_from_dict({"kind": "merge_rare", "column": "c", "min_count": 3})
    out, state = step.fit_transform(frame, CTX)
    assert state == {"keep": ["a", "b"]}
    assert out["c"].tolist()[-2] == "Other" and out["c"].iloc[-1] is None
    assert step.transform(pd.DataFrame({"c": ["b", "never seen"]}), state)["c"].tolist() == ["b", "Other"]


def test_text_cleanup_normalises_unicode_space_and_case(messy):
    out = run({"kind": "text_cleanup", "columns": ["name", "city"], "case": "lower", "normalize": "NFKC",
               "empty_as_missing": True}, messy)
    assert out["name"].head(6).tolist() == ["alice", "bob smith", "chloé", "émile", None, None]
    assert sorted(out["city"].cat.categories) == ["brest", "lyon", "nice", "paris"]


def test_split_column_places_parts_where_the_column_was(messy):
    out = run({"kind": "split_column", "column": "code", "delimiter": "-", "into": ["letter", "rest"]}, messy)
    columns = out.columns.tolist()
    assert columns[columns.index("when") + 1: columns.index("when") + 3] == ["letter", "rest"]
    assert out[["letter", "rest"]].head(4).values.tolist() == [["A", "1-x"], ["B", "2"], ["C", None], [None, None]]


def test_split_refuses_a_name_that_exists(messy):
    with pytest.raises(ValidationError, match="already has a column named 'amount'"):
        Recipe.from_dict({"clean": [{"kind": "split_column", "column": "code", "delimiter": "-",
                                     "into": ["amount", "x"]}]}).apply_clean(messy)


# --------------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize("data, message", [
    ({"kind": "impute", "columns": ["a"], "strategy": "avg"},
     "The 'strategy' parameter of Impute must be one of ['mean', 'median', 'mode', 'constant', 'knn', "
     "'iterative']. Got 'avg' instead."),
    ({"kind": "impute", "columns": ["a"], "strategy": "constant"}, "needs a 'fill_value'"),
    ({"kind": "impute", "columns": ["a"], "n_neighbors": 0},
     "The 'n_neighbors' parameter of Impute must be an integer in the range [1, 100]. Got 0 instead."),
    ({"kind": "cast", "columns": ["a"], "to": "float"},
     "The 'to' parameter of Cast must be one of ['number', 'integer', 'boolean', 'datetime', 'category', "
     "'text']. Got 'float' instead."),
    ({"kind": "outliers", "columns": ["a"], "method": "isolation_forest", "action": "clip"},
     "must be one of ['flag', 'remove'] with it. Got 'clip' instead."),
    ({"kind": "outliers", "columns": ["a"], "threshold": -1},
     "The 'threshold' parameter of Outliers must be None or a number in the range (0, inf). Got -1 instead."),
    ({"kind": "filter_rows", "column": "a", "operator": "like", "value": 1}, "The 'operator' parameter of FilterRows"),
    ({"kind": "filter_rows", "column": "a", "operator": "between", "value": 1},
     "With the operator 'between', the 'value' parameter of FilterRows must be a list [low, high]. Got 1 instead."),
    ({"kind": "filter_rows", "column": "a", "operator": "in", "value": []}, "must be a non-empty list of values"),
    ({"kind": "replace_values", "column": "a", "pairs": [["x"]]}, "must be a non-empty list of [old, new] values"),
    ({"kind": "merge_rare", "column": "a", "min_share": 1.5}, "The 'min_share' parameter of MergeRare must be"),
    ({"kind": "text_cleanup", "columns": ["a"], "case": "shout"}, "The 'case' parameter of TextCleanup"),
    ({"kind": "parse_dates", "columns": ["a"], "format": "dd/mm/yyyy"}, "must be a strptime format"),
    ({"kind": "split_column", "column": "a", "delimiter": "", "into": ["x", "y"]},
     "The 'delimiter' parameter of SplitColumn must be non-empty text"),
    ({"kind": "split_column", "column": "a", "delimiter": "-", "into": ["x"]}, "at least 2 distinct"),
    ({"kind": "deduplicate", "keep": "none"}, "The 'keep' parameter of Deduplicate must be one of ['first', 'last']"),
])
def test_invalid_parameters_are_refused_in_scikit_learn_style(data, message):
    with pytest.raises(ValidationError) as info:
        step_from_dict(data)
    assert message in str(info.value)


def test_a_step_on_a_removed_column_names_the_step_and_the_column(messy):
    recipe = Recipe.from_dict({"clean": [
        {"kind": "split_column", "column": "code", "delimiter": "-", "into": ["letter", "rest"]},
        {"kind": "impute", "columns": ["code"], "strategy": "mode"},
    ]})
    with pytest.raises(ValidationError, match=r"Clean step 2 \(Fill missing 'code' with mode\) uses the column 'code'"):
        recipe.apply_clean(messy)


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernels_only_use_numpy_pandas_and_other_kernels(name):
    """The exported script copies kernels' source; a module global they read would be missing."""
    import builtins
    import types

    def global_names(code: types.CodeType) -> set[str]:
        names = set(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names |= global_names(const)
        return names

    fn = KERNELS[name]
    module_globals = {n for n in global_names(fn.__code__) if n in fn.__globals__}
    assert module_globals - {"np", "pd"} - set(KERNELS) - set(dir(builtins)) == set()


def test_empty_frame_passes_through_every_column_step():
    frame = pd.DataFrame({"a": pd.Series([], dtype="float64"), "s": pd.Series([], dtype=object)})
    for data in ({"kind": "cast", "columns": ["s"], "to": "number"},
                 {"kind": "text_cleanup", "columns": ["s"]},
                 {"kind": "filter_rows", "column": "a", "operator": ">", "value": 1},
                 {"kind": "split_column", "column": "s", "delimiter": ",", "into": ["x", "y"]}):
        assert len(run(data, frame)) == 0
