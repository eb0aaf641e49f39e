"""Feature steps: each learns on the training rows and applies that to new rows.

One test per kind checks a value that only the *training* rows could have produced
(a mean, a category list, a reference date ...); the table-driven tests below check
what every kind must do: JSON round trips, determinism, not touching the input or
the target, and scoring new rows later exactly as at training time.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import ValidationError
from core.recipe import FittedRecipe, Recipe
from core.steps import STEPS, FitContext, step_from_dict

TRAIN = pd.DataFrame({
    "x": [1.0, 2.0, 3.0, 4.0],
    "c": ["a", "a", "b", None],
    "t": pd.to_datetime(["2024-01-01 00:00", "2024-01-02 00:00", "2024-01-06 00:00", "2024-01-07 13:00"]),
    "s": ["one two", "three", "", None],
    "y": [1.0, 0.0, 1.0, 0.0],
})
TEST = pd.DataFrame({
    "x": [10.0, -1.0],
    "c": ["b", "zzz"],
    "t": pd.to_datetime(["2024-03-31 18:30", None]),
    "s": ["a bb ccc", None],
})
CTX = FitContext(target="y", kinds={"x": "float", "c": "categorical", "t": "datetime", "s": "text", "y": "float"})


def fit_apply(step: dict, train=TRAIN, test=TEST, context=CTX) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Fit on train, apply to test (without a target); returns both outputs and the state."""
    fitted, out_train = Recipe.from_dict({"features": [step]}).fit(train, context)
    return out_train, fitted.transform(test.drop(columns=[context.target], errors="ignore")), \
        fitted.feature_states[0]


def col(frame, name):
    return frame[name].to_numpy(dtype=float, na_value=np.nan)


# --------------------------------------------------------------------------- each kind, on train then test


def test_standardize_uses_the_training_mean_and_spread():
    _, out, state = fit_apply({"kind": "standardize", "columns": ["x"]})
    np.testing.assert_allclose(col(out, "x"), [(10 - 2.5) / np.sqrt(1.25), (-1 - 2.5) / np.sqrt(1.25)])
    assert state["columns"]["x"] == {"mean": 2.5, "scale": pytest.approx(np.sqrt(1.25))}


def test_min_max_uses_the_training_range():
    _, out, _ = fit_apply({"kind": "min_max_scale", "columns": ["x"], "keep_original": True})
    np.testing.assert_allclose(col(out, "x_minmax"), [3.0, -2 / 3])
    assert col(out, "x").tolist() == [10.0, -1.0]


def test_log1p_refuses_training_values_at_or_below_minus_one_and_blanks_them_later():
    _, out, _ = fit_apply({"kind": "log1p", "columns": ["x"]})
    np.testing.assert_allclose(col(out, "x"), [np.log1p(10), np.nan], equal_nan=True)
    with pytest.raises(ValidationError, match="Log1p needs values above -1; 'x' goes down to -1"):
        fit_apply({"kind": "log1p", "columns": ["x"]}, train=TEST.assign(y=[1.0, 0.0]), test=TRAIN)


def test_yeo_johnson_matches_scikit_learn_with_the_training_lambda():
    from sklearn.preprocessing import PowerTransformer

    skewed = pd.DataFrame({"x": np.random.default_rng(0).lognormal(0, 1, 200) - 0.5, "y": 0.0})
    new = pd.DataFrame({"x": [-3.0, -0.2, 0.0, 0.7, 25.0]})
    for standardize in (False, True):
        _, out, state = fit_apply({"kind": "yeo_johnson", "columns": ["x"], "standardize": standardize},
                                  train=skewed, test=new)
        power = PowerTransformer(standardize=standardize).fit(skewed[["x"]])
        assert state["columns"]["x"]["lambda"] == pytest.approx(power.lambdas_[0])
        np.testing.assert_allclose(col(out, "x"), power.transform(new[["x"]]).ravel(), rtol=1e-9)


def test_quantile_bins_use_training_edges():
    _, out, state = fit_apply({"kind": "quantile_bin", "columns": ["x"], "bins": 2})
    assert state["columns"]["x"]["edges"] == [2.5]
    assert col(out, "x").tolist() == [1.0, 0.0]


def test_winsorize_clips_to_training_quantiles():
    _, out, _ = fit_apply({"kind": "winsorize", "columns": ["x"], "lower": 0.25, "upper": 0.75})
    assert col(out, "x").tolist() == [3.25, 1.75]


def test_combine_makes_a_named_column_and_blanks_division_by_zero():
    frame = TRAIN.assign(z=[2.0, 0.0, 1.0, 4.0])
    out, _, _ = fit_apply({"kind": "combine", "left": "x", "right": "z", "op": "ratio"}, train=frame,
                          test=frame)
    np.testing.assert_allclose(col(out, "x_per_z"), [0.5, np.nan, 3.0, 1.0], equal_nan=True)
    out, _, _ = fit_apply({"kind": "combine", "left": "x", "right": "z", "op": "difference", "name": "gap"},
                          train=frame, test=frame)
    assert col(out, "gap").tolist() == [-1.0, 2.0, 2.0, 0.0]


def test_formula_column():
    _, out, _ = fit_apply({"kind": "formula", "name": "f", "expression": "where(x > 0, log(x), 0) * 2"})
    np.testing.assert_allclose(col(out, "f"), [2 * np.log(10), 0.0])


def test_date_parts_measure_days_from_the_first_training_date():
    _, out, state = fit_apply({"kind": "date_parts", "column": "t", "cyclical": True,
                               "parts": ["year", "month", "day", "weekday", "hour", "weekend", "days_since"]})
    assert state["reference"] == "2024-01-01T00:00:00"
    assert "t" not in out.columns
    first = out.iloc[0]
    assert (first["t_year"], first["t_month"], first["t_day"], first["t_weekday"], first["t_hour"],
            first["t_weekend"]) == (2024, 3, 31, 6, 18, 1)
    assert first["t_days_since"] == pytest.approx(90 + 18.5 / 24)
    assert first["t_month_sin"] == pytest.approx(np.sin(2 * np.pi * 2 / 12))
    assert first["t_hour_cos"] == pytest.approx(np.cos(2 * np.pi * 18 / 24))
    assert out.iloc[1].drop(["x", "c", "s"]).isna().all()  # a missing date gives missing parts


def test_date_parts_of_time_zone_aware_dates_and_a_given_reference():
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-06-01 23:30"]).tz_localize("Europe/Oslo"), "y": [1.0]})
    out, _, state = fit_apply({"kind": "date_parts", "column": "t", "parts": ["hour", "days_since"],
                               "reference": "2024-05-31", "keep_original": True}, train=frame, test=frame)
    assert state["reference"] == "2024-05-31T00:00:00"
    assert out["t_hour"].tolist() == [23.0]  # local time
    assert out["t_days_since"].tolist() == [pytest.approx(1 + 21.5 / 24)]  # measured in UTC


def test_one_hot_keeps_the_training_top_k_and_sends_the_rest_to_other():
    out_train, out, state = fit_apply({"kind": "one_hot", "columns": ["c"], "top_k": 1})
    assert state["columns"]["c"] == {"categories": ["a"], "names": ["c=a"], "other": "c=other"}
    assert list(out.columns[-2:]) == ["c=a", "c=other"] and "c" not in out.columns
    assert out["c=a"].tolist() == [0, 0] and out["c=other"].tolist() == [1, 1]
    assert out_train["c=a"].tolist() == [1, 1, 0, 0]


def test_one_hot_names_a_missing_category():
    _, out, _ = fit_apply({"kind": "one_hot", "columns": ["c"], "top_k": 5}, test=TRAIN)
    assert [c for c in out.columns if c.startswith("c=")] == ["c=a", "c=(missing)", "c=b"]
    assert out["c=(missing)"].tolist() == [0, 0, 0, 1]


def test_ordinal_codes_follow_the_training_order():
    _, out, state = fit_apply({"kind": "ordinal", "columns": ["c"]}, test=TEST.assign(c=["b", None]))
    assert state["columns"]["c"] == ["a", "b"]
    np.testing.assert_array_equal(col(out, "c_ordinal"), [1.0, np.nan])
    _, out, _ = fit_apply({"kind": "ordinal", "columns": ["c"], "categories": ["b", "a"]})
    assert col(out, "c_ordinal").tolist() == [0.0, -1.0]  # unknown "zzz" -> -1
    numbers = pd.DataFrame({"n": [10, 9, 100, 9], "y": 0.0})
    _, out, state = fit_apply({"kind": "ordinal", "columns": ["n"], "order": "alphabetical"}, train=numbers,
                              test=numbers, context=FitContext(target="y"))
    assert state["columns"]["n"] == ["9", "10", "100"]  # numbers in numeric order


def test_frequency_is_the_training_share():
    _, out, _ = fit_apply({"kind": "frequency", "columns": ["c"]})
    assert col(out, "c_freq").tolist() == [0.25, 0.0]


def test_target_encoding_applies_training_means_to_new_rows():
    _, out, state = fit_apply({"kind": "target_encode", "columns": ["c"], "smoothing": 0.0, "folds": 2})
    # "b" had target 1 in training; "zzz" was never seen: the training mean
    assert col(out, "c_te").tolist() == [1.0, 0.5]
    assert state["defaults"] == [0.5]


def test_target_encoding_of_a_class_target_gives_one_column_per_class():
    frame = TRAIN.assign(y=["cat", "dog", "cat", "emu"])
    _, out, state = fit_apply({"kind": "target_encode", "columns": ["c"], "smoothing": 0.0, "folds": 2},
                              train=frame, test=TEST, context=FitContext(target="y"))
    assert [c for c in out.columns if c.startswith("c_te")] == ["c_te_cat", "c_te_dog", "c_te_emu"]
    assert out.iloc[0][["c_te_cat", "c_te_dog", "c_te_emu"]].tolist() == [1.0, 0.0, 0.0]  # "b" was a cat
    assert out.iloc[1][["c_te_cat", "c_te_dog", "c_te_emu"]].tolist() == [0.5, 0.25, 0.25]
    binary = TRAIN.assign(y=[True, False, True, False])
    _, out, state = fit_apply({"kind": "target_encode", "columns": ["c"], "smoothing": 0.0, "folds": 2},
                              train=binary, test=TEST, context=FitContext(target="y"))
    assert state["classes"] == ["True"] and col(out, "c_te").tolist() == [1.0, 0.5]


def test_rare_categories_are_those_rare_in_training():
    _, out, state = fit_apply({"kind": "rare_categories", "columns": ["c"], "min_share": 0.3, "other": "rest"},
                              test=pd.DataFrame({"c": ["a", "b", "new", None]}))
    assert state["columns"]["c"] == ["a"]
    assert out["c"].tolist() == ["a", "rest", "rest", None]


def test_text_stats():
    _, out, _ = fit_apply({"kind": "text_stats", "column": "s", "stats": ["chars", "words", "digits"]},
                          test=pd.DataFrame({"s": ["a bb 12", None, ""]}))
    assert out["s_chars"].tolist()[::2] == [7.0, 0.0] and np.isnan(out["s_chars"].iloc[1])
    assert out["s_words"].tolist()[::2] == [3.0, 0.0] and out["s_digits"].tolist()[0] == 2.0


def test_tfidf_svd_matches_scikit_learn_fitted_on_the_training_rows():
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    rng = np.random.default_rng(3)
    words = np.array("red blue green car bike fast slow big small old new".split())
    texts = [" ".join(rng.choice(words, 5)) for _ in range(60)]
    train = pd.DataFrame({"s": texts, "y": 0.0})
    test = pd.DataFrame({"s": ["red car", "unknown words only", None, "big old bike bike"]})
    _, out, state = fit_apply({"kind": "tfidf_svd", "column": "s", "components": 3, "min_df": 1}, train=train,
                              test=test, context=FitContext(target="y", seed=7))
    vectorizer = TfidfVectorizer(min_df=1).fit(train["s"])
    svd = TruncatedSVD(3, random_state=7).fit(vectorizer.transform(train["s"]))
    expected = svd.transform(vectorizer.transform(test["s"].fillna("")))
    np.testing.assert_allclose(out[["s_svd1", "s_svd2", "s_svd3"]].to_numpy(), expected, atol=1e-12)
    assert set(state) == {"kind", "vocabulary", "idf", "components", "ngram_max"}
    assert len(state["components"]) == 3 and len(state["components"][0]) == len(state["vocabulary"]) == 11


def test_group_aggregate_uses_training_groups():
    _, out, _ = fit_apply({"kind": "group_aggregate", "by": "c", "column": "x", "stats": ["mean", "count", "std"]},
                          test=pd.DataFrame({"c": ["a", "zzz", None]}))
    np.testing.assert_array_equal(col(out, "x_mean_by_c"), [1.5, np.nan, 4.0])
    assert col(out, "x_count_by_c").tolist() == [2.0, 0.0, 1.0]
    assert col(out, "x_std_by_c")[0] == pytest.approx(np.std([1, 2], ddof=1))


def test_lags_continue_from_the_last_training_rows():
    train = pd.DataFrame({"day": [1, 2, 3, 1, 2], "shop": ["a", "a", "a", "b", "b"],
                          "sales": [10.0, 11.0, 12.0, 20.0, 21.0], "y": 0.0})
    test = pd.DataFrame({"day": [4, 5, 3], "shop": ["a", "a", "b"], "sales": [13.0, 14.0, 22.0]})
    context = FitContext(target="y", time="day")
    out_train, out, state = fit_apply({"kind": "lag", "columns": ["sales"], "lags": [1, 2], "by": "shop"},
                                      train=train, test=test, context=context)
    np.testing.assert_array_equal(col(out_train, "sales_lag1"), [np.nan, 10, 11, np.nan, 20])
    np.testing.assert_array_equal(col(out, "sales_lag1"), [12, 13, 21])
    np.testing.assert_array_equal(col(out, "sales_lag2"), [11, 12, 20])
    assert state["time"] == "day" and len(state["history"]["_time"]) == 4  # two rows per shop kept
    _, out, _ = fit_apply({"kind": "rolling", "columns": ["sales"], "window": 2, "stats": ["mean", "max"],
                           "by": "shop"}, train=train, test=test, context=context)
    np.testing.assert_array_equal(col(out, "sales_roll2_mean"), [11.5, 12.5, 20.5])
    np.testing.assert_array_equal(col(out, "sales_roll2_max"), [12, 13, 21])


def test_missing_indicators_learn_which_columns_to_flag():
    _, out, state = fit_apply({"kind": "missing_indicator"}, test=pd.DataFrame(
        {"x": [1.0], "c": ["a"], "t": pd.to_datetime(["2024-01-01"]), "s": [None]}))
    assert state["columns"] == ["c", "s"]  # the target is never flagged
    assert out["c_missing"].tolist() == [0] and out["s_missing"].tolist() == [1]
    assert "x_missing" not in out.columns


def test_selection_drops_what_the_training_rows_decided():
    train = TRAIN.assign(k=7, x2=TRAIN["x"] * 2 + 1, n=[0.3, 0.1, 0.4, 0.2])
    test = TEST.assign(k=[1, 2], x2=[5.0, 0.0], n=[0.5, 0.6])
    _, out, state = fit_apply({"kind": "drop_constant"}, train=train, test=test)
    assert state["dropped"] == ["k"] and "k" not in out.columns
    _, out, state = fit_apply({"kind": "drop_correlated", "threshold": 0.9}, train=train, test=test)
    assert state["dropped"] == ["x2"] and state["pairs"] == [["x", "x2", pytest.approx(1.0)]]
    assert list(out.columns) == ["x", "c", "t", "s", "k", "n"]


def test_select_k_best_keeps_the_informative_columns():
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"noise1": rng.normal(size=n), "signal": rng.normal(size=n),
                          "noise2": rng.choice(list("abc"), n), "cat_signal": rng.choice(list("pq"), n)})
    frame["y"] = (frame["signal"] > 0) ^ (frame["cat_signal"] == "p")
    frame["y"] = np.where(rng.random(n) < 0.9, frame["y"], ~frame["y"]).astype(str)
    frame["y"] = (frame["signal"] + (frame["cat_signal"] == "p") * 3 + rng.normal(0, 0.3, n) > 1.5).astype(int)
    _, out, state = fit_apply({"kind": "select_k_best", "k": 2}, train=frame, test=frame.drop(columns="y"),
                              context=FitContext(target="y", seed=0))
    assert sorted(state["dropped"]) == ["noise1", "noise2"]
    assert list(out.columns) == ["signal", "cat_signal"]


# --------------------------------------------------------------------------- every kind


def _rich_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "when": pd.date_range("2023-01-01", periods=n, freq="7h"),
        "shop": rng.choice(["north", "south", "east", None], n),
        "city": rng.choice(["x", "y", "z", "w", "rare"], n, p=[0.3, 0.3, 0.2, 0.18, 0.02]),
        "amount": rng.lognormal(3, 1, n),
        "qty": rng.integers(0, 10, n).astype(float),
        "note": rng.choice(["red fast car", "blue slow bike 12", "green car", None, "fast red bike"], n),
        "flag": rng.random(n) > 0.5,
        "const": 1.0,
    })
    frame.loc[::7, "qty"] = np.nan
    frame["y"] = frame["amount"] * 0.1 + rng.normal(0, 1, n)
    return frame


RICH_KINDS = {"when": "datetime", "shop": "categorical", "city": "categorical", "amount": "float",
              "qty": "float", "note": "text", "flag": "boolean", "const": "float", "y": "float"}
EVERY_KIND = [
    {"kind": "date_parts", "column": "when", "parts": ["month", "weekday", "hour", "weekend", "days_since"],
     "cyclical": True, "keep_original": True},
    {"kind": "log1p", "columns": ["amount"], "keep_original": True},
    {"kind": "yeo_johnson", "columns": ["amount", "qty"], "standardize": True},
    {"kind": "standardize", "columns": ["qty"], "keep_original": True},
    {"kind": "min_max_scale", "columns": ["amount"], "keep_original": True},
    {"kind": "quantile_bin", "columns": ["amount"], "bins": 4, "keep_original": True},
    {"kind": "winsorize", "columns": ["amount"], "keep_original": True},
    {"kind": "combine", "left": "amount", "right": "qty", "op": "product"},
    {"kind": "formula", "name": "f", "expression": "where(qty > 2, log(amount) / qty, -1)"},
    {"kind": "one_hot", "columns": ["shop"], "top_k": 2, "keep_original": True},
    {"kind": "ordinal", "columns": ["shop"], "keep_original": True},
    {"kind": "frequency", "columns": ["shop"], "keep_original": True},
    {"kind": "target_encode", "columns": ["shop", "city"], "keep_original": True},
    {"kind": "rare_categories", "columns": ["city"], "min_share": 0.05},
    {"kind": "text_stats", "column": "note"},
    {"kind": "tfidf_svd", "column": "note", "components": 2, "keep_original": True},
    {"kind": "group_aggregate", "by": "shop", "column": "amount"},
    {"kind": "group_aggregate", "by": "city", "column": "y", "stats": ["mean", "std"]},
    {"kind": "lag", "columns": ["amount", "y"], "lags": [1, 2], "by": "shop"},
    {"kind": "rolling", "columns": ["amount"], "window": 3, "stats": ["mean", "max"], "by": "shop"},
    {"kind": "missing_indicator"},
    {"kind": "drop_constant"},
    {"kind": "drop_correlated", "threshold": 0.99},
    {"kind": "select_k_best", "k": 25},
]
ORDER_DEPENDENT = {"lag", "rolling"}  # a row's value depends on the earlier rows scored with it


def test_every_registered_feature_kind_is_covered_here():
    feature_kinds = {k for k, cls in STEPS.items() if cls.stage == "feature"}
    assert feature_kinds == {s["kind"] for s in EVERY_KIND}


def _split(frame):
    return frame.iloc[:180], frame.iloc[180:]


@pytest.mark.parametrize("step", EVERY_KIND, ids=lambda s: s["kind"])
def test_held_out_rows_get_the_same_features_later_when_scored(step):
    """At training time the held-out rows are transformed with the fitted recipe; later,
    scoring those rows (no target, recipe read back from JSON, in another order and in
    pieces) gives exactly the same columns."""
    frame = _rich_frame()
    train, held_out = _split(frame)
    context = FitContext(target="y", time="when", kinds=RICH_KINDS, seed=3)
    fitted, _ = Recipe.from_dict({"features": [step]}).fit(train, context)
    at_training = fitted.transform(held_out)

    stored = json.loads(json.dumps(fitted.to_dict(), allow_nan=False))
    later = FittedRecipe.from_dict(stored)
    new_rows = held_out.drop(columns="y")
    if step["kind"] in ORDER_DEPENDENT:
        scored = later.transform(new_rows)
    else:
        shuffled = new_rows.sample(frac=1.0, random_state=1)
        scored = pd.concat([later.transform(shuffled.iloc[:25]), later.transform(shuffled.iloc[25:])])
        scored = scored.loc[new_rows.index]
    pd.testing.assert_frame_equal(at_training.drop(columns="y", errors="ignore"), scored)


@pytest.mark.parametrize("step", EVERY_KIND, ids=lambda s: s["kind"])
def test_fitting_is_deterministic_leaves_the_input_and_keeps_the_target(step):
    frame = _rich_frame()
    before = frame.copy()
    context = FitContext(target="y", time="when", kinds=RICH_KINDS, seed=5)
    recipe = Recipe.from_dict({"features": [step]})
    fitted_a, out_a = recipe.fit(frame, context)
    fitted_b, out_b = recipe.fit(frame, context)
    assert fitted_a.feature_states == fitted_b.feature_states
    pd.testing.assert_frame_equal(out_a, out_b)
    fitted_a.transform(frame)
    pd.testing.assert_frame_equal(frame, before)  # neither fit nor transform changed the input
    pd.testing.assert_series_equal(out_a["y"], frame["y"])
    assert list(out_a.index) == list(frame.index)
    assert json.dumps(fitted_a.feature_states[0], allow_nan=False)  # plain JSON, no NaN


@pytest.mark.parametrize("step", EVERY_KIND, ids=lambda s: s["kind"])
def test_a_step_round_trips_through_its_json_form(step):
    made = step_from_dict(step)
    assert step_from_dict(json.loads(json.dumps(made.to_dict()))) == made
    assert made.describe() and made.stage == "feature"


@pytest.mark.parametrize("step", EVERY_KIND, ids=lambda s: s["kind"])
def test_a_step_refuses_to_run_without_its_learned_state(step):
    made = step_from_dict(step)
    for state in ({}, {"kind": "something_else"}):
        with pytest.raises(ValidationError, match="must be fitted on training rows before it can run"):
            made.transform(_rich_frame(), state)


def test_steps_chain_on_columns_made_by_earlier_steps():
    recipe = Recipe.from_dict({"features": [
        {"kind": "combine", "left": "amount", "right": "qty", "op": "ratio"},
        {"kind": "log1p", "columns": ["amount_per_qty"]},
        {"kind": "formula", "name": "g", "expression": "amount_per_qty * 2"},
    ]})
    out = recipe.fit(_rich_frame(), FitContext(target="y", kinds=RICH_KINDS))[1]
    amount, qty = col(out, "amount"), col(out, "qty")
    with np.errstate(divide="ignore"):
        expected = 2 * np.log1p(np.where(qty != 0, amount / qty, np.nan))
    np.testing.assert_allclose(col(out, "g"), expected, equal_nan=True)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("step, context, message", [
    ({"kind": "formula", "name": "f", "expression": "x + nope"}, CTX,
     "uses the column 'nope', which is not in the data"),
    ({"kind": "formula", "name": "f", "expression": "c * 2"}, CTX, "'c', which is a categorical column, not a number"),
    ({"kind": "formula", "name": "x", "expression": "x * 2"}, CTX, "would create the column 'x', which already exists"),
    ({"kind": "target_encode", "columns": ["c"]}, FitContext(), "Target encoding needs a target"),
    ({"kind": "select_k_best", "k": 1}, FitContext(), "needs a target"),
    ({"kind": "lag", "columns": ["x"]}, CTX, "Lags need a time column"),
    ({"kind": "rolling", "columns": ["x"], "time": "c"}, CTX, "'c' is a categorical column"),
    ({"kind": "standardize", "columns": ["s"]}, CTX, "works on number columns; 's' is a text column"),
    ({"kind": "log1p", "columns": ["t"]}, CTX, "'t' is a datetime column"),
    ({"kind": "date_parts", "column": "x"}, CTX, "works on date/time columns; 'x' is a float column"),
    ({"kind": "one_hot", "columns": ["x"]}, CTX, "works on category columns; 'x' is a float column"),
    ({"kind": "tfidf_svd", "column": "x"}, CTX, "works on text columns"),
    ({"kind": "group_aggregate", "by": "x", "column": "c"}, CTX, "'x' is a float column"),
    ({"kind": "standardize", "columns": ["y"]}, CTX, "uses the target 'y' as an input"),
    ({"kind": "combine", "left": "x", "right": "y"}, CTX, "uses the target 'y'"),
    ({"kind": "group_aggregate", "by": "y", "column": "x"}, FitContext(target="y", kinds={"y": "categorical"}),
     "cannot be the target"),
    ({"kind": "standardize", "columns": ["gone"]}, CTX, "uses the column 'gone', which is not in the data"),
    ({"kind": "standardize", "columns": ["n"]}, FitContext(target="y", kinds={"n": "id"}), "'n' is an id column"),
])
def test_bad_steps_are_refused_with_a_clear_message(step, context, message):
    with pytest.raises(ValidationError, match=message):
        Recipe.from_dict({"features": [step]}).fit(TRAIN.assign(n=[1, 2, 3, 4]), context)


@pytest.mark.parametrize("step, message", [
    ({"kind": "formula", "name": "f", "expression": "__import__('os').system('id')"},
     r"Features step 1: The formula calls a method or an expression"),
    ({"kind": "formula", "name": "f", "expression": "x.__class__"}, "attribute access"),
    ({"kind": "date_parts", "column": "t", "parts": ["hours"]}, r"must be a non-empty list of distinct values from"),
    ({"kind": "date_parts", "column": "t", "reference": "soon"}, "must be a date like"),
    ({"kind": "one_hot", "columns": ["c"], "top_k": 0}, r"'top_k' parameter of OneHot must be an integer"),
    ({"kind": "lag", "columns": ["x"], "lags": [0]}, "whole numbers from 1 to 366"),
    ({"kind": "winsorize", "columns": ["x"], "lower": 0.5, "upper": 0.5}, "needs 'lower' below 'upper'"),
    ({"kind": "group_aggregate", "by": "c", "column": "c"}, "two different columns"),
    ({"kind": "ordinal", "columns": ["c"], "categories": ["a", "a"]}, "distinct values"),
    ({"kind": "standardize", "columns": ["x"], "colums": ["x"]}, "has no parameter 'colums'"),
    ({"kind": "drop_columns", "columns": ["x"]}, "is a clean step"),
])
def test_bad_hand_written_recipes_are_refused_before_anything_runs(step, message):
    with pytest.raises(ValidationError, match=message):
        Recipe.from_dict({"features": [step]})


def test_lags_refuse_two_rows_of_one_entity_at_the_same_time():
    frame = pd.DataFrame({"day": [1, 1, 2], "v": [1.0, 2.0, 3.0], "y": 0.0})
    with pytest.raises(ValidationError, match="two rows of one entity have the same time"):
        Recipe.from_dict({"features": [{"kind": "lag", "columns": ["v"], "time": "day"}]}).fit(frame, CTX)
