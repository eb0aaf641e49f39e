"""How the chosen model does on the holdout: every metric of its task, and the data of its charts.

The result is plain JSON (stored with the run); :mod:`core.charts.train` draws it.
Curves are thinned to a few hundred points and scatter data to a sample, so a
million-row holdout stores as little as a small one.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from core.train.tasks import get_metric, metrics_for

__all__ = ["evaluate", "baseline_prediction"]

_CURVE_POINTS = 200
_SCATTER_POINTS = 2_000
_MAX_CURVE_CLASSES = 10


def baseline_prediction(y_train: np.ndarray, n: int, task: str, n_classes: int) -> np.ndarray:
    """A trivial model: the training class shares, or the training mean."""
    if task == "regression":
        return np.full(n, float(np.mean(y_train)))
    shares = np.bincount(y_train, minlength=n_classes) / len(y_train)
    return np.full(n, shares[1]) if task == "binary" else np.tile(shares, (n, 1))


def evaluate(y: np.ndarray, prediction: np.ndarray, task: str, classes: list | None, *,
             threshold: float | None = None, baseline: np.ndarray | None = None, seed: int = 0) -> dict:
    """Scores and chart data for ``prediction`` on holdout rows ``y`` (codes or values)."""
    cut = 0.5 if threshold is None else threshold
    scores = {name: _safe(get_metric(task, name), y, prediction, cut) for name in metrics_for(task)}
    out: dict = {"task": task, "rows": int(len(y)), "scores": scores, "threshold": threshold}
    if baseline is not None:
        out["baseline_scores"] = {name: _safe(get_metric(task, name), y, baseline, cut) for name in metrics_for(task)}
    if task == "regression":
        out.update(_regression(y, prediction, seed))
    else:
        out.update(_classification(y, prediction, task, classes, cut))
    return out


def _safe(metric, y, prediction, cut) -> float | None:
    value = metric(y, prediction, cut)
    return float(value) if np.isfinite(value) else None


def _thin(*arrays: np.ndarray, points: int = _CURVE_POINTS) -> list[list[float]]:
    n = len(arrays[0])
    keep = np.unique(np.linspace(0, n - 1, min(n, points)).astype(int)) if n else np.array([], dtype=int)
    return [np.round(a[keep].astype(float), 5).tolist() for a in arrays]


def _classification(y, prediction, task, classes, cut) -> dict:
    k = len(classes)
    proba = np.column_stack([1 - prediction, prediction]) if task == "binary" else prediction
    predicted = (prediction >= cut).astype(int) if task == "binary" else prediction.argmax(axis=1)
    matrix = skm.confusion_matrix(y, predicted, labels=list(range(k)))
    labels = [str(c) for c in classes]
    shown = [1] if task == "binary" else list(range(min(k, _MAX_CURVE_CLASSES)))
    roc, pr, calibration = [], [], []
    for c in shown:
        truth = (y == c).astype(int)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = skm.roc_curve(truth, proba[:, c])
        precision, recall, _ = skm.precision_recall_curve(truth, proba[:, c])
        fpr, tpr = _thin(fpr, tpr)
        recall, precision = _thin(recall[::-1], precision[::-1])
        roc.append({"label": labels[c], "fpr": fpr, "tpr": tpr,
                    "auc": float(skm.roc_auc_score(truth, proba[:, c]))})
        pr.append({"label": labels[c], "recall": recall, "precision": precision,
                   "ap": float(skm.average_precision_score(truth, proba[:, c])), "prevalence": float(truth.mean())})
        calibration.append({"label": labels[c], **_calibration(truth, proba[:, c])})
    return {"labels": labels, "confusion": matrix.tolist(), "roc": roc, "pr": pr, "calibration": calibration}


def _calibration(truth: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    edges = np.quantile(p, np.linspace(0, 1, bins + 1))
    edges = np.unique(edges)
    if len(edges) < 2:
        return {"predicted": [float(p.mean())], "observed": [float(truth.mean())], "count": [int(len(p))]}
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    predicted, observed, count = [], [], []
    for b in range(len(edges) - 1):
        mask = which == b
        if mask.any():
            predicted.append(round(float(p[mask].mean()), 5))
            observed.append(round(float(truth[mask].mean()), 5))
            count.append(int(mask.sum()))
    return {"predicted": predicted, "observed": observed, "count": count}


def _regression(y, prediction, seed) -> dict:
    rng = np.random.default_rng(seed)
    n = len(y)
    keep = np.sort(rng.choice(n, size=min(n, _SCATTER_POINTS), replace=False)) if n else np.array([], dtype=int)
    residuals = y.astype(float) - prediction
    return {
        "actual": np.round(y[keep].astype(float), 6).tolist(),
        "predicted": np.round(prediction[keep].astype(float), 6).tolist(),
        "residual_summary": {
            "mean": float(residuals.mean()) if n else None,
            "median_abs": float(np.median(np.abs(residuals))) if n else None,
            "p90_abs": float(np.quantile(np.abs(residuals), 0.9)) if n else None,
        },
    }

