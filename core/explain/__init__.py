"""Why a model predicts what it does: SHAP values for the whole model and for any row, and what-if.

- :func:`explain`: SHAP values of a sample of raw rows (up to 5,000 by default, an
  optional time limit) as an :class:`Explanation` that stores as one Parquet file;
- :func:`what_if`: the prediction and SHAP values of one row after editing its values;
- :func:`permutation_importance`: how much the model's score drops when a feature is shuffled;
- :func:`holdout_importance`: the same, measured at training time on the holdout (from the bundle);
- :func:`pick_rows`, :func:`strongest_interaction`: rows and features worth looking at;
- :class:`Explainer`: the per-family SHAP machinery (:mod:`core.explain.values`).

>>> result = explain(bundle, rows, max_rows=5_000)            # doctest: +SKIP
>>> result.mean_abs().head()                                   # the features that move predictions most
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import InputError, ValidationError
from core.explain.importance import holdout_importance, permutation_importance
from core.explain.result import Explanation, Importance
from core.explain.values import SPACES, Explainer, explanation_space
from core.explain.views import PICKS, pick_rows, strongest_interaction, to_probability

__all__ = [
    "explain", "what_if", "permutation_importance", "holdout_importance", "pick_rows", "strongest_interaction",
    "to_probability",
    "Explanation", "Importance", "Explainer", "explanation_space", "SPACES", "PICKS", "DEFAULT_ROWS", "MAX_ROWS",
]

DEFAULT_ROWS = 5_000
MAX_ROWS = 100_000
_PROBE = 64
_MIN_ROWS = 16


def explain(
    bundle, rows: pd.DataFrame, *, max_rows: int = DEFAULT_ROWS, seed: int = 0, time_limit: float | None = None,
    explainer: Explainer | None = None, progress: Callable[[float, str], None] | None = None,
) -> Explanation:
    """SHAP values of up to ``max_rows`` rows of ``rows`` (raw rows, as the model was trained on).

    The rows are a seeded random sample. With ``time_limit`` (seconds), the members
    whose cost grows with every row (HistGradientBoosting and forests: deep forests
    take seconds a row) are timed on the first rows, and only as many rows as fit in
    the limit by that estimate are explained (CatBoost and linear members are fast
    and not limited); the result says how many it holds (``Explanation.n``) out of how many
    there were (``total_rows``). A target column, when present, is kept as ``actual``.
    ``progress(fraction, message)`` is called as the work moves (a job raises from
    it to cancel).
    """
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or not 1 <= max_rows <= MAX_ROWS:
        raise ValidationError(f"The number of rows to explain must be a whole number from 1 to {MAX_ROWS:,}. "
                              f"Got {max_rows!r} instead.")
    if rows.empty:
        raise InputError("There are no rows to explain.", hint="Choose data with at least one row.")
    explainer = explainer or Explainer(bundle)
    say = progress or (lambda *_: None)
    total = len(rows)
    sample = _conform(bundle, rows.sample(min(max_rows, total), random_state=seed))
    say(0.0, f"Preparing {len(sample):,} rows")
    X = bundle.transform(sample)
    started = time.monotonic()
    n = len(X)
    if time_limit is not None and explainer.costly:
        explainer.shap_values(X.iloc[:1])  # loads compiled code and builds explainers: not a row's cost
        per_row = explainer.seconds_per_row(X.iloc[:_PROBE])
        n = min(len(X), max(_MIN_ROWS, int((time_limit - (time.monotonic() - started)) / per_row)))
    values, base = explainer.shap_values(X.iloc[:n], progress=say)
    say(1.0, f"Explained {n:,} rows")
    X, values = _in_row_order(X.iloc[:n], values)
    kept = sample.loc[X.index]
    info = {"stopped_by_time_limit": n < len(sample), "time_limit": time_limit,
            "seconds": round(time.monotonic() - started, 2), "members": [m.family for m in bundle.members],
            "weights": [m.weight for m in bundle.members], "classes": _plain_list(bundle.classes),
            "threshold": bundle.threshold}
    return _result(bundle, explainer, values, base, X, kept, total=total, seed=seed, info=info)


def what_if(bundle, row: pd.DataFrame, changes: dict | None = None, *,
            explainer: Explainer | None = None) -> Explanation:
    """Edit one raw row (``changes``: column -> new value) and explain the model's new prediction.

    ``row`` is a one-row frame as in the data (its dtypes are kept where the new
    value fits them); the result holds that single row.
    """
    if len(row) != 1:
        raise ValidationError(f"What-if works on one row at a time. Got {len(row)} rows.")
    edited = row.copy()
    for column, value in (changes or {}).items():
        if column not in edited.columns:
            raise ValidationError(f"The row has no column {column!r}.", hint="Edit the columns the model uses.")
        edited[column] = _fit_dtype(edited[column], value)
    explainer = explainer or Explainer(bundle)
    edited = _conform(bundle, edited)
    X = bundle.transform(edited)
    values, base = explainer.shap_values(X)
    return _result(bundle, explainer, values, base, X, edited, total=1, seed=0, info={"what_if": True})


def _conform(bundle, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with the model's columns stored as in training, as the Predict page scores them."""
    from core.scoring import conform

    return conform(bundle, rows)[0]


def _in_row_order(X: pd.DataFrame, values: np.ndarray):
    """The sample back in the data's row order (labels that cannot be sorted keep the sample's order)."""
    try:
        order = np.argsort(X.index.to_numpy(), kind="stable")
    except TypeError:
        return X, values
    return X.iloc[order], values[order]


def _result(bundle, explainer, values, base, X, raw, *, total, seed, info) -> Explanation:
    predictions = bundle.predict(raw).loc[X.index]
    actual = None
    if bundle.target in raw.columns:
        actual = raw[bundle.target]
        actual = actual.astype(float) if bundle.task == "regression" else actual.map(_label)
    return Explanation(
        task=bundle.task, space=explainer.space, target=str(bundle.target), outputs=list(explainer.outputs),
        features=list(bundle.feature_names), categorical=list(bundle.input_spec.categorical),
        base=np.asarray(base, dtype=float), values=values, X=X, predictions=predictions, actual=actual,
        total_rows=int(total), seed=int(seed), holdout_importance=holdout_importance(bundle.metadata)[0], info=info,
    )


def _label(value):
    return None if pd.isna(value) else str(value)


def _plain_list(values):
    return None if values is None else [v.item() if hasattr(v, "item") else v for v in values]


def _fit_dtype(series: pd.Series, value) -> pd.Series:
    """``value`` as a one-row column: in the column's dtype when it survives the cast unchanged."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        if pd.api.types.is_datetime64_any_dtype(series):
            return pd.Series([pd.NaT], index=series.index, dtype=series.dtype)
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        return pd.Series([np.nan if numeric else None], index=series.index, dtype="float64" if numeric else object)
    new = pd.Series([value], index=series.index)
    try:
        cast = new.astype(series.dtype)
    except (TypeError, ValueError):
        return new
    return cast if bool((cast.astype(object) == new.astype(object)).all()) else new
