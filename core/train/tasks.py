"""Tasks and metrics: what kind of prediction a target asks for, and how it is scored.

Internally a classification target is coded ``0..K-1`` in the order of
:func:`class_order` (for binary tasks ``[negative, positive]``, so code 1 is the
positive class). Predictions travel as plain arrays:

- binary: the probability of the positive class, shape ``(n,)``;
- multiclass: class probabilities, shape ``(n, K)``;
- regression: values, shape ``(n,)``.

Every metric takes ``(y, prediction, threshold)`` in that form and returns a float
(``nan`` when it is undefined, e.g. ROC-AUC of a fold holding one class).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from core.errors import ValidationError, param_error

__all__ = [
    "TASKS", "METRICS", "Metric", "TaskGuess", "detect_task", "check_task", "default_metric",
    "metrics_for", "get_metric", "class_order", "encode_target", "tune_threshold",
    "THRESHOLD_METRICS", "MAX_CLASSES",
]

TASKS = ("binary", "multiclass", "regression")
MAX_CLASSES = 200  # beyond this a "class" is an identifier, not a category
_EPS = 1e-15
_POSITIVE_WORDS = {"1", "true", "yes", "y", "t", "positive", "pos"}


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    task: str
    greater_is_better: bool
    fn: Callable[[np.ndarray, np.ndarray, float], float]
    uses_threshold: bool = False

    @property
    def direction(self) -> str:
        return "maximize" if self.greater_is_better else "minimize"

    def __call__(self, y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5) -> float:
        return float(self.fn(np.asarray(y), np.asarray(prediction), threshold))

    def better(self, a: float, b: float) -> bool:
        """Is score ``a`` strictly better than ``b`` (nan is never better)?"""
        if a is None or math.isnan(a):
            return False
        if b is None or math.isnan(b):
            return True
        return a > b if self.greater_is_better else a < b

    def worst(self) -> float:
        return -math.inf if self.greater_is_better else math.inf


# --------------------------------------------------------------------------- binary


def _auc(y: np.ndarray, p: np.ndarray, _t: float = 0.5) -> float:
    """ROC-AUC by the rank-sum formula (ties averaged): fast enough for ensemble selection."""
    y = y.astype(bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _binary_log_loss(y: np.ndarray, p: np.ndarray, _t: float = 0.5) -> float:
    p = np.clip(p.astype(float), _EPS, 1 - _EPS)
    return float(-np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


def _pr_auc(y: np.ndarray, p: np.ndarray, _t: float = 0.5) -> float:
    if y.min() == y.max():
        return float("nan")
    return float(skm.average_precision_score(y, p))


def _confusion(y: np.ndarray, p: np.ndarray, t: float) -> tuple[int, int, int, int]:
    pred = p >= t
    y = y.astype(bool)
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    fn = int(np.sum(~pred & y))
    tn = len(y) - tp - fp - fn
    return tp, fp, fn, tn


def _f1(y, p, t):
    tp, fp, fn, _ = _confusion(y, p, t)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def _binary_accuracy(y, p, t):
    tp, _, _, tn = _confusion(y, p, t)
    return (tp + tn) / len(y)


def _balanced_accuracy(y, p, t):
    tp, fp, fn, tn = _confusion(y, p, t)
    sensitivity = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    return (sensitivity + specificity) / 2


# --------------------------------------------------------------------------- multiclass


def _multi_log_loss(y, p, _t=0.5):
    p = np.clip(p.astype(float), _EPS, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(y)), y.astype(int)])))


def _multi_accuracy(y, p, _t=0.5):
    return float(np.mean(p.argmax(axis=1) == y))


def _macro_f1(y, p, _t=0.5):
    k = p.shape[1]
    return float(skm.f1_score(y, p.argmax(axis=1), average="macro", labels=list(range(k)), zero_division=0))


# --------------------------------------------------------------------------- regression


def _rmse(y, p, _t=0.5):
    return float(np.sqrt(np.mean((y.astype(float) - p) ** 2)))


def _mae(y, p, _t=0.5):
    return float(np.mean(np.abs(y.astype(float) - p)))


def _r2(y, p, _t=0.5):
    y = y.astype(float)
    total = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((y - p) ** 2) / total) if total > 0 else float("nan")


def _mape(y, p, _t=0.5):
    y = y.astype(float)
    return float(np.mean(np.abs(y - p) / np.maximum(np.abs(y), np.finfo(float).eps)))


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("roc_auc", "ROC-AUC", "binary", True, _auc),
    Metric("log_loss", "log loss", "binary", False, _binary_log_loss),
    Metric("f1", "F1", "binary", True, _f1, uses_threshold=True),
    Metric("pr_auc", "PR-AUC", "binary", True, _pr_auc),
    Metric("accuracy", "accuracy", "binary", True, _binary_accuracy, uses_threshold=True),
    Metric("balanced_accuracy", "balanced accuracy", "binary", True, _balanced_accuracy, uses_threshold=True),
    Metric("mc_log_loss", "log loss", "multiclass", False, _multi_log_loss),
    Metric("mc_accuracy", "accuracy", "multiclass", True, _multi_accuracy),
    Metric("macro_f1", "macro F1", "multiclass", True, _macro_f1),
    Metric("rmse", "RMSE", "regression", False, _rmse),
    Metric("mae", "MAE", "regression", False, _mae),
    Metric("r2", "R²", "regression", True, _r2),
    Metric("mape", "MAPE", "regression", False, _mape),
]}
# the names users type: one name per (task, metric), default first
_PUBLIC = {
    "binary": ["roc_auc", "log_loss", "f1", "pr_auc", "accuracy", "balanced_accuracy"],
    "multiclass": ["log_loss", "accuracy", "macro_f1"],
    "regression": ["rmse", "mae", "r2", "mape"],
}
_INTERNAL = {("multiclass", "log_loss"): "mc_log_loss", ("multiclass", "accuracy"): "mc_accuracy"}
THRESHOLD_METRICS = ("f1", "accuracy", "balanced_accuracy")


def metrics_for(task: str) -> list[str]:
    """The metric names offered for ``task``, default first."""
    if task not in TASKS:
        raise param_error("training", "task", list(TASKS), task)
    return list(_PUBLIC[task])


def default_metric(task: str) -> str:
    return metrics_for(task)[0]


def get_metric(task: str, name: str | None) -> Metric:
    """The metric ``name`` for ``task`` (its default when ``name`` is None)."""
    name = name or default_metric(task)
    if name not in metrics_for(task):
        raise param_error("training", "metric", metrics_for(task), name)
    return METRICS[_INTERNAL.get((task, name), name)]


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class TaskGuess:
    task: str
    reason: str
    n_classes: int


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def detect_task(y: pd.Series) -> TaskGuess:
    """Guess the task from the target's values (missing values ignored).

    >>> detect_task(pd.Series(["a", "b", "a"])).task
    'binary'
    >>> detect_task(pd.Series([1.5, 2.25, 3.0, 4.5])).task
    'regression'
    """
    values = y.dropna()
    if values.empty:
        raise ValidationError(f"The target {y.name!r} has no values.", hint="Pick a column with values to predict.")
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        raise ValidationError(f"The target {y.name!r} holds dates; Assay predicts labels or numbers.",
                              hint="Pick another target, or derive a number from the date in a feature step.")
    n_unique = int(values.nunique())
    if n_unique == 2:
        return TaskGuess("binary", "two distinct values", 2)
    if pd.api.types.is_bool_dtype(values):
        return TaskGuess("binary", "true/false values", n_unique)
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
        whole = bool(np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)))
        if whole and n_unique <= 10 and n_unique < len(values) / 5:
            return TaskGuess("multiclass", f"{n_unique} distinct whole numbers", n_unique)
        return TaskGuess("regression", "numbers" if not whole else f"{n_unique:,} distinct whole numbers", n_unique)
    return TaskGuess("multiclass", f"{n_unique:,} distinct labels", n_unique)


def check_task(y: pd.Series, task: str) -> None:
    """Refuse a task the target cannot support, saying why and what to do."""
    if task not in TASKS:
        raise param_error("training", "task", list(TASKS), task)
    values = y.dropna()
    n_unique = int(values.nunique())
    if n_unique < 2:
        shown = repr(_plain(values.iloc[0])) if len(values) else "nothing"
        raise ValidationError(
            f"The target {y.name!r} has a single value ({shown}) in every row, so there is nothing to learn.",
            hint="Pick another target, or add rows where it takes other values.",
        )
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise ValidationError(f"Regression needs a numeric target; {y.name!r} holds labels.",
                                  hint="Choose classification, or convert the column to numbers first.")
    elif task == "binary" and n_unique != 2:
        raise ValidationError(f"Binary classification needs exactly 2 classes; {y.name!r} has {n_unique:,}.",
                              hint="Choose multiclass, or merge the classes in a cleaning step.")
    elif task == "multiclass":
        if n_unique > MAX_CLASSES:
            raise ValidationError(
                f"The target {y.name!r} has {n_unique:,} distinct values; classification supports up to {MAX_CLASSES}.",
                hint="Choose regression if it is a number, or group rare labels in a cleaning step.",
            )


def class_order(y: pd.Series, task: str, positive=None) -> list:
    """The classes in code order; for binary tasks ``[negative, positive]``.

    The positive class is ``positive`` when given, else the value that reads as
    "yes" (1, True, "yes", ...), else the rarer class.
    """
    values = y.dropna()
    labels = sorted((_plain(v) for v in values.unique()), key=lambda v: (str(type(v)), v))
    if task != "binary":
        return labels
    if positive is not None:
        match = [v for v in labels if str(v) == str(positive)]
        if not match:
            raise ValidationError(f"The positive class {positive!r} is not a value of {y.name!r}.",
                                  hint=f"Choose one of {labels}.")
        pos = match[0]
    else:
        words = [v for v in labels if str(v).strip().lower() in _POSITIVE_WORDS]
        if len(words) == 1:
            pos = words[0]
        else:
            counts = values.map(_plain).value_counts()
            pos = min(labels, key=lambda v: (counts.get(v, 0), str(v)))
    return [v for v in labels if v != pos] + [pos]


def encode_target(y: pd.Series, task: str, classes: list | None) -> np.ndarray:
    """Codes ``0..K-1`` for classification, floats for regression."""
    if task == "regression":
        return y.astype(float).to_numpy()
    index = {str(c): i for i, c in enumerate(classes)}
    codes = y.map(lambda v: index.get(str(_plain(v)), -1)).to_numpy(dtype=np.int64)
    if (codes < 0).any():
        raise ValidationError(f"The target {y.name!r} has a value outside the known classes.")
    return codes


def tune_threshold(y: np.ndarray, p: np.ndarray, metric: str = "f1") -> tuple[float, float]:
    """The cut on positive-class probability that maximises ``metric`` on ``(y, p)``.

    Every distinct probability is a candidate (one sort, cumulative counts), and
    the threshold returned is the midpoint between the chosen value and the next
    lower one, so that it does not sit on a training prediction.
    """
    if metric not in THRESHOLD_METRICS:
        raise param_error("threshold tuning", "metric", list(THRESHOLD_METRICS), metric)
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    order = np.argsort(-p, kind="mergesort")
    ps, ys = p[order], y[order]
    last = np.r_[np.nonzero(np.diff(ps))[0], len(ps) - 1]  # last index of each distinct value
    tp = np.cumsum(ys)[last].astype(float)
    fp = (last + 1) - tp
    n_pos, n = float(y.sum()), float(len(y))
    fn, tn = n_pos - tp, (n - n_pos) - fp
    if metric == "f1":
        scores = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    elif metric == "accuracy":
        scores = (tp + tn) / n
    else:
        sens = tp / n_pos if n_pos else np.zeros_like(tp)
        spec = tn / (n - n_pos) if n > n_pos else np.zeros_like(tp)
        scores = (sens + spec) / 2
    best = int(np.argmax(scores))
    value = ps[last[best]]
    lower = ps[last[best + 1]] if best + 1 < len(last) else 0.0
    return float((value + lower) / 2), float(scores[best])
