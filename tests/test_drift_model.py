"""Drift with a model: prediction drift, performance drift, columns ranked by importance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import drift, drift_report, store
from core.bundle import Member, ModelBundle
from core.drift_model import list_models, load_bundle
from core.errors import NotFoundError
from core.recipe import Recipe
from core.steps import FitContext
from core.train import zoo
from core.train.prep import infer_spec
from core.train.tasks import class_order, encode_target
from tests.conftest import dataset_path

CATBOOST = {"family": "catboost", "depth": 4, "l2_leaf_reg": 3.0, "random_strength": 1.0,
            "bagging_temperature": 1.0, "one_hot_max_size": 2}


def tiny_bundle(frame: pd.DataFrame, target: str, task: str, metadata: dict | None = None) -> ModelBundle:
    """A one-member CatBoost bundle, built the way training builds one."""
    fitted, cleaned = Recipe().fit(frame, FitContext(target=target))
    y_raw, cleaned = cleaned[target], cleaned.drop(columns=[target])
    classes = class_order(y_raw, task) if task != "regression" else None
    spec, _ = infer_spec(cleaned)
    X = spec.transform(cleaned)
    ctx = zoo.ZooContext(task=task, n_classes=len(classes or []), spec=spec, threads=1)
    member = Member("catboost", zoo.fit_final(CATBOOST, X, encode_target(y_raw, task, classes), ctx, 60),
                    params=CATBOOST, name="catboost")
    bundle = ModelBundle(task=task, target=target, classes=classes,
                         input_schema={c: "float" for c in frame.columns if c != target},
                         feature_names=spec.feature_names, fitted_recipe=fitted, input_spec=spec,
                         members=[member], metadata=metadata or {})
    bundle.set_reference(frame)
    bundle.learn_importance(X)
    return ModelBundle.from_bytes(bundle.to_bytes())


@pytest.fixture(scope="module")
def diamonds_parts():
    frame = pd.read_csv(dataset_path("diamonds.csv"))
    order = np.random.default_rng(0).permutation(len(frame))
    return [frame.iloc[order[i * 4000:(i + 1) * 4000]].reset_index(drop=True) for i in range(3)]


@pytest.fixture(scope="module")
def price_model(diamonds_parts):
    return tiny_bundle(diamonds_parts[0], "price", "regression")


def test_same_population_keeps_predictions_and_performance(price_model, diamonds_parts):
    result = drift.compare(diamonds_parts[1], diamonds_parts[2], model=price_model)
    model = result.model
    assert result.status == "stable", result.headline
    assert model["status"] == "stable" and model["predictions"][0]["status"] == "stable"
    perf = model["performance"]
    assert perf["metric"] == "rmse" and perf["baseline_from"] == "the reference rows"
    assert perf["status"] == "stable" and abs(perf["worse_by"]) < 0.05
    assert model["importance_order"][0] in ("carat", "y", "x", "z", "clarity")
    assert sum(model["importance"].values()) == pytest.approx(1.0)
    assert result.column("carat").importance == model["importance"]["carat"]


def test_a_shift_in_an_important_feature_moves_predictions_and_hurts_performance(price_model, diamonds_parts):
    current = diamonds_parts[2].copy()
    for column in ("carat", "x", "y", "z"):  # bigger stones, same prices: the model overprices them
        current[column] = current[column] * 1.25
    result = drift.compare(price_model.reference_frame(), current, model=price_model,
                           reference_name="training rows")
    model = result.model
    assert model["status"] == "drift" and model["predictions"][0]["status"] == "drift"
    assert model["performance"]["status"] == "drift" and model["performance"]["worse_by"] > 0.2
    assert model["drifted_importance"] > 0.5
    lines = "\n".join(model["lines"])
    assert "Performance: drift: RMSE" in lines and "Drifted columns carry" in lines
    drifted = [c.name for c in result.drifted]
    assert set(drifted) >= {"carat", "x", "y", "z"}
    ranked = sorted(drifted, key=lambda n: -(result.column(n).importance or 0))
    assert result.headline.startswith(f"Drift: {len(drifted)} of 10 columns drifted ({', '.join(ranked[:5])}")
    assert "The model's predictions moved. Its RMSE" in result.headline
    assert [p.name for p in result.predictions] == ["prediction"]
    page = drift_report.to_html(result)
    assert "Performance: drift: RMSE" in page and page.count('class="plotly-graph-div"') >= 3


def test_the_holdout_score_is_the_baseline_when_the_model_has_one(diamonds_parts):
    bundle = tiny_bundle(diamonds_parts[0], "price", "regression", {"metric": "mae", "holdout": 100.0})
    perf = drift.compare(bundle.reference_frame(), diamonds_parts[1], model=bundle).model["performance"]
    assert perf["metric"] == "mae" and perf["holdout"] == 100.0 and perf["baseline"] == 100.0
    assert perf["baseline_from"] == "the holdout at training" and perf["status"] == "drift"  # MAE is ~300


@pytest.mark.parametrize("name, target, task, proba", [
    ("penguins.csv", "species", "multiclass", False),
    ("credit_scoring.csv", "Status", "binary", True),
])
def test_classifiers_compare_labels_and_probabilities(name, target, task, proba):
    frame = pd.read_csv(dataset_path(name)).dropna(subset=[target])
    order = np.random.default_rng(1).permutation(len(frame))
    half = len(frame) // 2
    train, rest = frame.iloc[order[:half]], frame.iloc[order[half:]].copy()
    bundle = tiny_bundle(train, target, task)
    rest.loc[rest.index[:5], target] = "never seen"
    result = drift.compare(train, rest, model=bundle)
    names = [p.name for p in result.predictions]
    assert names == (["prediction", f"proba:{bundle.positive_class}"] if proba else ["prediction"])
    assert result.predictions[0].test == "categorical"
    perf = result.model["performance"]
    assert perf["unknown_labels"] == 5 and perf["rows"][1] == len(rest) - 5
    assert perf["label"] == ("ROC-AUC" if task == "binary" else "accuracy")
    assert f"5 current rows have a {target!r} the model never saw" in "\n".join(result.model["lines"])


def test_current_rows_without_a_model_column(price_model, diamonds_parts):
    current = diamonds_parts[1].drop(columns=["carat"])
    result = drift.compare(diamonds_parts[0], current, model=price_model)
    assert result.model["status"] == "drift" and result.model["missing_inputs"] == ["carat"]
    assert result.status == "drift"
    assert "The model cannot score the current rows: they lack 'carat'." in result.headline


def test_models_are_listed_and_loaded_from_the_store(engine, project_id, price_model, diamonds_parts):
    with store.write_session(engine) as s:
        dataset = store.save_dataset(s, project_id, "d", diamonds_parts[0])
        run = store.Run(project_id=project_id, dataset_id=dataset.id, target="price", task="regression",
                        metric="rmse")
        s.add(run)
        s.flush()
        s.add(store.Model(project_id=project_id, run_id=run.id, name="price · catboost", kind="catboost",
                          blob_sha=store.put_blob(s, price_model.to_bytes())))
    with store.read_session(engine) as s:
        [model] = list_models(s, project_id)
        bundle = load_bundle(s, model.id, project_id)
        with pytest.raises(NotFoundError, match="Model .* does not exist in this project."):
            load_bundle(s, model.id, project_id + 1)
    rows = diamonds_parts[1].head(50)
    pd.testing.assert_frame_equal(bundle.predict(rows), price_model.predict(rows))
