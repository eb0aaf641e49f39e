"""Features must not leak: out-of-fold target statistics, and lags that only look back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

from core.recipe import Recipe
from core.steps import FitContext


def _noise(seed: int, n: int = 3000, levels: int = 1000) -> pd.DataFrame:
    """A pure-noise high-cardinality code and a target that has nothing to do with it."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"code": rng.integers(0, levels, n).astype(str), "y": rng.integers(0, 2, n),
                         "amount": rng.normal(100, 10, n)})


def _auc(features: pd.DataFrame, y: pd.Series) -> float:
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_score(HistGradientBoostingClassifier(max_iter=50), features, y, cv=cv,
                           scoring="roc_auc").mean()


@pytest.mark.parametrize("seed", [0, 1])
def test_out_of_fold_target_encoding_of_noise_does_not_predict(seed):
    """Encode once on all rows (as a careless pipeline would), then cross-validate a model on
    the encoding alone. Out-of-fold means stay at chance; the same means computed in-sample
    (each row seeing its own target) look predictive, which is the leak this prevents."""
    frame = _noise(seed)
    fitted, encoded = Recipe.from_dict({"features": [{"kind": "target_encode", "columns": ["code"]}]}).fit(
        frame, FitContext(target="y", seed=seed))
    honest = _auc(encoded[["code_te"]], frame["y"])
    in_sample = _auc(fitted.transform(frame)[["code_te"]], frame["y"])
    assert honest < 0.58, honest
    assert in_sample > 0.75, in_sample  # the test can tell a leak from no leak


def test_out_of_fold_group_mean_of_the_target_does_not_predict():
    frame = _noise(2)
    step = {"kind": "group_aggregate", "by": "code", "column": "y", "stats": ["mean"]}
    fitted, out = Recipe.from_dict({"features": [step]}).fit(frame, FitContext(target="y", seed=2))
    features = out[["y_mean_by_code"]].fillna(-1)
    in_sample = fitted.transform(frame)[["y_mean_by_code"]].fillna(-1)
    assert _auc(features, frame["y"]) < 0.58
    assert _auc(in_sample, frame["y"]) > 0.75


def test_out_of_fold_target_encoding_of_noise_for_a_numeric_target():
    frame = _noise(3).assign(y=lambda f: f["amount"])
    _, out = Recipe.from_dict({"features": [{"kind": "target_encode", "columns": ["code"]}]}).fit(
        frame.drop(columns="amount"), FitContext(target="y", seed=3))
    r2 = cross_val_score(HistGradientBoostingRegressor(max_iter=50), out[["code_te"]], frame["y"],
                         cv=KFold(5, shuffle=True, random_state=0), scoring="r2").mean()
    assert r2 < 0.02


def test_each_training_row_is_encoded_without_its_own_target():
    """Change one row's target: its own encoding must not move (its fold's means come from
    the other folds), while the state learned from all rows does."""
    frame = _noise(4, n=200, levels=5).drop(columns="y").rename(columns={"amount": "y"})
    recipe = Recipe.from_dict({"features": [{"kind": "target_encode", "columns": ["code"], "folds": 5}]})
    context = FitContext(target="y", seed=4)  # a numeric target: the folds do not depend on its values
    fitted, before = recipe.fit(frame, context)
    flipped = frame.copy()
    flipped.loc[0, "y"] += 1000
    fitted_after, after = recipe.fit(flipped, context)
    assert after.loc[0, "code_te"] == before.loc[0, "code_te"]
    assert fitted_after.feature_states != fitted.feature_states


# --------------------------------------------------------------------------- lags


@st.composite
def _series(draw):
    n = draw(st.integers(2, 30))
    entities = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
    return pd.DataFrame({"shop": entities, "day": times, "v": values, "y": 0.0})


@settings(max_examples=60, deadline=None)
@given(frame=_series(), window=st.integers(2, 4))
def test_lags_and_windows_use_only_strictly_earlier_rows_of_the_entity(frame, window):
    steps = [{"kind": "lag", "columns": ["v"], "lags": [1, 2], "by": "shop", "time": "day"},
             {"kind": "rolling", "columns": ["v"], "window": window, "stats": ["mean", "max"], "by": "shop",
              "time": "day"}]
    out = Recipe.from_dict({"features": steps}).fit(frame, FitContext(target="y"))[1]
    for i, row in frame.iterrows():
        earlier = frame[(frame["shop"] == row["shop"]) & (frame["day"] < row["day"])].sort_values("day")["v"]
        expected_lag1 = earlier.iloc[-1] if len(earlier) >= 1 else np.nan
        expected_lag2 = earlier.iloc[-2] if len(earlier) >= 2 else np.nan
        last = earlier.iloc[-window:]
        np.testing.assert_equal(out.loc[i, "v_lag1"], expected_lag1)
        np.testing.assert_equal(out.loc[i, "v_lag2"], expected_lag2)
        # a rolling sum adds and subtracts: allow rounding at the scale of the values
        np.testing.assert_allclose(out.loc[i, f"v_roll{window}_mean"], last.mean() if len(last) else np.nan,
                                   rtol=1e-9, atol=1e-9 * max(1.0, frame["v"].abs().max()))
        np.testing.assert_equal(out.loc[i, f"v_roll{window}_max"], last.max() if len(last) else np.nan)


def test_changing_the_current_or_a_later_row_never_changes_a_rows_lags():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"shop": rng.choice(list("abc"), n), "day": rng.permutation(n), "v": rng.normal(size=n),
                          "y": 0.0})
    steps = [{"kind": "lag", "columns": ["v"], "lags": [1, 3], "by": "shop", "time": "day"},
             {"kind": "rolling", "columns": ["v"], "window": 5, "stats": ["mean", "std", "sum"], "time": "day"}]
    recipe = Recipe.from_dict({"features": steps})
    features = ["v_lag1", "v_lag3", "v_roll5_mean", "v_roll5_std", "v_roll5_sum"]
    base = recipe.fit(frame, FitContext(target="y"))[1][features]
    for cut in [0, 57, 150, 298, 299]:
        changed = frame.copy()
        later = changed["day"] >= cut
        changed.loc[later, "v"] = rng.normal(size=later.sum()) * 1000
        again = recipe.fit(changed, FitContext(target="y"))[1][features]
        pd.testing.assert_frame_equal(again[~later], base[~later])
        after = changed["day"] > cut
        assert not again[after].equals(base[after]) or not after.any()  # rows after the cut did see it


def test_a_lagged_target_is_never_read_from_the_row_itself_or_later_new_rows():
    train = pd.DataFrame({"day": [1, 2, 3], "y": [10.0, 20.0, 30.0]})
    later = pd.DataFrame({"day": [4, 5, 6], "y": [40.0, 50.0, 60.0]})
    fitted, out = Recipe.from_dict({"features": [{"kind": "lag", "columns": ["y"], "lags": [1, 2]}]}).fit(
        train, FitContext(target="y", time="day"))
    np.testing.assert_array_equal(out["y_lag1"], [np.nan, 10.0, 20.0])
    scored = fitted.transform(later)  # the target is present here but must not be used
    np.testing.assert_array_equal(scored["y_lag1"], [30.0, np.nan, np.nan])
    np.testing.assert_array_equal(scored["y_lag2"], [20.0, 30.0, np.nan])
    pd.testing.assert_frame_equal(scored.drop(columns="y"), fitted.transform(later.drop(columns="y")))


def test_rows_without_a_time_get_missing_lags_and_are_nobodys_past():
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", None, "2024-01-03"]), "v": [1.0, 2.0, 3.0], "y": 0.0})
    out = Recipe.from_dict({"features": [{"kind": "lag", "columns": ["v"]}]}).fit(
        frame, FitContext(target="y", time="t"))[1]
    np.testing.assert_array_equal(out["v_lag1"], [np.nan, np.nan, 1.0])
