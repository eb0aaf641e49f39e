"""Small real models for scoring tests: built the way training builds them, in a second or two."""

from __future__ import annotations

import pandas as pd

from core import ingest
from core.bundle import Member, ModelBundle
from core.recipe import Recipe
from core.steps import FitContext
from core.train import zoo
from core.train.prep import infer_spec
from core.train.tasks import class_order, encode_target

PARAMS = {
    "catboost": {"family": "catboost", "depth": 4, "l2_leaf_reg": 3.0, "random_strength": 1.0,
                 "bagging_temperature": 1.0, "one_hot_max_size": 2},
    "rf": {"family": "rf", "n_estimators": 20, "max_features": 0.5, "min_samples_leaf": 2},
    "et": {"family": "et", "n_estimators": 15, "max_features": 0.8, "min_samples_leaf": 2},
    "hgb": {"family": "hgb", "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 10,
            "l2_regularization": 0.0, "max_features": 1.0},
    "linear": {"family": "linear", "C": 1.0},
}


def load(path) -> tuple[pd.DataFrame, dict[str, str]]:
    """A table read as the Data page reads it, and its column kinds."""
    loaded = ingest.load(path)
    return loaded.frame, {n: c["kind"] for n, c in loaded.schema()["columns"].items()}


def kinds_of(frame: pd.DataFrame) -> dict[str, str]:
    """Column kinds as the Data page infers them (for frames made in a test)."""
    from core.schema import infer_column

    return {str(c): infer_column(frame[c], str(c)).kind.value for c in frame.columns}


def make_bundle(frame: pd.DataFrame, kinds: dict[str, str], target: str, task: str, *,
                recipe: Recipe | None = None, families=("catboost",), iterations: int = 40,
                weights: list[float] | None = None, metric: str | None = None) -> ModelBundle:
    """A bundle of ``families`` (ensemble ``weights``, 1 each by default) fitted on the labelled rows."""
    recipe = recipe or Recipe()
    fitted, cleaned = recipe.fit(frame, FitContext(target=target, kinds=kinds))
    cleaned = cleaned.dropna(subset=[target])
    y_raw = cleaned.pop(target)
    classes = class_order(y_raw, task) if task != "regression" else None
    y = encode_target(y_raw, task, classes)
    spec, _ = infer_spec(cleaned, kinds)
    X = spec.transform(cleaned)
    ctx = zoo.ZooContext(task=task, n_classes=len(classes or []), spec=spec, threads=1)
    members = [Member(f, zoo.fit_final(PARAMS[f], X, y, ctx, iterations), weight=w, params=PARAMS[f], name=f)
               for f, w in zip(families, weights or [1.0] * len(families))]
    used = set(spec.source_columns) | {c for s in (*recipe.clean, *recipe.features) for c in s.columns_in()}
    bundle = ModelBundle(
        task=task, target=target, classes=classes,
        input_schema={c: kinds[c] for c in map(str, frame.columns) if c in used and c != target},
        feature_names=spec.feature_names, fitted_recipe=fitted, input_spec=spec, members=members,
        metadata={"metric": metric or ("log_loss" if task == "multiclass" else None), "seed": 0},
    )
    bundle.set_reference(frame)
    bundle.learn_importance(X)
    return bundle


def store_model(engine, project_id: int, bundle: ModelBundle, frame: pd.DataFrame, *, dataset_name: str = "training",
                name: str | None = None, run: dict | None = None) -> int:
    """Keep ``bundle`` in the store as training does (a dataset, a run, a chosen model); returns the model id."""
    from core import store

    with store.write_session(engine) as s:
        dataset = store.save_dataset(s, project_id, dataset_name, frame, roles={"target": bundle.target})
        row = store.Run(project_id=project_id, dataset_id=dataset.id, target=bundle.target, task=bundle.task,
                        metric=bundle.metadata.get("metric") or "", status="done", **(run or {}))
        s.add(row)
        s.flush()
        model = store.Model(project_id=project_id, run_id=row.id, name=name or f"{bundle.target} · {_kind(bundle)}",
                            kind=_kind(bundle), blob_sha=store.put_blob(s, bundle.to_bytes()),
                            features=bundle.feature_names, chosen=True,
                            metrics={"metric": row.metric, "holdout": bundle.metadata.get("holdout")})
        s.add(model)
        s.flush()
        return model.id


def _kind(bundle: ModelBundle) -> str:
    return "ensemble" if len(bundle.members) > 1 else bundle.members[0].family


def dataset_of(engine, model_id: int) -> int:
    """The dataset a stored model was trained on."""
    from core import store

    with store.read_session(engine) as s:
        return s.get(store.Run, s.get(store.Model, model_id).run_id).dataset_id


def signal_and_noise(rows: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A table whose target ``y`` is made of ``signal`` (strongly) and ``weak``; ``noise`` and ``colour`` are noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"signal": rng.normal(size=rows), "weak": rng.normal(size=rows),
                          "noise": rng.normal(size=rows), "colour": rng.choice(list("abcde"), rows)})
    frame["y"] = 5 * frame["signal"] + frame["weak"] + 0.3 * rng.normal(size=rows)
    return frame


def train_with_holdout_importance(frame: pd.DataFrame, target: str, *, budget: float = 4.0, recipe=None, **config):
    """A real short training run whose permutation importance on the holdout is given 30 seconds, whatever is
    left of the budget, so that it is measured even on a busy machine (how it keeps to the budget is tested on
    :func:`core.train.importance.holdout_importance` itself)."""
    from core.train import run
    from core.train.config import TrainConfig

    measure = run._importance
    run._importance = lambda prep, predict, selection, evaluated, seconds: measure(prep, predict, selection,
                                                                                   evaluated, max(seconds, 30.0))
    try:
        return run.train(frame, TrainConfig(target=target, time_budget=budget, threads=1, **config), recipe=recipe)
    finally:
        run._importance = measure
