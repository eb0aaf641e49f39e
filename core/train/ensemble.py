"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold predictions.

Start from the best single model; at each round add (with replacement) the model
whose inclusion improves the averaged out-of-fold score most; keep the best round.
Weights are how often each model was picked. It costs only metric evaluations on
predictions that already exist, and the ensemble is used only when it beats the
best single model on the same out-of-fold rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.train.tasks import METRICS, Metric, tune_threshold

__all__ = ["Selection", "select", "score_prediction"]


@dataclass
class Selection:
    weights: dict[int, float]  # trial number -> weight (sums to 1)
    score: float  # the ensemble's out-of-fold score (the run's metric)
    single_score: float  # the best single model's, on the same rows
    best_single: int
    threshold: float | None = None

    @property
    def improves(self) -> bool:
        return len(self.weights) > 1 and self.score != self.single_score


def score_prediction(metric: Metric, y: np.ndarray, prediction: np.ndarray, threshold_metric: str | None):
    """The metric on out-of-fold rows; threshold metrics are scored at their tuned threshold."""
    threshold = None
    if threshold_metric is not None:
        threshold, _ = tune_threshold(y, prediction, threshold_metric)
    return metric(y, prediction, threshold if threshold is not None else 0.5), threshold


def select(predictions: dict[int, np.ndarray], y: np.ndarray, metric: Metric, *, threshold_metric: str | None = None,
           rounds: int = 30, max_members: int = 5, library: int = 12, patience: int = 6,
           time_limit: float = 5.0, start: int | None = None) -> Selection:
    """Choose ensemble weights over ``predictions`` (trial number -> OOF prediction on ``y``'s rows).

    ``start`` is the best single model by cross-validation (default: the best on ``y``).
    """
    started = time.monotonic()
    # threshold metrics are noisy step functions: select on ROC-AUC, then compare with the real metric
    guide = METRICS["roc_auc"] if metric.uses_threshold else metric
    scored = {n: guide(y, p) for n, p in predictions.items()}
    scored = {n: s for n, s in scored.items() if np.isfinite(s)}
    if not scored:
        raise ValueError("no model has a finite out-of-fold score")
    ranked = sorted(scored, key=lambda n: scored[n], reverse=guide.greater_is_better)[:library]
    best = start if start in scored else ranked[0]
    if best not in ranked:
        ranked = [best, *ranked[:-1]]
    counts = {best: 1}
    total = predictions[best].astype(float).copy()
    best_score, best_counts = scored[best], dict(counts)
    stale = 0
    for _ in range(rounds):
        if time.monotonic() - started > time_limit:
            break
        k = sum(counts.values())
        pool = ranked if len(counts) < max_members else list(counts)
        choice, choice_score = None, None
        for n in pool:
            s = guide(y, (total + predictions[n]) / (k + 1))
            if choice is None or guide.better(s, choice_score):
                choice, choice_score = n, s
        counts[choice] = counts.get(choice, 0) + 1
        total += predictions[choice]
        if guide.better(choice_score, best_score):
            best_score, best_counts, stale = choice_score, dict(counts), 0
        else:
            stale += 1
            if stale >= patience:
                break
    k = sum(best_counts.values())
    weights = {n: c / k for n, c in best_counts.items()}
    blended = sum(predictions[n] * w for n, w in weights.items())
    score, threshold = score_prediction(metric, y, blended, threshold_metric)
    single, single_threshold = score_prediction(metric, y, predictions[best], threshold_metric)
    if len(weights) == 1 or not metric.better(score, single):
        return Selection({best: 1.0}, single, single, best, single_threshold)
    return Selection(weights, score, single, best, threshold)
