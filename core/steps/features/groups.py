"""Group aggregates: the mean, count, standard deviation, minimum or maximum of a
number column per value of a key column (e.g. each customer's average order).

Learned on the training rows; a key never seen in training gets a count of 0 and
missing statistics. When the aggregated column is the target, the training rows get
**out-of-fold** values (each row's group statistics come from the other folds), so no
row sees its own target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.features.base import CATEGORY, NUMERIC, FeatureStep, SubsetOf, as_numbers, keys_of, lookup, \
    with_columns
from core.steps.codegen import kernel
from core.steps.base import Column, Interval, register

STATS = ("mean", "count", "std", "min", "max")


@kernel
def group_aggregate_columns(df, p, s):
    """Look up each row's key in the learned table of group statistics."""
    codes = lookup(keys_of(df[p["by"]]), s["keys"])
    new = {}
    for stat, name in zip(p["stats"], s["names"]):
        unknown = 0.0 if stat == "count" else np.nan
        new[name] = np.append(np.asarray(s["values"][stat], dtype="float64"), unknown)[codes]
    return with_columns(df, new)


def _stats(codes: np.ndarray, n_groups: int, x: np.ndarray, stats: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Statistics of ``x`` per group code (0 .. n_groups - 1), NaN values skipped."""
    grouped = pd.Series(x).groupby(codes)
    out = {}
    for stat in stats:
        values = grouped.agg(stat).reindex(range(n_groups))
        out[stat] = values.to_numpy(dtype="float64", na_value=np.nan)
        if stat == "count":
            out[stat] = np.nan_to_num(out[stat], nan=0.0)
    return out


@register
@dataclass(frozen=True, kw_only=True)
class GroupAggregate(FeatureStep):
    """``<column>_<stat>_by_<by>``: statistics of a number column per value of the key
    column ``by``, learned on the training rows (out-of-fold when ``column`` is the target)."""

    kind: ClassVar[str] = "group_aggregate"
    label: ClassVar[str] = "Group aggregate"
    group: ClassVar[str] = "Groups"
    summary: ClassVar[str] = "Mean, count or spread of a column per key (e.g. per customer)."
    uses_target: ClassVar[bool] = True
    accepts: ClassVar[dict] = {"by": CATEGORY, "column": NUMERIC}
    constraints: ClassVar[dict] = {"by": Column(), "column": Column(), "stats": SubsetOf(*STATS),
                                   "folds": Interval(2, 20, integer=True)}
    replay = staticmethod(group_aggregate_columns)
    by: str
    column: str
    stats: tuple[str, ...] = ("mean", "count", "std")
    folds: int = 5

    def validate(self) -> None:
        if self.by == self.column:
            raise ValidationError("A group aggregate needs two different columns: the key ('by') and the "
                                  f"column to aggregate. Got {self.by!r} for both.")

    def columns_in(self) -> list[str]:
        # only the key is read when scoring; 'column' (maybe the target) only in fitting
        return [self.by]

    def names(self) -> list[str]:
        return [f"{self.column}_{stat}_by_{self.by}" for stat in self.stats]

    def fit(self, frame, context) -> dict:
        return self.fit_transform(frame, context)[1]

    def fit_transform(self, frame, context) -> tuple[pd.DataFrame, dict]:
        from sklearn.model_selection import KFold

        if self.by == context.target:
            raise ValidationError(f"The key of a group aggregate cannot be the target {context.target!r}.",
                                  hint="Group by another column.")
        self.check_inputs(frame, context)
        self.new_columns(frame, self.names())
        codes, uniques = pd.factorize(keys_of(frame[self.by]), use_na_sentinel=False)
        x = as_numbers(frame[self.column])
        full = _stats(codes, len(uniques), x, self.stats)
        keys = [None if pd.isna(k) else k for k in uniques]
        state = self.state_of({"keys": keys, "names": self.names(), "values": full})
        values = {stat: full[stat][codes] for stat in self.stats}  # codes index the learned keys
        if self.column == context.target:
            if len(frame) < self.folds:
                raise ValidationError(f"An out-of-fold aggregate of the target needs at least {self.folds} rows.")
            for stat in self.stats:
                values[stat] = np.empty(len(frame))  # each row from the other folds
            for train, test in KFold(self.folds, shuffle=True, random_state=context.seed).split(x):
                part = _stats(codes[train], len(uniques), x[train], self.stats)
                for stat in self.stats:
                    values[stat][test] = part[stat][codes[test]]
        return with_columns(frame, {name: values[stat] for stat, name in zip(self.stats, self.names())}), state

    def describe(self) -> str:
        return f"{', '.join(self.stats)} of {self.column!r} per {self.by!r}"
