"""The model zoo: families, their search spaces, and how each one fits inside a time limit.

Families:

- ``catboost``: CatBoost with native categorical handling and early stopping (the main one);
- ``hgb``: scikit-learn's HistGradientBoosting with native categories and early stopping;
- ``rf`` / ``et``: random forest and extra trees on ordinal-coded labels (missing values native);
- ``linear``: logistic regression, Ridge or ElasticNet after imputation, scaling and one-hot coding.

Every family takes the model-input table of :mod:`core.train.prep` and returns
predictions in the task's form (see :mod:`core.train.tasks`). During the search a
fold's encoded matrices are cached and shared by every trial; the final model is a
self-contained estimator (a CatBoost model, or a scikit-learn ``Pipeline`` that
starts with its encoder), which :mod:`core.bundle` stores without pickle.

Time: CatBoost stops at the fold's deadline through a callback; forests grow in
chunks (``warm_start``) and stop adding trees at it; HistGradientBoosting's
iteration cap is set from its measured cost per iteration.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.train.prep import InputSpec

__all__ = [
    "FAMILIES", "FAMILY_LABELS", "ZooContext", "FoldData", "FoldFit", "suggest", "portfolio",
    "fit_fold", "fit_final", "predict", "predict_fold", "self_contained", "describe_params",
    "catboost_pools",
]

FAMILIES = ("catboost", "hgb", "rf", "et", "linear")
FAMILY_LABELS = {
    "catboost": "CatBoost", "hgb": "HistGradientBoosting", "rf": "Random forest",
    "et": "Extra trees", "linear": "Linear", "ensemble": "Ensemble",
}
MAX_ITERATIONS = 20_000
_HGB_PATIENCE = 20
_TREE_CHUNK = 25


@dataclass
class ZooContext:
    """What every fit needs to know besides its rows and parameters."""

    task: str
    n_classes: int
    spec: InputSpec
    threads: int = 2
    seed: int = 0
    class_weights: bool = False
    base_lr: float = 0.08  # CatBoost learning rate that fits the budget (set from a probe)

    @property
    def classification(self) -> bool:
        return self.task != "regression"


@dataclass
class FoldData:
    """One fold's model-input rows; encoded forms are computed once and shared by trials."""

    X_train: pd.DataFrame
    y_train: np.ndarray
    X_valid: pd.DataFrame
    y_valid: np.ndarray
    fitted: Any = None  # the recipe fitted on this fold's training rows (None: no feature steps)
    cache: dict = field(default_factory=dict)


@dataclass
class FoldFit:
    prediction: np.ndarray
    iterations: int | None
    fit_s: float
    predict_s: float
    capped: bool = False  # stopped by the time limit before it converged
    model: Any = None  # the fitted estimator (on this fold's encoded rows; see predict_fold)


# --------------------------------------------------------------------------- search spaces


def suggest(trial, ctx: ZooContext) -> dict:
    """Ask ``trial`` (an Optuna trial) for a family and its parameters.

    Parameter names carry their family (``catboost.depth``) so that the space is
    conditional and the same in every process taking part in a run.
    """
    family = trial.suggest_categorical("family", list(FAMILIES))
    p: dict[str, Any] = {"family": family}
    if family == "catboost":
        p["lr_scale"] = trial.suggest_float("catboost.lr_scale", 0.5, 2.0, log=True)
        p["depth"] = trial.suggest_int("catboost.depth", 4, 10)
        p["l2_leaf_reg"] = trial.suggest_float("catboost.l2_leaf_reg", 0.5, 30.0, log=True)
        p["random_strength"] = trial.suggest_float("catboost.random_strength", 0.1, 10.0, log=True)
        p["bagging_temperature"] = trial.suggest_float("catboost.bagging_temperature", 0.0, 2.0)
        p["one_hot_max_size"] = trial.suggest_categorical("catboost.one_hot_max_size", [2, 10])
    elif family == "hgb":
        p["learning_rate"] = trial.suggest_float("hgb.learning_rate", 0.02, 0.3, log=True)
        p["max_leaf_nodes"] = trial.suggest_int("hgb.max_leaf_nodes", 8, 128, log=True)
        p["min_samples_leaf"] = trial.suggest_int("hgb.min_samples_leaf", 2, 100, log=True)
        p["l2_regularization"] = trial.suggest_float("hgb.l2_regularization", 1e-4, 10.0, log=True)
        p["max_features"] = trial.suggest_float("hgb.max_features", 0.3, 1.0)
    elif family in ("rf", "et"):
        p["n_estimators"] = trial.suggest_int(f"{family}.n_estimators", 100, 500, step=50)
        p["max_features"] = trial.suggest_float(f"{family}.max_features", 0.1, 1.0)
        p["min_samples_leaf"] = trial.suggest_int(f"{family}.min_samples_leaf", 1, 30, log=True)
    else:
        p["C"] = trial.suggest_float("linear.C", 1e-3, 1e3, log=True)
        if ctx.task == "regression":
            p["l1_ratio"] = trial.suggest_categorical("linear.l1_ratio", [0.0, 0.1, 0.5, 0.9])
    return p


def portfolio(ctx: ZooContext) -> list[dict]:
    """Configurations known to be strong across many tables, tried first (zero-shot).

    The first is CatBoost near its defaults (depth 6, the budget's learning rate), which
    is rarely far from the best; the rest add families that ensemble well with it.
    Values use the search-space names so that TPE learns from them.
    """
    regression = ctx.task == "regression"
    linear = {"family": "linear", "linear.C": 1.0, **({"linear.l1_ratio": 0.0} if regression else {})}
    return [
        {"family": "catboost", "catboost.lr_scale": 1.0, "catboost.depth": 6, "catboost.l2_leaf_reg": 3.0,
         "catboost.random_strength": 1.0, "catboost.bagging_temperature": 1.0, "catboost.one_hot_max_size": 2},
        {"family": "hgb", "hgb.learning_rate": 0.08, "hgb.max_leaf_nodes": 31, "hgb.min_samples_leaf": 20,
         "hgb.l2_regularization": 0.01, "hgb.max_features": 1.0},
        linear,
        {"family": "et", "et.n_estimators": 300, "et.max_features": 0.7, "et.min_samples_leaf": 1},
        {"family": "catboost", "catboost.lr_scale": 1.0, "catboost.depth": 8, "catboost.l2_leaf_reg": 10.0,
         "catboost.random_strength": 1.0, "catboost.bagging_temperature": 0.5, "catboost.one_hot_max_size": 10},
        {"family": "rf", "rf.n_estimators": 300, "rf.max_features": 0.5, "rf.min_samples_leaf": 2},
        {"family": "hgb", "hgb.learning_rate": 0.05, "hgb.max_leaf_nodes": 64, "hgb.min_samples_leaf": 10,
         "hgb.l2_regularization": 1.0, "hgb.max_features": 0.6},
        {"family": "catboost", "catboost.lr_scale": 1.0, "catboost.depth": 4, "catboost.l2_leaf_reg": 1.0,
         "catboost.random_strength": 0.5, "catboost.bagging_temperature": 0.0, "catboost.one_hot_max_size": 2},
    ]


def from_trial_params(params: dict) -> dict:
    """Optuna's flat ``{"catboost.depth": 6, ...}`` as ``{"family": ..., "depth": 6}``."""
    family = params["family"]
    out = {"family": family}
    for key, value in params.items():
        if key.startswith(family + "."):
            out[key.split(".", 1)[1]] = value
    return out


def describe_params(params: dict) -> str:
    """Short text for the leaderboard: ``depth 6 · lr 0.08 · l2 3``."""
    short = {"learning_rate": "lr", "l2_leaf_reg": "l2", "random_strength": "strength",
             "bagging_temperature": "bagging", "one_hot_max_size": "one-hot ≤", "max_leaf_nodes": "leaves",
             "min_samples_leaf": "min leaf", "l2_regularization": "l2", "max_features": "features",
             "n_estimators": "trees", "l1_ratio": "L1 share", "iterations": "iterations"}
    parts = []
    for key, value in params.items():
        if key in ("family", "lr_scale"):
            continue
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{short.get(key, key)} {shown}")
    return " · ".join(parts)


# --------------------------------------------------------------------------- encoders


def _ordinal_encoder(spec: InputSpec):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    cats = spec.categorical
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                             encoded_missing_value=np.nan, max_categories=250, dtype=np.float64)
    return ColumnTransformer([("cat", encoder, cats)], remainder="passthrough",
                             verbose_feature_names_out=False, sparse_threshold=0.0)


MIN_MISSING_FOR_FLAG = 5  # a missing-value flag learned from fewer training rows is noise


def _onehot_encoder(spec: InputSpec, rows: pd.DataFrame | None = None):
    """Scaled numbers and one-hot labels for the linear models.

    Numbers missing in at least :data:`MIN_MISSING_FOR_FLAG` of ``rows`` (the training
    rows) get a missing-value flag beside the median fill ("flagged"); the others are
    only filled. A flag learned from a row or two lets an unregularised model turn
    "missing" into certainty about whatever class those rows had.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def numbers(flag: bool):
        return Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=flag, keep_empty_features=True)),
                         ("scale", StandardScaler())])

    missing = rows[spec.numeric].isna().sum() if rows is not None and spec.numeric else None
    flagged = [c for c in spec.numeric if missing is None or missing[c] >= MIN_MISSING_FOR_FLAG]
    plain = [c for c in spec.numeric if c not in flagged]
    parts = [("num", numbers(True), flagged)] if flagged else []
    if plain:
        parts.append(("num_plain", numbers(False), plain))
    if spec.categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5,
                                           max_categories=50, sparse_output=True), spec.categorical))
    return ColumnTransformer(parts, sparse_threshold=0.3)


def _encoded(fold: FoldData, kind: str, spec: InputSpec):
    """(train matrix, valid matrix) for an encoding, computed once per fold (the encoder is kept)."""
    if kind not in fold.cache:
        encoder = _ordinal_encoder(spec) if kind == "ordinal" else _onehot_encoder(spec, fold.X_train)
        fold.cache[kind] = (encoder.fit_transform(fold.X_train), encoder.transform(fold.X_valid), encoder)
    return fold.cache[kind][:2]


def self_contained(family: str, model, fold: FoldData):
    """A fold model as a final estimator (its fold's encoder in front of scikit-learn models)."""
    if family == "catboost":
        return model
    from sklearn.pipeline import Pipeline

    return Pipeline([("prep", fold.cache["onehot" if family == "linear" else "ordinal"][2]), ("model", model)])


def predict_fold(family: str, model, fold: FoldData, X: pd.DataFrame, ctx: ZooContext,
                 memo: dict | None = None) -> np.ndarray:
    """Predictions of a model from :func:`fit_fold` on other rows (already in model-input form).

    ``memo``, a dict the caller keeps for one ``X``, holds the encoded rows so that
    several models of the same folds encode them once (the CatBoost pool is shared by
    every fold; the encoders are per fold).
    """
    memo = {} if memo is None else memo
    if family == "catboost":
        from catboost import Pool

        if "pool" not in memo:
            memo["pool"] = Pool(X, cat_features=ctx.spec.categorical)
        return _output(model, memo["pool"], ctx)
    kind = "onehot" if family == "linear" else "ordinal"
    key = (kind, id(fold))
    if key not in memo:
        memo[key] = fold.cache[kind][2].transform(X)
    return _output(model, memo[key], ctx)


def catboost_pools(fold: FoldData, ctx: ZooContext):
    """(train pool, valid pool) of a fold, built once and shared by every CatBoost trial."""
    if "pool" not in fold.cache:
        from catboost import Pool

        cats = ctx.spec.categorical
        fold.cache["pool"] = (Pool(fold.X_train, fold.y_train, cat_features=cats),
                              Pool(fold.X_valid, fold.y_valid, cat_features=cats))
    return fold.cache["pool"]


def _hgb_categorical_mask(spec: InputSpec) -> list[bool]:
    n_cat = len(spec.categorical)
    return [True] * n_cat + [False] * (len(spec.feature_names) - n_cat)


# --------------------------------------------------------------------------- estimators


class _Clock:
    """CatBoost callback: stop at the deadline, or when the job is cancelled."""

    def __init__(self, deadline: float, cancelled: Callable[[], bool] | None):
        self.deadline = deadline
        self.cancelled = cancelled
        self.stopped = False

    def after_iteration(self, info) -> bool:
        if time.monotonic() >= self.deadline or (self.cancelled is not None and self.cancelled()):
            self.stopped = True
            return False
        return True


def _catboost(params: dict, ctx: ZooContext, iterations: int):
    from catboost import CatBoostClassifier, CatBoostRegressor

    kwargs = dict(
        iterations=iterations, learning_rate=ctx.base_lr * params.get("lr_scale", 1.0), depth=params["depth"],
        l2_leaf_reg=params["l2_leaf_reg"], random_strength=params["random_strength"],
        bagging_temperature=params["bagging_temperature"], one_hot_max_size=params["one_hot_max_size"],
        thread_count=ctx.threads, random_seed=ctx.seed, verbose=0, allow_writing_files=False,
    )
    if ctx.task == "regression":
        return CatBoostRegressor(loss_function="RMSE", **kwargs)
    if ctx.class_weights:
        kwargs["auto_class_weights"] = "Balanced"
    if ctx.task == "multiclass":
        return CatBoostClassifier(loss_function="MultiClass", class_names=list(range(ctx.n_classes)), **kwargs)
    return CatBoostClassifier(loss_function="Logloss", **kwargs)


def _patience(params: dict, ctx: ZooContext) -> int:
    lr = ctx.base_lr * params.get("lr_scale", 1.0)
    return int(min(200, max(30, 4 / lr)))


def _hgb(params: dict, ctx: ZooContext, max_iter: int, early_stopping: bool):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kwargs = dict(
        learning_rate=params["learning_rate"], max_iter=max_iter, max_leaf_nodes=params["max_leaf_nodes"],
        min_samples_leaf=params["min_samples_leaf"], l2_regularization=params["l2_regularization"],
        max_features=params["max_features"], categorical_features=_hgb_categorical_mask(ctx.spec),
        early_stopping=early_stopping, n_iter_no_change=_HGB_PATIENCE, validation_fraction=None,
        random_state=ctx.seed,
    )
    if ctx.task == "regression":
        return HistGradientBoostingRegressor(**kwargs)
    return HistGradientBoostingClassifier(class_weight="balanced" if ctx.class_weights else None, **kwargs)


def _forest(family: str, params: dict, ctx: ZooContext, n_estimators: int):
    from sklearn.ensemble import (
        ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor,
    )

    cls = {("rf", False): RandomForestClassifier, ("rf", True): RandomForestRegressor,
           ("et", False): ExtraTreesClassifier, ("et", True): ExtraTreesRegressor}[family, ctx.task == "regression"]
    kwargs = dict(n_estimators=n_estimators, max_features=params["max_features"],
                  min_samples_leaf=params["min_samples_leaf"], n_jobs=ctx.threads, random_state=ctx.seed)
    if ctx.classification and ctx.class_weights:
        kwargs["class_weight"] = "balanced"
    return cls(**kwargs)


def _linear(params: dict, ctx: ZooContext):
    from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge

    if ctx.task == "regression":
        l1 = params.get("l1_ratio", 0.0)
        if l1 == 0.0:
            return Ridge(alpha=1.0 / params["C"], random_state=ctx.seed)
        return ElasticNet(alpha=1.0 / params["C"], l1_ratio=l1, max_iter=5000, tol=1e-3, random_state=ctx.seed)
    return LogisticRegression(C=params["C"], max_iter=2000, random_state=ctx.seed,
                              class_weight="balanced" if ctx.class_weights else None)


# --------------------------------------------------------------------------- predictions


def _output(model, X, ctx: ZooContext) -> np.ndarray:
    """Predictions in the task's form from a fitted estimator (classes aligned to codes)."""
    if ctx.task == "regression":
        return np.asarray(model.predict(X), dtype=float)
    proba = np.asarray(model.predict_proba(X), dtype=float)
    classes = [int(c) for c in getattr(model, "classes_", range(proba.shape[1]))]
    if classes != list(range(ctx.n_classes)):
        full = np.zeros((proba.shape[0], ctx.n_classes))
        full[:, classes] = proba
        proba = full
    return proba[:, 1] if ctx.task == "binary" else proba


def predict(family: str, model, X: pd.DataFrame, ctx: ZooContext) -> np.ndarray:
    """Predictions of a final (self-contained) estimator on model-input rows."""
    if family == "catboost":
        from catboost import Pool

        return _output(model, Pool(X, cat_features=ctx.spec.categorical), ctx)
    if family != "hgb":
        return _output(model, X, ctx)
    from threadpoolctl import threadpool_limits  # finding the libraries costs ~3 ms: only where it matters

    with threadpool_limits(_threads(family, len(X), ctx)):
        return _output(model, X, ctx)


# --------------------------------------------------------------------------- fitting


def _threads(family: str, rows: int, ctx: ZooContext) -> int:
    """OpenMP threads for scikit-learn's boosting: one on small tables, where spinning
    threads cost more than they give (and collapse when the cores are shared)."""
    return 1 if family == "hgb" and rows < 20_000 else ctx.threads


def fit_fold(params: dict, fold: FoldData, ctx: ZooContext, deadline: float,
             cancelled: Callable[[], bool] | None = None, cost_per_iter: float | None = None) -> FoldFit:
    """Fit one family on a fold's training rows and predict its validation rows."""
    from threadpoolctl import threadpool_limits

    family = params["family"]
    start = time.monotonic()
    capped = False
    iterations = None
    with threadpool_limits(_threads(family, len(fold.y_train), ctx)):
        if family == "catboost":
            train, valid = catboost_pools(fold, ctx)
            model = _catboost(params, ctx, MAX_ITERATIONS)
            clock = _Clock(deadline, cancelled)
            model.fit(train, eval_set=valid, early_stopping_rounds=_patience(params, ctx), use_best_model=True,
                      callbacks=[clock])
            capped = clock.stopped
            iterations = int(model.tree_count_)
            fit_s = time.monotonic() - start
            t = time.monotonic()
            prediction = _output(model, valid, ctx)
        else:
            kind = "onehot" if family == "linear" else "ordinal"
            Xt, Xv = _encoded(fold, kind, ctx.spec)
            if family == "hgb":
                budget = max(deadline - time.monotonic(), 0.0)
                cap = MAX_ITERATIONS if not cost_per_iter else int(max(10, budget / cost_per_iter))
                model = _hgb(params, ctx, min(cap, 5000), early_stopping=True)
                model.fit(Xt, fold.y_train, X_val=Xv, y_val=fold.y_valid)
                iterations = max(1, int(model.n_iter_) - _HGB_PATIENCE) if model.n_iter_ < model.max_iter \
                    else int(model.n_iter_)
                capped = model.n_iter_ >= model.max_iter and model.max_iter < 5000
            elif family in ("rf", "et"):
                model, capped = _grow_forest(family, params, ctx, Xt, fold.y_train, deadline, cancelled)
                iterations = int(model.n_estimators)
            else:
                model = _linear(params, ctx).fit(Xt, fold.y_train)
            fit_s = time.monotonic() - start
            t = time.monotonic()
            prediction = _output(model, Xv, ctx)
        predict_s = time.monotonic() - t
    return FoldFit(prediction, iterations, fit_s, predict_s, capped, model)


def _grow_forest(family, params, ctx, X, y, deadline, cancelled, n_total=None):
    """Grow a forest in chunks, stopping at the deadline; returns (model, capped)."""
    n_total = n_total or params["n_estimators"]
    model = _forest(family, params, ctx, min(_TREE_CHUNK, n_total))
    model.set_params(warm_start=True)
    model.fit(X, y)
    started = time.monotonic()
    while model.n_estimators < n_total:
        per_tree = (time.monotonic() - started) / max(model.n_estimators, 1)
        grow = min(_TREE_CHUNK, n_total - model.n_estimators)
        out_of_time = time.monotonic() + per_tree * grow > deadline
        if out_of_time or (cancelled is not None and cancelled()):
            model.set_params(warm_start=False)
            return model, True
        model.set_params(n_estimators=model.n_estimators + grow)
        model.fit(X, y)
    model.set_params(warm_start=False)
    return model, False


def fit_final(params: dict, X: pd.DataFrame, y: np.ndarray, ctx: ZooContext, iterations: int | None,
              deadline: float = math.inf, cancelled: Callable[[], bool] | None = None):
    """Fit a self-contained estimator on all given rows, with the iteration count found in CV."""
    from threadpoolctl import threadpool_limits

    family = params["family"]
    with threadpool_limits(_threads(family, len(y), ctx)):
        if family == "catboost":
            from catboost import Pool

            model = _catboost(params, ctx, max(1, iterations or 1000))
            model.fit(Pool(X, y, cat_features=ctx.spec.categorical), callbacks=[_Clock(deadline, cancelled)])
            return model
        from sklearn.pipeline import Pipeline

        if family == "linear":
            return Pipeline([("prep", _onehot_encoder(ctx.spec, X)), ("model", _linear(params, ctx))]).fit(X, y)
        encoder = _ordinal_encoder(ctx.spec)
        Xt = encoder.fit_transform(X)
        if family == "hgb":
            model = _hgb(params, ctx, max(1, iterations or 100), early_stopping=False).fit(Xt, y)
        else:
            model, _ = _grow_forest(family, params, ctx, Xt, y, deadline, cancelled, n_total=iterations)
        return Pipeline([("prep", encoder), ("model", model)])
