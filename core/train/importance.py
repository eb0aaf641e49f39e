"""Permutation importance on the holdout, measured while training, by models that never saw it.

After the holdout is scored (:func:`core.train.run._score_holdout`), each input column
of the holdout rows (the columns as the user knows them, before the feature steps) is
shuffled a few times and the chosen model (single model or ensemble) predicts the
rows again; the drop in the run's metric is the column's importance. Shuffling a raw
column shuffles everything the feature steps make from it, so one column here can
stand for several model-input features. The predictions come from the same models
that scored the holdout (fold models, or refits on the search rows), so the rows are
new to them: this says what the model needs to do well on new data, not what it
memorised. The result is plain JSON (:func:`holdout_importance`), kept in the run's
summary and in the model bundle's metadata.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

__all__ = ["holdout_importance", "MAX_ROWS", "REPEATS", "MIN_REPEATS", "MIN_ROWS"]

MAX_ROWS = 5_000  # a seeded sample of the holdout beyond this
REPEATS = 5
MIN_REPEATS = 2  # fewer would give no spread: skipped instead
MIN_ROWS = 30
_FEWEST_ROWS = 500  # rows are sampled down to this, not further, when time is short
_MARGIN = 1.3  # the first prediction is timed; leave room for ones that take longer


def _score(predict, rows: pd.DataFrame, y, metric, threshold) -> float:
    """The metric on ``rows``, oriented so that higher is better."""
    value = metric(y, predict(rows), 0.5 if threshold is None else threshold)
    return value if metric.greater_is_better else -value


def holdout_importance(predict: Callable[[pd.DataFrame], np.ndarray], rows: pd.DataFrame, y: np.ndarray,
                       columns: list, metric, *, threshold: float | None = None, deadline: float, seed: int = 0,
                       repeats: int = REPEATS, max_rows: int = MAX_ROWS, scored_by: str = "") -> dict:
    """Permutation importance of ``columns`` of the holdout ``rows`` (targets ``y``) for ``predict``.

    ``predict(rows) -> output`` is the chosen model as it scored the holdout. Each
    repeat shuffles every column once (a seeded permutation of its values) and scores
    the rows again. ``deadline`` (``time.monotonic``) is when the work must end: the
    unshuffled prediction is timed, rows are sampled down (not below 500) when even
    :data:`MIN_REPEATS` repeats would not fit, and repeats stop when the next would
    pass the deadline. With fewer than :data:`MIN_REPEATS` repeats done, or fewer than
    :data:`MIN_ROWS` holdout rows, the result has ``status`` ``"skipped"`` and a
    ``reason``; otherwise ``status`` is ``"done"`` and ``mean``/``std`` are, per
    column, the drop in ``metric`` over the repeats (positive: the model does worse
    without the column's values), as :func:`sklearn.inspection.permutation_importance`
    reports them. (That function measures one column at a time, all its repeats in a
    row, so a deadline would leave whole columns unmeasured; here a repeat covers every
    column, so the repeats that fit are all kept.)
    """
    started = time.monotonic()
    seconds = deadline - started
    out = {"metric": metric.name, "metric_label": metric.label, "greater_is_better": metric.greater_is_better,
           "holdout_rows": int(len(rows)), "seed": int(seed), "scored_by": scored_by,
           "unit": "input columns before the feature steps"}
    columns = list(columns)
    if len(rows) < MIN_ROWS:
        return {**out, "status": "skipped",
                "reason": f"the holdout has {len(rows)} row(s); permutation importance needs at least {MIN_ROWS}"}
    if not columns:
        return {**out, "status": "skipped", "reason": "the model reads no input column"}
    no_time = {**out, "status": "skipped", "reason": f"no time was left in the budget ({max(seconds, 0):.1f} s "
               f"for {len(columns)} column(s) x {MIN_REPEATS} shuffles)"}
    if seconds <= 0:
        return no_time
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    if len(rows) > max_rows:
        keep = np.sort(rng.choice(len(rows), max_rows, replace=False))
        rows, y = rows.iloc[keep], y[keep]
    baseline = _score(predict, rows, y, metric, threshold)
    per_pass = max(time.monotonic() - started, 1e-6)
    if not np.isfinite(baseline):
        return {**out, "status": "skipped", "reason": f"{metric.label} cannot be computed on the holdout rows"}
    fits = (deadline - time.monotonic()) / (per_pass * len(columns) * _MARGIN)
    if fits < MIN_REPEATS and len(rows) > _FEWEST_ROWS:  # fewer rows, so that it fits
        keep = np.sort(rng.choice(len(rows), max(_FEWEST_ROWS, int(len(rows) * max(fits, 0.1) / MIN_REPEATS)),
                                  replace=False))
        rows, y = rows.iloc[keep], y[keep]
        timed = time.monotonic()
        baseline = _score(predict, rows, y, metric, threshold)
        per_pass = max(time.monotonic() - timed, 1e-6)
        fits = (deadline - time.monotonic()) / (per_pass * len(columns) * _MARGIN)
    if fits < MIN_REPEATS or not np.isfinite(baseline):
        return no_time
    drops: list[list[float]] = []
    while len(drops) < repeats:
        round_started = time.monotonic()
        if round_started + per_pass * len(columns) > deadline:
            break
        done = []
        for column in columns:
            if time.monotonic() > deadline:
                break
            values = rows[column]
            shuffled = rows.assign(**{column: values.iloc[rng.permutation(len(values))].set_axis(rows.index)})
            done.append(baseline - _score(predict, shuffled, y, metric, threshold))
        if len(done) < len(columns):
            break
        drops.append(done)
        per_pass = max(per_pass, (time.monotonic() - round_started) / len(columns))
    if len(drops) < MIN_REPEATS:
        return {**out, "status": "skipped", "reason": f"it did not finish in the {seconds:.1f} s left in the budget"}
    drops_array = np.asarray(drops, dtype=float)
    return {**out, "status": "done", "columns": [str(c) for c in columns],
            "mean": drops_array.mean(axis=0).tolist(), "std": drops_array.std(axis=0).tolist(),
            "baseline": float(baseline if metric.greater_is_better else -baseline), "rows": int(len(rows)),
            "repeats": len(drops), "seconds": round(time.monotonic() - started, 2)}
