"""The domain classifier: can a model tell current rows from reference rows?

It sees whole rows, so it also catches drift no single column shows (a changed
relation between columns). It trains scikit-learn's HistGradientBoosting (native
missing values and categories, a few seconds on a bounded sample) in stratified
cross-validation; the out-of-fold ROC-AUC is the score (0.5: the tables cannot be
told apart) and a one-sided Mann-Whitney test on the same scores says whether it
is above 0.5 by more than chance. The columns that separate the tables most are
those whose shuffling costs the held-out AUC the most (permutation importance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from core.drift_stats import to_numbers

__all__ = ["DomainResult", "domain_classifier"]

_MAX_CODES = 254  # HistGradientBoosting takes at most 255 categories; the rest share one code
_MIN_ROWS = 20  # per side, so that every fold has both tables in it
_IMPORTANCE_ROWS = 5_000


@dataclass
class DomainResult:
    """A classifier trained to tell reference rows (0) from current rows (1)."""

    status: str = "not tested"
    auc: float | None = None
    auc_std: float | None = None
    p_value: float | None = None
    rows: list[int] = field(default_factory=list)  # rows sampled from [reference, current]
    folds: int = 0
    top: list[dict] = field(default_factory=list)  # {"column", "importance"}: drop in AUC when shuffled
    note: str = ""


def _sample(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, size=cap, replace=False)) if n > cap else np.arange(n)


def _encode(ref: pd.Series, cur: pd.Series, test: str) -> np.ndarray:
    if test == "numeric":
        values = np.concatenate([to_numbers(ref), to_numbers(cur)])
        values[~np.isfinite(values)] = np.nan
        return values
    labels = pd.concat([ref.astype(object), cur.astype(object)], ignore_index=True)
    labels = labels.where(labels.isna(), labels.astype(str))
    top = labels.value_counts().index[:_MAX_CODES]
    codes = pd.Categorical(labels, categories=top).codes.astype(np.float64)
    codes[(codes < 0) & labels.notna().to_numpy()] = _MAX_CODES
    codes[codes < 0] = np.nan
    return codes


def domain_classifier(prepared: dict[str, tuple[pd.Series, pd.Series, str]], config):
    """Cross-validated ROC-AUC of reference-vs-current on the tested columns.

    ``prepared`` maps a column to its (reference, current, test) series, as the
    per-column comparison read them; rows are sampled, at most
    ``config.classifier_rows`` per side.
    """
    if not prepared:
        return DomainResult(note="No column could be compared, so no classifier was trained.")
    first_ref, first_cur, _ = next(iter(prepared.values()))
    n_ref, n_cur = len(first_ref), len(first_cur)
    if config.classifier_rows == 0:
        return DomainResult(note="The domain classifier is switched off (classifier_rows = 0).")
    if min(n_ref, n_cur) < max(_MIN_ROWS, config.classifier_folds):
        return DomainResult(note=f"Too few rows to train a classifier (at least {_MIN_ROWS} a side are needed).")
    rng = np.random.default_rng(config.seed)
    take_ref = _sample(n_ref, config.classifier_rows, rng)
    take_cur = _sample(n_cur, config.classifier_rows, rng)
    names = list(prepared)
    X = np.column_stack([
        _encode(ref.iloc[take_ref], cur.iloc[take_cur], test) for ref, cur, test in prepared.values()
    ])
    categorical = np.array([test == "categorical" for _, _, test in prepared.values()])
    y = np.concatenate([np.zeros(len(take_ref), dtype=np.int8), np.ones(len(take_cur), dtype=np.int8)])

    # One thread: on a bounded sample OpenMP's hand-offs cost more than they save, and much
    # more on a machine whose cores are busy with other work.
    with threadpool_limits(1, "openmp"):
        scores, fold_auc, importance = _cross_validate(X, y, categorical, config, rng)
    auc = float(roc_auc_score(y, scores))
    p_value = float(stats.mannwhitneyu(scores[y == 1], scores[y == 0], alternative="greater").pvalue)
    significant = p_value < config.alpha
    status = "drift" if significant and auc >= config.auc_drift else \
        "warning" if significant and auc >= config.auc_warning else "stable"
    order = np.argsort(-importance)
    top = [{"column": names[i], "importance": float(importance[i])} for i in order[:5] if importance[i] > 0.005]
    return DomainResult(status=status, auc=auc, auc_std=float(np.std(fold_auc)), p_value=p_value,
                        rows=[len(take_ref), len(take_cur)], folds=config.classifier_folds, top=top)


def _cross_validate(X, y, categorical, config, rng) -> tuple[np.ndarray, list[float], np.ndarray]:
    """Out-of-fold scores, each fold's AUC, and each column's drop in AUC when shuffled."""
    scores = np.empty(len(y))
    fold_auc = []
    folds = StratifiedKFold(config.classifier_folds, shuffle=True, random_state=config.seed)
    for train, test in folds.split(X, y):
        model = HistGradientBoostingClassifier(
            max_iter=60, learning_rate=0.15, max_leaf_nodes=15, min_samples_leaf=20,
            categorical_features=categorical if categorical.any() else None,
            early_stopping=False, random_state=config.seed,
        ).fit(X[train], y[train])
        scores[test] = model.predict_proba(X[test])[:, 1]
        fold_auc.append(roc_auc_score(y[test], scores[test]))
    # Prediction dominates permutation importance: shuffle each column once, on the last
    # held-out fold, at most _IMPORTANCE_ROWS rows of it.
    held = test[rng.permutation(len(test))[:_IMPORTANCE_ROWS]]
    if len(np.unique(y[held])) < 2:
        return scores, fold_auc, np.zeros(X.shape[1])
    importance = permutation_importance(model, X[held], y[held], scoring="roc_auc", n_repeats=1,
                                        random_state=config.seed).importances_mean
    return scores, fold_auc, importance
