"""Lags and rolling windows per entity, ordered by a time column.

Only strictly earlier rows are used: ``sales_lag1`` is the entity's previous row's
sales, ``sales_roll7_mean`` the mean of its previous seven rows, never the current
or a later one. Two rows of one entity at the same time are refused (neither is
"earlier"). Rows whose time is missing get missing values.

Scoring places the new rows after the training rows: the last rows of each entity
(as many as the longest lag or window) are kept in the step's state, so the first
new row of an entity sees its last training rows. New rows never read a target value
of their own (new rows have none): when the lagged column is the target, later new
rows see it as missing, at training time and at scoring time alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.features.base import CATEGORY, NUMERIC, TIME, FeatureStep, IntList, SubsetOf, as_numbers, column_kind, \
    keys_of, with_columns
from core.steps.codegen import kernel
from core.steps.base import Column, Columns, Interval, Optional, register
from core.steps.features.dates import utc_naive

STATS = ("mean", "sum", "min", "max", "std")


@kernel
def ordered_rows(df, p, s, own_targets):
    """The rows with a time, after the stored history, sorted by (entity, time).

    Columns: ``_key`` (entity), ``_code`` (the entity as an integer), ``_time``
    (sortable number), ``_row`` (position in ``df``; -1 for history rows) and the value
    columns. With ``own_targets`` False the
    rows' own target values are not read (new rows have no target).
    """
    n = len(df)
    if s["datetime"]:
        t = utc_naive(df[s["time"]]).astype("datetime64[ns]")
        valid = t.notna().to_numpy()
        times = t.to_numpy().view("int64")
    else:
        times = as_numbers(df[s["time"]])
        valid = ~np.isnan(times)
    key = keys_of(df[s["by"]]).fillna("\x00") if s["by"] else pd.Series("", index=df.index)
    work = pd.DataFrame({"_key": key.to_numpy(dtype=object), "_time": times, "_row": np.arange(n)})
    for c in p["columns"]:
        if c in s["targets"] and not own_targets:
            work[c] = np.nan  # a row never reads its own target
        elif c in df.columns:
            work[c] = as_numbers(df[c])
        else:
            raise KeyError(f"the column {c!r} is not in the data")
    work = work[valid]
    history = pd.DataFrame(s["history"])
    if len(history):
        history["_row"] = -1
        history["_key"] = history["_key"].astype(object)
        for c in p["columns"]:
            history[c] = history[c].astype("float64")  # None (JSON null) -> NaN
        work = pd.concat([history, work], ignore_index=True)
    work["_code"] = pd.factorize(work["_key"])[0]  # entities as integers: fast to sort and group
    mine = work["_row"].to_numpy() >= 0
    pairs = work[["_code", "_time"]]
    if pairs[mine].duplicated().any():
        raise ValueError("two rows of one entity have the same time, so neither is earlier; "
                         "choose an entity column ('by') that tells them apart, or aggregate them first")
    if not mine.all():  # a new row with a stored row's entity and time takes its place
        work = work[~(~mine & pairs.duplicated(keep="last").to_numpy())]
    return work.sort_values(["_code", "_time"], kind="stable").reset_index(drop=True)


@kernel
def past_columns(ordered, n, p, s):
    """Lag (``p["lags"]``) or rolling-window (``p["window"]``, ``p["stats"]``) values of
    strictly earlier rows, as {name: array over the n rows}."""
    rows = ordered["_row"].to_numpy()
    mine = rows >= 0
    groups = ordered.groupby("_code", sort=False)
    new = {}
    for c in p["columns"]:
        if "lags" in p:
            results = {f"{c}_lag{k}": groups[c].shift(k) for k in p["lags"]}
        else:
            earlier = groups[c].shift(1)
            rolling = earlier.groupby(ordered["_code"], sort=False).rolling(p["window"], min_periods=1)
            results = {f"{c}_roll{p['window']}_{stat}": getattr(rolling, stat)().reset_index(level=0, drop=True)
                       .sort_index() for stat in p["stats"]}
        for name, values in results.items():
            out = np.full(n, np.nan)
            out[rows[mine]] = values.to_numpy(dtype="float64", na_value=np.nan)[mine]
            new[name] = out
    return new


@kernel
def past_value_columns(df, p, s):
    """New rows after the stored history: lags or rolling windows of earlier rows."""
    return with_columns(df, past_columns(ordered_rows(df, p, s, False), len(df), p, s))


@dataclass(frozen=True, kw_only=True)
class _PastValues(FeatureStep):
    group: ClassVar[str] = "Time series"
    uses_target: ClassVar[bool] = True
    accepts: ClassVar[dict] = {"columns": NUMERIC, "by": CATEGORY, "time": TIME}
    replay = staticmethod(past_value_columns)
    columns: tuple[str, ...]
    by: str | None = None
    time: str | None = None

    def columns_in(self) -> list[str]:
        # the looked-back columns are checked when fitting; a lagged target is absent when scoring
        return [*([self.by] if self.by else []), *([self.time] if self.time else [])]

    def depth(self) -> int:
        raise NotImplementedError

    def names(self) -> list[str]:
        raise NotImplementedError

    def fit(self, frame, context) -> dict:
        return self.fit_transform(frame, context)[1]

    def fit_transform(self, frame, context) -> tuple[pd.DataFrame, dict]:
        self.check_inputs(frame, context)
        time = self.time or context.time
        if not time:
            raise ValidationError(f"{self.label} need a time column to know which rows are earlier.",
                                  hint="Set the dataset's time column on the Data page, or choose one here.")
        if time not in frame.columns:
            raise ValidationError(f"{self.label} use the time column {time!r}, which is not in the data.",
                                  hint="Choose the time column again.")
        for role, name in (("time column", time), ("entity column", self.by)):
            if name and name == context.target:
                raise ValidationError(f"The {role} of {self.label.lower()} cannot be the target {name!r}.")
            if name and name in self.columns:
                raise ValidationError(f"{name!r} is both the {role} and a column to look back on.",
                                      hint="Pick different columns.")
        if column_kind(frame, time, context) not in TIME:
            raise ValidationError(f"{self.label} need a date/time or number column to order the rows; "
                                  f"{time!r} is a {column_kind(frame, time, context)} column.",
                                  hint="Choose another time column, or change its kind on the Data page.")
        self.new_columns(frame, self.names())
        state = {
            "time": time, "by": self.by, "datetime": bool(pd.api.types.is_datetime64_any_dtype(frame[time])),
            "targets": [c for c in self.columns if c == context.target],
            "history": {"_key": [], "_time": [], **{c: [] for c in self.columns}},
        }
        try:
            ordered = ordered_rows(frame, self.params(), state, True)
        except ValueError as exc:
            raise ValidationError(f"{self.label}: {exc}.") from None
        out = with_columns(frame, past_columns(ordered, len(frame), self.params(), state))
        tail = ordered.groupby("_code", sort=False).tail(self.depth())
        state["history"] = {c: tail[c].tolist() for c in ["_key", "_time", *self.columns]}
        return out, self.state_of(state)


@register
@dataclass(frozen=True, kw_only=True)
class Lag(_PastValues):
    """``<column>_lag<k>``: the value ``k`` rows earlier for the same entity (``by``),
    in the order of the time column (``time``; default: the dataset's time column).
    The target may be lagged: its past values are known when scoring."""

    kind: ClassVar[str] = "lag"
    label: ClassVar[str] = "Lags"
    summary: ClassVar[str] = "Values from earlier rows of the same entity (yesterday's sales)."
    constraints: ClassVar[dict] = {"columns": Columns(), "lags": IntList(1, 366), "by": Optional(Column()),
                                   "time": Optional(Column())}
    lags: tuple[int, ...] = (1,)

    def depth(self) -> int:
        return max(self.lags)

    def names(self) -> list[str]:
        return [f"{c}_lag{k}" for c in self.columns for k in self.lags]

    def describe(self) -> str:
        per = f" per {self.by!r}" if self.by else ""
        return f"Lags {', '.join(map(str, self.lags))} of {', '.join(map(repr, self.columns))}{per}"


@register
@dataclass(frozen=True, kw_only=True)
class Rolling(_PastValues):
    """``<column>_roll<window>_<stat>``: mean, sum, min, max or standard deviation of the
    previous ``window`` rows of the same entity (not the current row), in time order."""

    kind: ClassVar[str] = "rolling"
    label: ClassVar[str] = "Rolling windows"
    summary: ClassVar[str] = "Mean, sum, min, max or spread over the previous rows of an entity."
    constraints: ClassVar[dict] = {"columns": Columns(), "window": Interval(2, 366, integer=True),
                                   "stats": SubsetOf(*STATS), "by": Optional(Column()), "time": Optional(Column())}
    window: int = 3
    stats: tuple[str, ...] = ("mean",)

    def depth(self) -> int:
        return self.window

    def names(self) -> list[str]:
        return [f"{c}_roll{self.window}_{stat}" for c in self.columns for stat in self.stats]

    def describe(self) -> str:
        per = f" per {self.by!r}" if self.by else ""
        return f"Rolling {', '.join(self.stats)} over {self.window} earlier rows of " \
               f"{', '.join(map(repr, self.columns))}{per}"
