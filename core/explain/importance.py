"""Permutation importance: how much the model's score drops when one feature's values are shuffled.

It measures what the model *needs* on labelled rows, next to SHAP, which measures
how far each feature *moves* predictions. The two disagree when features share
information (shuffling one leaves the other) or when a feature moves predictions
without improving them. Computed by :func:`sklearn.inspection.permutation_importance`
on the model-input table (the same features SHAP shows), with the metric the model
was chosen by.

:func:`holdout_importance` reads the permutation importance measured at training time
on the holdout (:mod:`core.train.importance`, kept in the bundle's metadata): over the
data's input columns, by models that never saw those rows. It is the one to trust for
"what does the model need on new data"; :func:`permutation_importance` on other
labelled rows says the same for those rows.
"""

from __future__ import annotations

import pandas as pd

from core.errors import InputError
from core.explain.result import Importance

__all__ = ["permutation_importance", "holdout_importance", "PERMUTATION_ROWS"]

PERMUTATION_ROWS = 2_000


class _Scored:
    """The bundle as scikit-learn's permutation importance expects: scored on model-input rows."""

    def __init__(self, bundle, metric):
        self.bundle, self.metric = bundle, metric

    def fit(self, X, y):  # never called; scikit-learn checks that it exists
        return self

    def score(self, X, y) -> float:
        value = self.metric(y, self.bundle.raw_prediction(X), self.bundle.threshold or 0.5)
        return value if self.metric.greater_is_better else -value


def permutation_importance(bundle, rows: pd.DataFrame, *, repeats: int = 5, max_rows: int = PERMUTATION_ROWS,
                           seed: int = 0, note: str = "") -> Importance:
    """Permutation importance of ``bundle``'s features on labelled raw ``rows`` (a seeded sample).

    ``mean``/``std`` are the drop in the metric over ``repeats`` shuffles (positive:
    the model does worse without the feature). Rows without a target value, or with
    a class the model does not know, are left out.
    """
    from sklearn.inspection import permutation_importance as sklearn_permutation_importance

    from core.scoring import conform
    from core.train.tasks import encode_target, get_metric

    target = bundle.target
    if target not in rows.columns:
        raise InputError(f"The rows have no target column {target!r}, so permutation importance cannot be measured.",
                         hint="Use data that holds the target.")
    labelled = rows[rows[target].notna()]
    if bundle.task != "regression":
        known = {str(c) for c in bundle.classes}
        labelled = labelled[labelled[target].map(lambda v: str(v.item() if hasattr(v, "item") else v) in known)]
    if len(labelled) < 10:
        raise InputError(f"Only {len(labelled)} rows have a known target value; permutation importance needs at "
                         "least 10.", hint="Use data with more labelled rows.")
    labelled = conform(bundle, labelled.sample(min(max_rows, len(labelled)), random_state=seed))[0]
    X = bundle.transform(labelled)
    y = encode_target(labelled.loc[X.index, target], bundle.task, bundle.classes)
    metric = get_metric(bundle.task, bundle.metadata.get("metric"))
    scored = _Scored(bundle, metric)
    result = sklearn_permutation_importance(scored, X, y, scoring=lambda est, X_, y_: est.score(X_, y_),
                                            n_repeats=repeats, random_state=seed, n_jobs=1)
    baseline = scored.score(X, y)
    return Importance(
        features=list(bundle.feature_names), mean=[float(v) for v in result.importances_mean],
        std=[float(v) for v in result.importances_std], metric=metric.name, metric_label=metric.label,
        rows=int(len(X)), repeats=int(repeats), baseline=float(baseline if metric.greater_is_better else -baseline),
        note=note,
    )


def holdout_importance(metadata: dict) -> tuple[Importance | None, str]:
    """The holdout permutation importance a training run stored in a model's ``metadata``.

    Returns ``(importance, "")``, or ``(None, why)`` in plain words when the model has
    none (trained before Assay measured it, skipped for lack of time, or unreadable).
    ``importance.features`` are the data's input columns (before the feature steps).
    """
    stored = metadata.get("holdout_importance") if isinstance(metadata, dict) else None
    if not isinstance(stored, dict):
        return None, ("Permutation importance on the holdout is not available for this model: it was trained "
                      "before Assay measured it. Train the model again to get it.")
    if stored.get("status") != "done":
        reason = str(stored.get("reason") or "it was not measured")
        return None, f"Permutation importance on the holdout was not measured when this model was trained: {reason}."
    try:
        columns = [str(c) for c in stored["columns"]]
        mean, std = [float(v) for v in stored["mean"]], [float(v) for v in stored["std"]]
        if not columns or len(mean) != len(columns) or len(std) != len(columns):
            raise ValueError
        rows, repeats = int(stored["rows"]), int(stored["repeats"])
        metric, label = str(stored["metric"]), str(stored.get("metric_label") or stored["metric"])
        baseline = float(stored.get("baseline", float("nan")))
    except (KeyError, TypeError, ValueError):
        return None, "Permutation importance on the holdout is not available: the model's record of it is damaged."
    by = str(stored.get("scored_by") or "the models that scored the holdout")
    holdout = stored.get("holdout_rows")
    sample = (f"{rows:,} of the {int(holdout):,} holdout rows (a seeded sample)"
              if isinstance(holdout, int) and holdout > rows else f"{rows:,} holdout rows")
    note = f"at training time on {sample} by {by}, which never saw them; {repeats} shuffles per column"
    if str(metadata.get("refit") or "").startswith("all rows"):
        note += " (the model you use was refitted afterwards on every row, these included)"
    return Importance(features=columns, mean=mean, std=std, metric=metric, metric_label=label, rows=rows,
                      repeats=repeats, baseline=baseline, note=note), ""
