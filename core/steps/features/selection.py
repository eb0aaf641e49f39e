"""Selection steps: drop constant or near-constant columns, drop one column of each
highly correlated pair, keep the top k columns by mutual information with the target.

Each decides on the training rows which columns to drop and stores that list; new
rows lose the same columns. The target and the role columns (time, id, group) are
never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.steps.features.base import FeatureStep, as_numbers, candidate_columns, detect_task, keys_of, \
    with_columns
from core.steps.codegen import kernel
from core.steps.base import Interval, register

SAMPLE_ROWS = 20_000
MAX_LEVELS = 50  # category levels kept apart when estimating mutual information


@kernel
def drop_selected_columns(df, p, s):
    """Drop the columns chosen on the training rows (those absent are ignored)."""
    return with_columns(df, {}, drop=[c for c in s["dropped"] if c in df.columns])


def _sample(frame: pd.DataFrame, seed: int, n: int = SAMPLE_ROWS) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    return frame.iloc[np.sort(np.random.default_rng(seed).choice(len(frame), n, replace=False))]


@dataclass(frozen=True, kw_only=True)
class _Selection(FeatureStep):
    group: ClassVar[str] = "Selection"
    replay = staticmethod(drop_selected_columns)


@register
@dataclass(frozen=True, kw_only=True)
class DropConstant(_Selection):
    """Drop columns whose most common value (missing counts as a value) covers at least
    ``threshold`` of the training rows: 1.0 drops only constant columns, 0.99 also those
    that are 99% one value."""

    kind: ClassVar[str] = "drop_constant"
    label: ClassVar[str] = "Drop constant columns"
    summary: ClassVar[str] = "Drop columns that (nearly) never change."
    constraints: ClassVar[dict] = {"threshold": Interval(0.5, 1.0)}
    threshold: float = 1.0

    def _fit(self, frame, context) -> dict:
        dropped, shares = [], {}
        for col in candidate_columns(frame, context):
            top = frame[col].value_counts(dropna=False, normalize=True)
            share = float(top.iloc[0]) if len(top) else 1.0
            if share >= self.threshold:
                dropped.append(col)
                shares[col] = share
        return {"dropped": dropped, "shares": shares}

    def describe(self) -> str:
        return "Drop constant columns" if self.threshold == 1.0 else \
            f"Drop columns that are {self.threshold:.0%} one value"


@register
@dataclass(frozen=True, kw_only=True)
class DropCorrelated(_Selection):
    """Of each pair of number columns whose absolute Pearson correlation on the training
    rows reaches ``threshold``, drop the later one (in column order), keeping the first."""

    kind: ClassVar[str] = "drop_correlated"
    label: ClassVar[str] = "Drop correlated columns"
    summary: ClassVar[str] = "Drop one column of each highly correlated pair."
    constraints: ClassVar[dict] = {"threshold": Interval(0.5, 1.0, closed="left")}
    threshold: float = 0.95

    def _fit(self, frame, context) -> dict:
        sample = _sample(frame, context.seed)
        numeric = [c for c in candidate_columns(sample, context)
                   if pd.api.types.is_numeric_dtype(sample[c]) or pd.api.types.is_bool_dtype(sample[c])]
        values = pd.DataFrame({c: as_numbers(sample[c]) for c in numeric})
        corr = values.corr().abs().to_numpy() if numeric else np.zeros((0, 0))
        dropped, pairs = [], []
        kept: list[int] = []
        for j, col in enumerate(numeric):
            partner = next((i for i in kept if corr[i, j] >= self.threshold), None)
            if partner is None:
                kept.append(j)
            else:
                dropped.append(col)
                pairs.append([numeric[partner], col, float(corr[partner, j])])
        return {"dropped": dropped, "pairs": pairs}

    def describe(self) -> str:
        return f"Drop one of each pair correlated above {self.threshold:g}"


@register
@dataclass(frozen=True, kw_only=True)
class SelectKBest(_Selection):
    """Keep the ``k`` columns with the highest mutual information with the target
    (scikit-learn's estimate, on at most 20,000 training rows, seeded); drop the others.
    Categories count as discrete values (their 50 most common levels; the rest as one);
    missing numbers are filled with the median."""

    kind: ClassVar[str] = "select_k_best"
    label: ClassVar[str] = "Keep the top k columns"
    summary: ClassVar[str] = "Keep the k columns that tell most about the target."
    needs_target: ClassVar[bool] = True
    constraints: ClassVar[dict] = {"k": Interval(1, 10_000, integer=True)}
    k: int = 20

    def _fit(self, frame, context) -> dict:
        from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

        sample = _sample(frame[frame[context.target].notna()], context.seed)
        columns = candidate_columns(sample, context)
        if len(columns) <= self.k:
            return {"dropped": [], "scores": {}}
        X, discrete = [], []
        for col in columns:
            s = sample[col]
            if pd.api.types.is_datetime64_any_dtype(s):
                s = (s - s.min()).dt.total_seconds()
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                codes = pd.factorize(keys_of(s), use_na_sentinel=False)[0]
                common = np.argsort(-np.bincount(codes), kind="stable")[:MAX_LEVELS]
                # rare levels share one code: the estimate stays fast and is not inflated by many tiny groups
                X.append(np.where(np.isin(codes, common), codes, -1).astype("float64"))
                discrete.append(True)
            else:
                x = as_numbers(s)
                X.append(np.where(np.isnan(x), np.nanmedian(x) if np.isfinite(x).any() else 0.0, x))
                discrete.append(False)
        y = sample[context.target]
        if detect_task(y) == "regression":
            scores = mutual_info_regression(np.column_stack(X), as_numbers(y), discrete_features=discrete,
                                            random_state=context.seed)
        else:
            scores = mutual_info_classif(np.column_stack(X), pd.factorize(keys_of(y))[0],
                                         discrete_features=discrete, random_state=context.seed)
        order = sorted(range(len(columns)), key=lambda i: (-scores[i], i))
        keep = set(order[: self.k])
        return {"dropped": [c for i, c in enumerate(columns) if i not in keep],
                "scores": {c: float(scores[i]) for i, c in enumerate(columns)}}

    def describe(self) -> str:
        return f"Keep the {self.k} columns with the most information about the target"
