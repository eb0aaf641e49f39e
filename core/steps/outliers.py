"""Outliers: find them by IQR, z-score or isolation forest; flag, clip or remove them.

What is learned is kept as plain numbers so new rows are judged by the same rule:

- iqr: each column's fences ``Q1 - t*IQR`` and ``Q3 + t*IQR`` (t defaults to 1.5);
- zscore: ``mean ± t*std`` (t defaults to 3);
- isolation_forest: scikit-learn's ``IsolationForest`` (``threshold`` is its
  contamination, the expected share of outliers; default ``'auto'``), kept as its
  trees' arrays and replayed with the same arithmetic (the test checks it against
  scikit-learn's own ``predict``). Missing values are filled with the column
  median before scoring.

Removing rows is training-only (new rows are never dropped when scored); flagging
adds a boolean column and clipping caps values at the fences, on any rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.base import Column, Columns, Interval, OneOf, Optional, register
from core.steps.codegen import KernelStep, kernel

__all__ = ["Outliers", "METHODS", "ACTIONS", "outlier_fences", "isolation_outliers", "isolation_scores"]

METHODS = ("iqr", "zscore", "isolation_forest")
ACTIONS = ("flag", "clip", "remove")
_DEFAULT_THRESHOLD = {"iqr": 1.5, "zscore": 3.0}


@kernel
def outlier_fences(df: pd.DataFrame, fences, action, flag_column="is_outlier") -> pd.DataFrame:
    """Values outside ``fences[column] = [low, high]`` are outliers: flag the row, clip
    the value to the fence, or remove the row. Missing values are never outliers."""
    if action == "clip":
        out = df.copy(deep=False)
        for column, (low, high) in fences.items():
            s = df[column]
            if pd.api.types.is_integer_dtype(s):  # whole numbers stay whole: the nearest inside the fences
                low, high = int(np.ceil(low)), int(np.floor(high))
            out[column] = s.clip(low, high)
        return out
    outside = np.zeros(len(df), dtype=bool)
    for column, (low, high) in fences.items():
        s = df[column]
        outside |= ((s < low) | (s > high)).fillna(False).to_numpy(dtype=bool)
    if action == "remove":
        return df[~outside]
    if flag_column in df.columns:
        raise ValueError(f"the data already has a column named {flag_column!r}")
    out = df.copy(deep=False)
    out[flag_column] = outside
    return out


@kernel
def isolation_scores(x: np.ndarray, trees, max_samples) -> np.ndarray:
    """scikit-learn's ``IsolationForest.score_samples`` from the trees' arrays
    ``[left, right, feature, threshold, leaf depth]`` (the lower, the more abnormal)."""

    def average_path_length(n):
        if n <= 1:
            return 0.0
        if n == 2:
            return 1.0
        return 2.0 * (np.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n

    x = np.asarray(x, dtype="float32")
    depths = np.zeros(len(x))
    rows = np.arange(len(x))
    for left, right, feature, threshold, leaf_depth in trees:
        left, right = np.asarray(left), np.asarray(right)
        feature, threshold = np.asarray(feature), np.asarray(threshold, dtype="float64")
        node = np.zeros(len(x), dtype=np.int64)
        active = rows[left[node] != -1]
        while len(active):
            at = node[active]
            go_left = x[active, feature[at]] <= threshold[at]
            node[active] = np.where(go_left, left[at], right[at])
            active = active[left[node[active]] != -1]
        depths += np.asarray(leaf_depth, dtype="float64")[node]
    denominator = len(trees) * average_path_length(max_samples)
    return 2 ** (-np.divide(depths, denominator, out=np.ones_like(depths), where=denominator != 0)) * -1.0


@kernel
def isolation_outliers(df: pd.DataFrame, columns, fill, trees, max_samples, offset, action,
                       flag_column="is_outlier") -> pd.DataFrame:
    """Rows the isolation forest scores below ``offset`` are outliers: flag or remove them."""
    x = df[list(columns)].astype("float64").to_numpy()
    x = np.where(np.isnan(x), np.array(fill, dtype="float64"), x)
    outside = isolation_scores(x, trees, max_samples) < offset
    if action == "remove":
        return df[~outside]
    if flag_column in df.columns:
        raise ValueError(f"the data already has a column named {flag_column!r}")
    out = df.copy(deep=False)
    out[flag_column] = outside
    return out


def _forest_state(forest) -> dict:
    """The fitted forest as lists of numbers (no pickle): per tree, the children, the
    feature (in the caller's column order) and threshold of each node, and for each
    leaf the path length scikit-learn adds for a row that ends there."""
    trees = []
    for est, features, lengths, depths in zip(forest.estimators_, forest.estimators_features_,
                                              forest._average_path_length_per_tree,
                                              forest._decision_path_lengths):
        tree = est.tree_
        feature = np.where(tree.feature >= 0, np.asarray(features)[np.maximum(tree.feature, 0)], -2)
        leaf_depth = depths + lengths - 1.0
        trees.append([tree.children_left.tolist(), tree.children_right.tolist(), feature.tolist(),
                      tree.threshold.tolist(), leaf_depth.tolist()])
    return {"trees": trees, "max_samples": int(forest._max_samples), "offset": float(forest.offset_)}


@register
@dataclass(frozen=True, kw_only=True)
class Outliers(KernelStep):
    """Find outliers in numeric columns by IQR fences, z-score or an isolation forest, and
    flag them (a boolean column), clip them to the fences, or remove their rows (removal
    only happens on training data; new rows are never dropped)."""

    kind: ClassVar[str] = "outliers"
    label: ClassVar[str] = "Handle outliers"
    learns: ClassVar[bool] = True
    constraints: ClassVar[dict] = {
        "columns": Columns(), "method": OneOf(*METHODS), "action": OneOf(*ACTIONS),
        "threshold": Optional(Interval(0, None, closed="neither")), "flag_column": Column(),
        "n_estimators": Interval(10, 500, integer=True), "seed": Interval(0, 2**32 - 1, integer=True),
    }
    columns: tuple[str, ...]
    method: str = "iqr"
    action: str = "flag"
    threshold: float | None = None
    flag_column: str = "is_outlier"
    n_estimators: int = 100
    seed: int = 0

    @property
    def training_only(self) -> bool:  # only removal drops rows
        return self.action == "remove"

    def validate(self) -> None:
        if self.method == "isolation_forest" and self.action == "clip":
            raise ValidationError("An isolation forest judges whole rows, so it cannot clip values: the 'action' "
                                  "parameter of Outliers must be one of ['flag', 'remove'] with it. Got 'clip' instead.")
        if self.method == "isolation_forest" and self.threshold is not None and self.threshold > 0.5:
            raise ValidationError("With an isolation forest the 'threshold' parameter of Outliers is the share of "
                                  f"outliers and must be in the range (0, 0.5]. Got {self.threshold!r} instead.")

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def fit(self, frame: pd.DataFrame, context) -> dict:
        for column in self.columns:
            s = frame[column]
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                raise ValidationError(f"Outliers needs numeric columns; {column!r} holds {s.dtype}.",
                                      hint="Pick numeric columns, or cast this one to a number first.")
            if s.notna().sum() == 0:
                raise ValidationError(f"{column!r} has no values to judge outliers by.")
        if self.method == "isolation_forest":
            return self._fit_forest(frame)
        t = self.threshold or _DEFAULT_THRESHOLD[self.method]
        fences = {}
        for column in self.columns:
            s = frame[column].astype("float64")
            if self.method == "iqr":
                q1, q3 = s.quantile([0.25, 0.75]).tolist()
                fences[column] = [q1 - t * (q3 - q1), q3 + t * (q3 - q1)]
            else:
                mean, std = float(s.mean()), float(s.std(ddof=0))
                fences[column] = [mean - t * std, mean + t * std]
        return {"fences": fences}

    def _fit_forest(self, frame: pd.DataFrame) -> dict:
        from sklearn.ensemble import IsolationForest

        x = frame[list(self.columns)].astype("float64")
        fill = x.median().tolist()
        forest = IsolationForest(n_estimators=self.n_estimators, contamination=self.threshold or "auto",
                                 random_state=self.seed)
        forest.fit(x.fillna(dict(zip(self.columns, fill))).to_numpy())
        return {"fill": fill, **_forest_state(forest)}

    def kernel_call(self, state: dict):
        if not state:
            raise ValidationError("Outliers must be fitted before it can run.")
        if self.method == "isolation_forest":
            return isolation_outliers, {
                "columns": list(self.columns), "fill": state["fill"], "trees": state["trees"],
                "max_samples": state["max_samples"], "offset": state["offset"], "action": self.action,
                "flag_column": self.flag_column}
        kwargs = {"fences": state["fences"], "action": self.action}
        if self.action == "flag":
            kwargs["flag_column"] = self.flag_column
        return outlier_fences, kwargs

    def describe(self) -> str:
        method = {"iqr": "IQR", "zscore": "z-score", "isolation_forest": "isolation forest"}[self.method]
        action = {"flag": f"flag in {self.flag_column!r}", "clip": "clip", "remove": "remove rows"}[self.action]
        return f"Outliers in {', '.join(map(repr, self.columns))} by {method}: {action}"
