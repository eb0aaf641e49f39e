"""Filter rows by a column, an operator and a value (chosen from widgets; never code).

Rows with a missing value in the column never match a comparison (only the
"is missing" operator matches them). Text operators work on the values as text.
Filtering is training-only: new rows are never dropped when scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.base import Boolean, Column, OneOf, Scalar, register
from core.steps.codegen import KernelStep, kernel
from core.steps.text import text_codes

__all__ = ["FilterRows", "OPERATORS", "filter_rows", "as_column_value"]

COMPARE = ("==", "!=", "<", "<=", ">", ">=")
TEXT_OPS = ("contains", "starts with", "ends with")
OPERATORS = (*COMPARE, "between", "in", "not in", *TEXT_OPS, "is missing", "is not missing")
NO_VALUE = ("is missing", "is not missing")


@kernel
def as_column_value(s: pd.Series, value):
    """``value`` in the column's terms: text dates become timestamps in a date column."""
    if value is None or not pd.api.types.is_datetime64_any_dtype(s):
        return value
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a date") from None
    if not pd.Timestamp.min.tz_localize(None) <= stamp.tz_localize(None) <= pd.Timestamp.max.tz_localize(None):
        raise ValueError(f"{value!r} is read as {stamp.date()}, outside the dates a column can hold (1677-2262)")
    if s.dt.tz is not None:
        stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp
        return stamp.tz_convert(s.dt.tz)
    return stamp.tz_convert(None) if stamp.tz is not None else stamp


@kernel
def filter_rows(df: pd.DataFrame, column, operator, value=None, keep=True) -> pd.DataFrame:
    """Keep (or, with ``keep=False``, drop) the rows where ``column operator value`` holds."""
    s = df[column]
    if operator in ("is missing", "is not missing"):
        match = s.isna() if operator == "is missing" else s.notna()
    elif operator in ("contains", "starts with", "ends with"):
        codes, texts = text_codes(s)  # test each distinct value once
        method = {"contains": "contains", "starts with": "startswith", "ends with": "endswith"}[operator]
        kwargs = {"regex": False} if method == "contains" else {}
        arrow = texts.astype("string[pyarrow]").str
        hits = getattr(arrow, method)(str(value), **kwargs).to_numpy(dtype=bool, na_value=False)
        match = np.append(hits, False)[codes]
    elif operator in ("in", "not in"):
        match = s.isin([as_column_value(s, v) for v in value])
        match = ~match if operator == "not in" else match
    elif operator == "between":
        low, high = as_column_value(s, value[0]), as_column_value(s, value[1])
        match = (s >= low) & (s <= high)
    else:
        v = as_column_value(s, value)
        match = {"==": s.__eq__, "!=": s.__ne__, "<": s.__lt__, "<=": s.__le__,
                 ">": s.__gt__, ">=": s.__ge__}[operator](v)
    match = pd.Series(match, index=df.index).to_numpy(dtype=bool, na_value=False)
    if operator != "is missing":
        match &= s.notna().to_numpy()
    return df[match if keep else ~match]


@register
@dataclass(frozen=True, kw_only=True)
class FilterRows(KernelStep):
    """Keep (or drop) the rows where a column compares to a value: ``==``, ``!=``, ``<``,
    ``<=``, ``>``, ``>=``, ``between`` [low, high] (inclusive), ``in`` / ``not in`` a list,
    ``contains`` / ``starts with`` / ``ends with`` some text, ``is missing`` / ``is not
    missing``. Rows with a missing value never match a comparison."""

    kind: ClassVar[str] = "filter_rows"
    label: ClassVar[str] = "Filter rows"
    training_only: ClassVar[bool] = True
    constraints: ClassVar[dict] = {"column": Column(), "operator": OneOf(*OPERATORS), "keep": Boolean()}
    column: str
    operator: str
    value: object = None
    keep: bool = True

    def validate(self) -> None:
        v, op = self.value, self.operator
        if op in NO_VALUE:
            ok, wanted = v is None, "null"
        elif op == "between":
            ok, wanted = isinstance(v, tuple) and len(v) == 2 and all(Scalar().ok(x) and x is not None for x in v), \
                "a list [low, high]"
        elif op in ("in", "not in"):
            ok, wanted = isinstance(v, tuple) and len(v) >= 1 and all(Scalar().ok(x) for x in v), \
                "a non-empty list of values"
        elif op in TEXT_OPS:
            ok, wanted = isinstance(v, str) and v != "", "non-empty text"
        else:
            ok, wanted = Scalar().ok(v) and v is not None, "text, a finite number or true/false"
        if not ok:
            raise ValidationError(f"With the operator {op!r}, the 'value' parameter of FilterRows must be "
                                  f"{wanted}. Got {list(v) if isinstance(v, tuple) else v!r} instead.")

    def columns_in(self) -> list[str]:
        return [self.column]

    def fit(self, frame: pd.DataFrame, context) -> dict:
        s = frame[self.column]
        values = [] if self.operator in NO_VALUE + TEXT_OPS else \
            (list(self.value) if isinstance(self.value, tuple) else [self.value])
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        for v in values:
            if numeric and (isinstance(v, (str, bool))):
                raise ValidationError(f"{self.column!r} holds numbers, so it cannot be compared with {v!r}.",
                                      hint="Give a number.")
            if pd.api.types.is_datetime64_any_dtype(s):
                try:
                    as_column_value(s, v)
                except (ValueError, TypeError):
                    raise ValidationError(f"{v!r} is not a date, and {self.column!r} holds dates.",
                                          hint="Give a date such as 2024-01-31.") from None
        if self.operator in COMPARE[2:] + ("between",) and isinstance(s.dtype, pd.CategoricalDtype) \
                and not s.cat.ordered:
            raise ValidationError(f"{self.column!r} holds unordered categories, so {self.operator!r} has no meaning.",
                                  hint="Use '==', 'in' or a text operator.")
        return {}

    def kernel_call(self, state: dict):
        kwargs = {"column": self.column, "operator": self.operator}
        if self.operator not in NO_VALUE:
            kwargs["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        if not self.keep:
            kwargs["keep"] = False
        return filter_rows, kwargs

    def describe(self) -> str:
        value = "" if self.operator in NO_VALUE else " " + repr(list(self.value) if isinstance(self.value, tuple)
                                                                 else self.value)
        return f"{'Keep' if self.keep else 'Drop'} rows where {self.column!r} {self.operator}{value}"

