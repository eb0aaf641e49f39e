"""SHAP values for every model family: additive to the model's own output, stored and read back, what-if exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.bundle import ModelBundle
from core.errors import InputError, ValidationError
from core.explain import (
    Explainer, Explanation, explain, explanation_space, permutation_importance, pick_rows, strongest_interaction,
    what_if,
)
from tests.conftest import dataset_path
from tests.model_helpers import kinds_of, make_bundle


def _make(frame, target, task, families=("catboost",), **kwargs):
    """A small real bundle, the column kinds inferred as the Data page does."""
    return make_bundle(frame, kinds_of(frame), target, task, families=families, **kwargs)

TASKS = {"multiclass": "species", "binary": "sex", "regression": "body_mass_g"}
FAMILIES = ("catboost", "hgb", "rf", "et", "linear")


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    return pd.read_csv(dataset_path("penguins.csv"))


def _labelled(penguins, task):
    return penguins.dropna(subset=[TASKS[task]])


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _model_output(bundle: ModelBundle, rows: pd.DataFrame) -> np.ndarray:
    """The output the values must add up to, from the fitted estimators and the public prediction.

    Raw scores come straight from each library's own predict function, and are tied
    to the prediction users see (probabilities are the logistic or softmax of them).
    """
    predicted = bundle.predict(rows)
    if bundle.task == "regression":
        return predicted[["prediction"]].to_numpy(dtype=float)
    proba = predicted[[f"proba:{c}" for c in bundle.classes]].to_numpy(dtype=float)
    if explanation_space(bundle) == "probability":
        return proba[:, 1:] if bundle.task == "binary" else proba
    member = bundle.members[0]
    X = bundle.transform(rows)
    if member.family == "catboost":
        from catboost import Pool

        score = member.estimator.predict(Pool(X, cat_features=bundle.input_spec.categorical),
                                         prediction_type="RawFormulaVal")
    else:
        score = member.estimator.decision_function(X)
    score = np.asarray(score, dtype=float).reshape(len(X), -1)
    if bundle.task == "binary":
        np.testing.assert_allclose(1 / (1 + np.exp(-score[:, 0])), proba[:, 1], rtol=1e-9, atol=1e-12)
    else:
        np.testing.assert_allclose(_softmax(score), proba, rtol=1e-9, atol=1e-12)
    return score


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("families", [(f,) for f in FAMILIES] + [("catboost", "hgb", "rf", "linear")],
                         ids=lambda f: "+".join(f))
def test_base_plus_values_is_the_models_output_for_every_family(penguins, task, families):
    frame = _labelled(penguins, task)
    bundle = _make(frame, TASKS[task], task, families, weights=[0.4, 0.3, 0.2, 0.1][:len(families)])
    assert bundle.input_spec.categorical  # labels (island, sex or species) are features in every case
    result = explain(bundle, frame, max_rows=500)
    rows = frame.loc[result.X.index]
    expected = _model_output(bundle, rows)
    got = result.base[None, :] + result.values.sum(axis=2)
    scale = 1.0 if task != "regression" else float(np.abs(expected).max())
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * scale)
    assert result.values.shape == (len(frame), len(result.outputs), len(bundle.feature_names))
    # every feature does something for some row, and labels are explained as one feature each
    assert (np.abs(result.values).max(axis=(0, 1)) > 0).sum() >= 3
    assert set(result.features) == set(bundle.feature_names)


def test_the_space_follows_what_the_model_adds_up(penguins):
    frame = _labelled(penguins, "binary")
    spaces = {fams: explanation_space(_make(frame, "sex", "binary", fams))
              for fams in [("catboost",), ("rf",), ("linear",), ("catboost", "linear")]}
    assert spaces == {("catboost",): "log-odds", ("rf",): "probability", ("linear",): "log-odds",
                      ("catboost", "linear"): "probability"}


@pytest.mark.parametrize("task, families", [("regression", ("catboost", "hgb", "linear")),
                                            ("multiclass", ("rf", "et"))])
def test_an_ensembles_values_are_the_weighted_sum_of_its_members(penguins, task, families):
    frame = _labelled(penguins, task)
    weights = [3.0, 1.0, 1.0][:len(families)]
    bundle = _make(frame, TASKS[task], task, families, weights=weights)
    X = bundle.transform(frame)
    values, base = Explainer(bundle).shap_values(X)
    expected_values, expected_base = 0.0, 0.0
    for member, weight in zip(bundle.members, weights):
        single = ModelBundle(**{**bundle.__dict__, "members": [member]})
        v, b = Explainer(single).shap_values(X)
        expected_values = expected_values + v * weight / sum(weights)
        expected_base = expected_base + b * weight / sum(weights)
    np.testing.assert_allclose(values, expected_values, atol=1e-9)
    np.testing.assert_allclose(base, expected_base, atol=1e-9)


def test_hgb_values_match_shap_tree_explainer_without_categorical_splits():
    import shap
    from sklearn.ensemble import HistGradientBoostingClassifier

    from core.explain.hgb import hgb_raw_output, hgb_shap_values

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1] * X[:, 2]) > 0).astype(int) + (X[:, 3] > 1)
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    values, base = hgb_shap_values(model, X)
    reference = np.asarray(shap.TreeExplainer(model).shap_values(X))  # (n, features, classes)
    np.testing.assert_allclose(values, np.moveaxis(reference, 2, 1), atol=1e-10)
    np.testing.assert_allclose(hgb_raw_output(model, X), model.decision_function(X), atol=1e-12)
    np.testing.assert_allclose(base + values.sum(axis=2), model.decision_function(X), atol=1e-10)


def test_hgb_categorical_splits_route_unknown_and_missing_labels_as_the_model_does():
    from sklearn.ensemble import HistGradientBoostingRegressor

    from core.explain.hgb import hgb_shap_values

    rng = np.random.default_rng(1)
    codes = rng.integers(0, 12, 2000).astype(float)
    codes[rng.random(2000) < 0.05] = np.nan
    other = rng.normal(size=2000)
    y = np.isin(codes, [1, 4, 7, 10]) * 3.0 + other + rng.normal(size=2000) * 0.1
    X = np.column_stack([codes, other])
    model = HistGradientBoostingRegressor(max_iter=30, categorical_features=[True, False], random_state=0).fit(X, y)
    probe = np.array([[4.0, 0.0], [5.0, 0.0], [np.nan, 0.0], [40.0, 0.0], [-1.0, 0.0]])  # unknown, negative
    values, base = hgb_shap_values(model, probe)
    np.testing.assert_allclose(base + values.sum(axis=2)[:, 0], model.predict(probe), atol=1e-10)
    assert values[0, 0, 0] > 1.0 > values[1, 0, 0]  # category 4 is in the "3 higher" set, 5 is not


def test_linear_values_are_summed_back_to_the_users_columns(penguins):
    frame = _labelled(penguins, "regression")
    bundle = _make(frame, "body_mass_g", "regression", ("linear",))
    row = frame.iloc[[0]]
    before = what_if(bundle, row)
    after = what_if(bundle, row, {"island": "Dream" if row["island"].iloc[0] != "Dream" else "Biscoe",
                                  "bill_depth_mm": np.nan})
    moved = before.frame().iloc[0] - after.frame().iloc[0]
    # only the two edited columns change their values (one-hot columns and the missing flag fold back)
    assert set(moved[moved.abs() > 1e-9].index) == {"island", "bill_depth_mm"}
    assert moved.sum() == pytest.approx(float(before.output()[0] - after.output()[0]))


@pytest.mark.parametrize("task", list(TASKS))
def test_what_if_changes_the_prediction_exactly_as_the_model_does(penguins, task):
    frame = _labelled(penguins, task)
    bundle = _make(frame, TASKS[task], task, ("catboost", "hgb"), weights=[0.7, 0.3])
    row = frame.iloc[[10]]
    changes = {"flipper_length_mm": 231.0, "island": "Dream"} if task != "multiclass" else \
        {"bill_length_mm": 52.0, "island": "Dream"}
    result = what_if(bundle, row, changes)
    edited = row.copy()
    for column, value in changes.items():
        edited[column] = value
    pd.testing.assert_frame_equal(result.predictions, bundle.predict(edited))
    assert not result.predictions.equals(bundle.predict(row))  # the edit did move the prediction
    np.testing.assert_allclose(result.base + result.values.sum(axis=2), _model_output(bundle, edited), atol=1e-9)
    assert result.X.loc[row.index[0], "island"] == "Dream"


def test_what_if_refuses_unknown_columns_and_several_rows(penguins):
    bundle = _make(_labelled(penguins, "binary"), "sex", "binary", ("linear",))
    with pytest.raises(ValidationError, match="no column 'wingspan'"):
        what_if(bundle, penguins.iloc[[0]], {"wingspan": 3})
    with pytest.raises(ValidationError, match="one row at a time"):
        what_if(bundle, penguins.iloc[:2])


def test_a_sample_is_explained_and_its_size_kept(penguins):
    bundle = _make(_labelled(penguins, "multiclass"), "species", "multiclass", ("catboost",))
    result = explain(bundle, penguins, max_rows=100, seed=3)
    assert (result.n, result.total_rows) == (100, len(penguins))
    assert list(result.X.index) == sorted(result.X.index)  # back in the data's row order
    again = explain(bundle, penguins, max_rows=100, seed=3)
    assert list(again.X.index) == list(result.X.index)
    assert explain(bundle, penguins, max_rows=300, time_limit=1e-9).n == 300  # CatBoost is never limited
    forest = _make(_labelled(penguins, "multiclass"), "species", "multiclass", ("catboost", "rf"))
    tiny = explain(forest, penguins, max_rows=300, time_limit=1e-9)
    assert tiny.n == 16 and tiny.info["stopped_by_time_limit"]
    with pytest.raises(ValidationError, match="from 1 to"):
        explain(bundle, penguins, max_rows=0)
    with pytest.raises(InputError, match="no rows"):
        explain(bundle, penguins.iloc[:0])


def test_an_explanation_round_trips_through_parquet(penguins):
    bundle = _make(_labelled(penguins, "multiclass"), "species", "multiclass", ("catboost", "rf"))
    result = explain(bundle, penguins, max_rows=60)
    result.importance = permutation_importance(bundle, penguins, repeats=2, max_rows=100)
    back = Explanation.from_parquet(result.to_parquet())
    np.testing.assert_array_equal(back.values, result.values)
    np.testing.assert_array_equal(back.base, result.base)
    pd.testing.assert_frame_equal(back.X, result.X)
    pd.testing.assert_frame_equal(back.predictions, result.predictions)
    pd.testing.assert_series_equal(back.actual, result.actual)
    assert back.importance == result.importance and back.outputs == ["Adelie", "Chinstrap", "Gentoo"]
    plain = pd.read_parquet(__import__("io").BytesIO(result.to_parquet()))
    assert {"row", "shap:Gentoo:island", "value:island", "base:Adelie", "output:Gentoo", "actual"} <= set(plain)
    with pytest.raises(InputError, match="not an Assay explanation"):
        Explanation.from_parquet(b"PAR1 not really")


def test_rows_are_picked_by_error_and_by_prediction(penguins):
    frame = _labelled(penguins, "regression")
    bundle = _make(frame, "body_mass_g", "regression", ("linear",))
    result = explain(bundle, frame)
    errors = (result.actual - result.predictions["prediction"]).abs().sort_values(ascending=False)
    picked = pick_rows(result, "largest errors", limit=5)
    assert list(picked["row"]) == list(errors.index[:5])
    highest = pick_rows(result, "highest predicted", limit=3)
    assert list(highest["row"]) == list(result.predictions["prediction"].nlargest(3).index)
    unlabelled = explain(bundle, frame.drop(columns=["body_mass_g"]), max_rows=50)
    with pytest.raises(InputError, match="no target values"):
        pick_rows(unlabelled, "largest errors")


def test_largest_errors_of_a_classifier_are_the_least_likely_actual_classes(penguins):
    frame = _labelled(penguins, "binary")
    bundle = _make(frame, "sex", "binary", ("catboost",))
    result = explain(bundle, frame)
    picked = pick_rows(result, "largest errors", limit=3)
    given = [result.predictions.loc[r, f"proba:{result.actual[r]}"] for r in picked["row"]]
    assert given == sorted(given) and given[0] == min(
        result.predictions.loc[r, f"proba:{a}"] for r, a in result.actual.items())


def test_permutation_importance_finds_the_feature_the_target_is_made_of():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"signal": rng.normal(size=600), "noise": rng.normal(size=600),
                          "colour": rng.choice(["red", "blue"], 600)})
    frame["y"] = 3 * frame["signal"] + rng.normal(size=600) * 0.1
    bundle = _make(frame, "y", "regression", ("catboost",), metric="rmse")
    importance = permutation_importance(bundle, frame, repeats=3)
    by = dict(zip(importance.features, importance.mean))
    assert by["signal"] > 1.0 and abs(by["noise"]) < 0.2 * by["signal"] and importance.metric == "rmse"
    with pytest.raises(InputError, match="no target column 'y'"):
        permutation_importance(bundle, frame.drop(columns=["y"]))


def test_the_strongest_interaction_is_the_feature_that_changes_the_effect():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=800), "b": rng.choice([-1.0, 1.0], 800),
                          "c": rng.normal(size=800)})
    frame["y"] = frame["a"] * frame["b"] + 0.1 * frame["c"]
    bundle = _make(frame, "y", "regression", ("catboost",), iterations=200)
    result = explain(bundle, frame)
    assert strongest_interaction(result, "a") == "b"


def test_the_holdout_importance_of_a_training_run_travels_with_the_explanation():
    from core.explain import holdout_importance
    from tests.model_helpers import signal_and_noise, train_with_holdout_importance

    frame = signal_and_noise(600)
    result = train_with_holdout_importance(frame, "y", budget=4.0, families=("linear",))
    bundle = ModelBundle.from_bytes(result.bundle.to_bytes())
    stored = result.summary["holdout_importance"]
    assert stored["status"] == "done", stored
    importance, why = holdout_importance(bundle.metadata)
    assert why == "" and importance.features == stored["columns"] and importance.mean == stored["mean"]
    assert importance.rows == 120 and importance.metric_label == "RMSE" and "never saw" in importance.note
    explained = explain(bundle, frame, max_rows=50)
    back = Explanation.from_parquet(explained.to_parquet())
    assert back.holdout_importance == importance and back.importance is None


@pytest.mark.parametrize("metadata, says", [
    ({}, "not available for this model: it was trained before Assay measured it"),
    ({"holdout_importance": {"status": "skipped", "reason": "no time was left in the budget (0.1 s for 4 "
                                                            "column(s) x 2 shuffles)"}},
     "was not measured when this model was trained: no time was left in the budget (0.1 s"),
    ({"holdout_importance": {"status": "done", "columns": ["a"], "mean": [1.0, 2.0], "std": [0.0]}}, "damaged"),
    ({"holdout_importance": "garbage"}, "not available for this model"),
])
def test_a_model_without_holdout_importance_says_why(metadata, says):
    from core.explain import holdout_importance

    importance, why = holdout_importance(metadata)
    assert importance is None and says in why


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_linear_values_add_up_with_flagged_and_plain_numbers(penguins, task):
    # bill_depth_mm misses in 20 rows (it gets a missing-value flag); the other numbers
    # miss in 2 (filled only): both kinds of number columns must be summed back right
    frame = _labelled(penguins, task).copy()
    frame.loc[frame.index[:20], "bill_depth_mm"] = np.nan
    bundle = _make(frame, TASKS[task], task, ("linear",))
    prep = bundle.members[0].estimator.named_steps["prep"]
    assert {"num", "num_plain"} <= set(prep.named_transformers_)
    result = explain(bundle, frame, max_rows=500)
    expected = _model_output(bundle, frame.loc[result.X.index])
    got = result.base[None, :] + result.values.sum(axis=2)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-7)
    depth = result.features.index("bill_depth_mm")
    assert np.abs(result.values[:20, :, depth]).max() > 0  # the flag's effect lands on its column
