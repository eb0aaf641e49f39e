"""Impute: fill missing values (mean, median, mode, constant, k-nearest neighbours, iterative).

A cleaning step learns on the whole (cleaned-so-far) table and keeps what it learned
as plain JSON, so new rows are filled with the same values:

- mean / median / mode / constant: one value per column;
- knn: a bounded reference sample of rows (``sample_size``, drawn with ``seed``) and
  the centre/scale used to standardise distances; filling runs scikit-learn's
  ``KNNImputer`` over that sample;
- iterative: scikit-learn's ``IterativeImputer`` (Bayesian ridge per column, fitted on
  up to ``sample_size`` rows), kept as its starting means and every round's
  coefficients, and replayed as the same sequence of linear predictions.

With ``add_indicator`` a boolean ``<column>_missing`` column records which values
were filled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core import jsonutil
from core.errors import ValidationError
from core.steps.base import Boolean, Columns, Interval, OneOf, Scalar, register
from core.steps.codegen import KernelStep, kernel

__all__ = ["Impute", "STRATEGIES", "impute_values", "impute_knn", "impute_iterative"]

STRATEGIES = ("mean", "median", "mode", "constant", "knn", "iterative")
_NUMERIC_ONLY = ("mean", "median", "knn", "iterative")


@kernel
def add_missing_indicators(df: pd.DataFrame, columns) -> pd.DataFrame:
    """A boolean ``<column>_missing`` column for each of ``columns``."""
    out = df.copy(deep=False)
    for column in columns:
        name = f"{column}_missing"
        if name in df.columns:
            raise ValueError(f"the data already has a column named {name!r}")
        out[name] = df[column].isna().to_numpy()
    return out


@kernel
def impute_values(df: pd.DataFrame, values, indicator=False) -> pd.DataFrame:
    """Fill each column's missing values with ``values[column]``."""
    out = add_missing_indicators(df, list(values)) if indicator else df.copy(deep=False)
    for column, value in values.items():
        s = df[column]
        if value is None or not s.hasnans:
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            value = pd.Timestamp(value)
            if s.dt.tz is not None:
                value = value.tz_localize("UTC") if value.tz is None else value
                value = value.tz_convert(s.dt.tz)
        elif isinstance(s.dtype, pd.CategoricalDtype) and value not in s.cat.categories:
            s = s.cat.add_categories([value])
        elif pd.api.types.is_integer_dtype(s) and not float(value).is_integer():
            s = s.astype("float64")
        try:
            out[column] = s.fillna(value)
        except (TypeError, ValueError):
            raise ValueError(f"the fill value {value!r} cannot go in {column!r}, which holds {s.dtype} values; "
                             "fill with a value of that type, or change the column's type first") from None
    return out


@kernel
def impute_knn(df: pd.DataFrame, columns, reference, center, scale, n_neighbors,
               indicator=False) -> pd.DataFrame:
    """Fill each missing value from the ``n_neighbors`` nearest rows of ``reference``
    (distances on standardised values, ignoring missing coordinates)."""
    from sklearn.impute import KNNImputer

    out = add_missing_indicators(df, columns) if indicator else df.copy(deep=False)
    x = df[list(columns)].astype("float64").to_numpy()
    gaps = np.isnan(x)
    rows = gaps.any(axis=1)
    if rows.any():
        center, scale = np.array(center, dtype="float64"), np.array(scale, dtype="float64")
        donors = (np.array(reference, dtype="float64") - center) / scale
        imputer = KNNImputer(n_neighbors=n_neighbors, keep_empty_features=True).fit(donors)
        filled = imputer.transform((x[rows] - center) / scale) * scale + center
        x = x.copy()
        x[rows] = np.where(gaps[rows], filled, x[rows])
    for j, column in enumerate(columns):
        out[column] = x[:, j]
    return out


@kernel
def impute_iterative(df: pd.DataFrame, columns, initial, sequence, indicator=False) -> pd.DataFrame:
    """Start from the column means ``initial``, then replay each fitted linear model
    ``[column index, predictor indexes, coefficients, intercept]`` in order, predicting
    the missing entries of its column from the current values of the others."""
    out = add_missing_indicators(df, columns) if indicator else df.copy(deep=False)
    x = df[list(columns)].astype("float64").to_numpy()
    gaps = np.isnan(x)
    x = np.where(gaps, np.array(initial, dtype="float64"), x)
    for j, predictors, coef, intercept in sequence:
        rows = gaps[:, j]
        if rows.any():
            x[rows, j] = x[np.ix_(rows, predictors)] @ np.array(coef, dtype="float64") + intercept
    for j, column in enumerate(columns):
        out[column] = x[:, j]
    return out


@register
@dataclass(frozen=True, kw_only=True)
class Impute(KernelStep):
    """Fill missing values in columns: with their mean, median, most frequent value (mode),
    a constant, the average of the k nearest rows (knn), or by iterative regression on the
    other chosen columns. Optionally add a ``<column>_missing`` indicator column."""

    kind: ClassVar[str] = "impute"
    label: ClassVar[str] = "Fill missing values"
    learns: ClassVar[bool] = True
    constraints: ClassVar[dict] = {
        "columns": Columns(), "strategy": OneOf(*STRATEGIES), "fill_value": Scalar(),
        "add_indicator": Boolean(), "n_neighbors": Interval(1, 100, integer=True),
        "max_iter": Interval(1, 50, integer=True), "sample_size": Interval(50, 100_000, integer=True),
        "seed": Interval(0, 2**32 - 1, integer=True),
    }
    columns: tuple[str, ...]
    strategy: str = "median"
    fill_value: object = None
    add_indicator: bool = False
    n_neighbors: int = 5
    max_iter: int = 10
    sample_size: int = 2000
    seed: int = 0

    def validate(self) -> None:
        if self.strategy == "constant" and self.fill_value is None:
            raise ValidationError("Impute with strategy 'constant' needs a 'fill_value'. Got None instead.")
        if self.strategy == "iterative" and len(self.columns) < 2:
            raise ValidationError("Impute with strategy 'iterative' predicts each column from the others: "
                                  f"give at least 2 columns. Got {list(self.columns)!r} instead.")

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def fit(self, frame: pd.DataFrame, context) -> dict:
        for column in self.columns:
            s = frame[column]
            numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            if self.strategy in _NUMERIC_ONLY and not numeric:
                raise ValidationError(
                    f"Impute with strategy {self.strategy!r} needs numeric columns; {column!r} holds {s.dtype}.",
                    hint="Use 'mode' or 'constant' for it, or cast it to a number first.")
            if self.strategy != "constant" and s.notna().sum() == 0:
                raise ValidationError(f"{column!r} has no values to learn a {self.strategy} from.",
                                      hint="Use 'constant', or drop the column.")
            if self.strategy == "constant" and numeric and not isinstance(self.fill_value, (int, float)):
                raise ValidationError(f"The fill value {self.fill_value!r} is not a number, but {column!r} "
                                      "holds numbers.", hint="Give a number, or cast the column to text first.")
        if self.strategy == "knn":
            return self._fit_knn(frame)
        if self.strategy == "iterative":
            return self._fit_iterative(frame)
        return {"values": {c: self._value(frame[c]) for c in self.columns}}

    def _value(self, s: pd.Series):
        if self.strategy == "constant":
            return self.fill_value
        if self.strategy in ("mean", "median"):
            finite = s[np.isfinite(s.astype("float64"))]  # an inf would make the mean inf or NaN
            if finite.empty:
                raise ValidationError(f"{s.name!r} has no finite values to learn a {self.strategy} from.",
                                      hint="Use 'constant', or replace the infinite values first.")
            return float(finite.mean() if self.strategy == "mean" else finite.median())
        return jsonutil.to_jsonable(s.mode(dropna=True).iloc[0])

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[list(self.columns)].astype("float64").to_numpy()

    def _sample(self, x: np.ndarray) -> np.ndarray:
        if len(x) <= self.sample_size:
            return x
        picked = np.sort(np.random.default_rng(self.seed).choice(len(x), self.sample_size, replace=False))
        return x[picked]

    def _fit_knn(self, frame: pd.DataFrame) -> dict:
        x = self._matrix(frame)
        center = np.nanmean(x, axis=0)
        scale = np.nanstd(x, axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        return jsonutil.to_jsonable({"reference": self._sample(x), "center": center, "scale": scale})

    def _fit_iterative(self, frame: pd.DataFrame) -> dict:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401
        from sklearn.impute import IterativeImputer

        imputer = IterativeImputer(max_iter=self.max_iter, random_state=self.seed, initial_strategy="mean")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            imputer.fit(self._sample(self._matrix(frame)))
        sequence = [[int(t.feat_idx), [int(i) for i in t.neighbor_feat_idx],
                     [float(c) for c in t.estimator.coef_], float(t.estimator.intercept_)]
                    for t in imputer.imputation_sequence_]
        return {"initial": [float(v) for v in imputer.initial_imputer_.statistics_], "sequence": sequence}

    def kernel_call(self, state: dict):
        columns = list(self.columns)
        if self.strategy == "knn":
            return impute_knn, {"columns": columns, "reference": state["reference"], "center": state["center"],
                                "scale": state["scale"], "n_neighbors": self.n_neighbors,
                                "indicator": self.add_indicator}
        if self.strategy == "iterative":
            return impute_iterative, {"columns": columns, "initial": state["initial"],
                                      "sequence": state["sequence"], "indicator": self.add_indicator}
        if "values" not in state and self.strategy != "constant":
            raise ValidationError(f"Impute with strategy {self.strategy!r} must be fitted before it can run.")
        values = state.get("values") or {c: self.fill_value for c in columns}
        return impute_values, {"values": values, "indicator": self.add_indicator}

    def describe(self) -> str:
        how = {"constant": f"{self.fill_value!r}", "knn": f"{self.n_neighbors} nearest rows",
               "iterative": "iterative regression"}.get(self.strategy, self.strategy)
        flag = " + missing indicator" if self.add_indicator else ""
        return f"Fill missing {', '.join(map(repr, self.columns))} with {how}{flag}"
