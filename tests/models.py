"""Small real models for tests: bundles built the way training builds them, and stored like training stores them."""

from __future__ import annotations

import pandas as pd

from core import store
from core.bundle import Member, ModelBundle
from core.recipe import Recipe
from core.steps import FitContext
from core.train import zoo
from core.train.prep import infer_spec
from core.train.tasks import class_order, encode_target

PARAMS = {
    "catboost": {"family": "catboost", "depth": 4, "l2_leaf_reg": 3.0, "random_strength": 1.0,
                 "bagging_temperature": 1.0, "one_hot_max_size": 2},
    "rf": {"family": "rf", "n_estimators": 15, "max_features": 0.6, "min_samples_leaf": 3},
    "et": {"family": "et", "n_estimators": 15, "max_features": 0.8, "min_samples_leaf": 2},
    "hgb": {"family": "hgb", "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 10,
            "l2_regularization": 0.0, "max_features": 1.0},
    "linear": {"family": "linear", "C": 1.0},
}


def make_bundle(frame: pd.DataFrame, target: str, task: str, families=("catboost",), weights=None,
                iterations: int = 40, metric: str | None = None) -> ModelBundle:
    """A bundle of ``families`` (weights default to 1 each) fitted on ``frame``'s labelled rows with zoo's code."""
    frame = frame.dropna(subset=[target])
    fitted, cleaned = Recipe().fit(frame, FitContext(target=target))
    y_raw, cleaned = cleaned[target], cleaned.drop(columns=[target])
    classes = class_order(y_raw, task) if task != "regression" else None
    y = encode_target(y_raw, task, classes)
    spec, _ = infer_spec(cleaned)
    X = spec.transform(cleaned)
    ctx = zoo.ZooContext(task=task, n_classes=len(classes or []), spec=spec, threads=1)
    weights = weights or [1.0] * len(families)
    members = []
    for family, weight in zip(families, weights):
        params = dict(PARAMS[family])
        if family == "linear" and task == "regression":
            params["l1_ratio"] = 0.5
        members.append(Member(family, zoo.fit_final(params, X, y, ctx, iterations), weight=weight, params=params,
                              name=family))
    bundle = ModelBundle(
        task=task, target=target, classes=classes,
        input_schema={c: "float" for c in frame.columns if c != target}, feature_names=spec.feature_names,
        fitted_recipe=fitted, input_spec=spec, members=members, threshold=0.5 if task == "binary" else None,
        metadata={"metric": metric} if metric else {},
    )
    bundle.set_reference(frame)
    return bundle


def store_model(engine, project_id: int, frame: pd.DataFrame, bundle: ModelBundle, *,
                dataset_name: str = "data", name: str | None = None) -> tuple[int, int]:
    """Save ``frame`` as a dataset and ``bundle`` as a model of a finished run on it: (model id, dataset id)."""
    with store.write_session(engine) as s:
        dataset = store.save_dataset(s, project_id, dataset_name, frame, roles={"target": bundle.target})
        run = store.Run(project_id=project_id, dataset_id=dataset.id, target=bundle.target, task=bundle.task,
                        metric="", status="done")
        s.add(run)
        s.flush()
        kind = "ensemble" if len(bundle.members) > 1 else bundle.members[0].family
        model = store.Model(project_id=project_id, run_id=run.id, name=name or f"{bundle.target} · {kind}",
                            kind=kind, blob_sha=store.put_blob(s, bundle.to_bytes()),
                            features=bundle.feature_names, chosen=True)
        s.add(model)
        s.flush()
        return model.id, dataset.id
