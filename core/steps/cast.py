"""Cast columns to another type: number, integer, boolean, datetime, category or text.

Values that cannot be read as the new type become missing; the preview counts them
(and the page asks before a cast turns more than half of a column into missing).
The rules are the ones the import uses (``core.schema.coerce``), written as kernels
so that the exported script applies them identically:

- number: text is read after removing spaces and underscores ("1 000", "1_000");
  booleans become 1/0; datetimes become seconds since 1970;
- integer: whole numbers only (2.5 fails), stored as nullable ``Int64`` so the type
  does not depend on whether this batch of rows happens to have gaps;
- boolean: true/false, yes/no, y/n, t/f, 1/0, on/off (any case);
- datetime: the format is detected once (see ``core.steps.dates``) and stored;
- category / text: labels as text (numbers keep their values as categories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.base import Columns, OneOf, register
from core.steps.codegen import KernelStep, kernel
from core.steps.dates import learn_date_format, to_datetime
from core.steps.text import as_text

__all__ = ["Cast", "CAST_TYPES", "to_number", "to_integer", "to_boolean", "cast_columns"]

CAST_TYPES = ("number", "integer", "boolean", "datetime", "category", "text")


@kernel
def to_number(s: pd.Series) -> pd.Series:
    """float64 from numbers, booleans (1/0), datetimes (seconds since 1970) or text."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("Float64").astype("float64")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(s):
        zero = pd.Timestamp(0, tz=s.dt.tz)
        return ((s - zero) / pd.Timedelta(seconds=1)).astype("float64")
    text = as_text(s).astype("string[pyarrow]").str.replace("[\\s_]", "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype("float64")


@kernel
def to_integer(s: pd.Series) -> pd.Series:
    """Nullable Int64: whole numbers within the int64 range; anything else is missing."""
    if pd.api.types.is_integer_dtype(s):
        return s.astype("Int64")
    numbers = to_number(s).to_numpy()
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 2.0**63)
    return pd.Series(pd.array(np.where(whole, numbers, 0).astype("int64"), dtype="Int64"),
                     index=s.index, name=s.name).where(whole)


@kernel
def to_boolean(s: pd.Series) -> pd.Series:
    """Nullable boolean: 1/0 for numbers; true/yes/y/t/1/on and false/no/n/f/0/off for text."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    out = pd.Series(pd.NA, index=s.index, name=s.name, dtype="boolean")
    if pd.api.types.is_numeric_dtype(s):
        out[s == 1] = True
        out[s == 0] = False
        return out
    words = as_text(s).str.strip().str.lower()
    out[words.isin(["1", "on", "t", "true", "y", "yes"])] = True  # core.schema.TRUE_WORDS
    out[words.isin(["0", "f", "false", "n", "no", "off"])] = False  # core.schema.FALSE_WORDS
    return out


@kernel
def cast_columns(df: pd.DataFrame, columns, to, formats=None) -> pd.DataFrame:
    """Cast ``columns`` to ``to``; ``formats`` holds each datetime column's ``[format, utc]``."""
    out = df.copy(deep=False)
    for column in columns:
        s = df[column]
        if to == "number":
            out[column] = to_number(s)
        elif to == "integer":
            out[column] = to_integer(s)
        elif to == "boolean":
            out[column] = to_boolean(s)
        elif to == "datetime":
            fmt, utc = (formats or {}).get(column, [None, False])
            out[column] = to_datetime(s, fmt, utc)
        elif to == "category":
            if not isinstance(s.dtype, pd.CategoricalDtype):
                plain = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s)
                out[column] = (s if plain else as_text(s)).astype("category")
        else:
            out[column] = as_text(s)
    return out


@register
@dataclass(frozen=True, kw_only=True)
class Cast(KernelStep):
    """Change the type of columns. Values that cannot be read as the new type become
    missing (the preview shows how many, with examples)."""

    kind: ClassVar[str] = "cast"
    label: ClassVar[str] = "Change type"
    learns: ClassVar[bool] = True  # the date format, for datetime casts
    constraints: ClassVar[dict] = {"columns": Columns(), "to": OneOf(*CAST_TYPES)}
    columns: tuple[str, ...]
    to: str

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def fit(self, frame: pd.DataFrame, context) -> dict:
        if self.to != "datetime":
            return {}
        return {"formats": {c: learn_date_format(frame[c]) for c in self.columns}}

    def kernel_call(self, state: dict):
        kwargs = {"columns": list(self.columns), "to": self.to}
        if self.to == "datetime":
            if "formats" not in state:
                raise ValidationError("Cast to datetime must be fitted (to learn the date format) before it can run.")
            kwargs["formats"] = state["formats"]
        return cast_columns, kwargs

    def describe(self) -> str:
        return f"Cast {', '.join(map(repr, self.columns))} to {self.to}"

