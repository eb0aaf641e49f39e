"""Parse dates: text to datetime, with the format detected once and stored.

The format is learned when the step is fitted (``core.schema.detect_date_format`` on
a sample) and kept in the step's state, so new rows are read with the same format
even when a different one would fit them; set ``format`` to override the guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from core.errors import ValidationError
from core.schema import detect_date_format
from core.steps.base import Columns, Optional, Text, register
from core.steps.codegen import KernelStep, kernel
from core.steps.text import as_text

__all__ = ["ParseDates", "to_datetime", "parse_dates", "learn_date_format"]

_ZONE = r"(?:[+-]\d{2}:?\d{2}|Z)$"


@kernel
def to_datetime(s: pd.Series, fmt=None, utc=False) -> pd.Series:
    """Datetimes from text (``fmt``: a strptime format, "ISO8601", or None for mixed),
    or from numbers (seconds since 1970). Values that do not parse become missing."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        seconds = s.astype("float64")
        seconds = seconds.where(seconds.abs() < 9.2e9)  # beyond the years 1677-2262 (and inf): missing
        return pd.to_datetime(seconds, unit="s", errors="coerce")
    text = as_text(s).str.strip()
    return pd.to_datetime(text, format=fmt or "mixed", errors="coerce", utc=utc)


@kernel
def parse_dates(df: pd.DataFrame, columns, formats) -> pd.DataFrame:
    """Parse each column with its ``[format, utc]`` from ``formats``."""
    out = df.copy(deep=False)
    for column in columns:
        fmt, utc = formats.get(column, [None, False])
        out[column] = to_datetime(df[column], fmt, utc)
    return out


def learn_date_format(series: pd.Series, fmt: str | None = None) -> list:
    """``[format, utc]`` for ``series``: the given or detected format, and whether values
    carry time zones (then all are converted to UTC, as on import)."""
    if pd.api.types.is_datetime64_any_dtype(series) or (
            pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        return [fmt, False]
    sample = as_text(series.dropna().head(20_000)).str.strip()
    if fmt is None:
        fmt, _ = detect_date_format(sample)
    utc = bool(fmt == "ISO8601" and sample.str.contains(_ZONE, regex=True, na=False).any())
    return [fmt, utc]


@register
@dataclass(frozen=True, kw_only=True)
class ParseDates(KernelStep):
    """Read text columns as dates. The format is detected from the data (stored with the
    step so new rows are read the same way) unless you give one (``"%d/%m/%Y"``,
    ``"ISO8601"`` ...). Values that do not match become missing."""

    kind: ClassVar[str] = "parse_dates"
    label: ClassVar[str] = "Parse dates"
    learns: ClassVar[bool] = True
    constraints: ClassVar[dict] = {"columns": Columns(), "format": Optional(Text(allow_empty=False, max_length=100))}
    columns: tuple[str, ...]
    format: str | None = None

    def validate(self) -> None:
        if self.format not in (None, "ISO8601", "mixed") and "%" not in self.format:
            raise ValidationError(
                "The 'format' parameter of ParseDates must be a strptime format such as '%d/%m/%Y', "
                f"'ISO8601' or None. Got {self.format!r} instead.")

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def fit(self, frame: pd.DataFrame, context) -> dict:
        return {"formats": {c: learn_date_format(frame[c], self.format) for c in self.columns}}

    def kernel_call(self, state: dict):
        if "formats" not in state and self.format is None:
            raise ValidationError("ParseDates must be fitted (to detect the format) before it can run.")
        formats = state.get("formats") or {c: [self.format, False] for c in self.columns}
        return parse_dates, {"columns": list(self.columns), "formats": formats}

    def describe(self) -> str:
        how = f"format {self.format!r}" if self.format else "format detected"
        return f"Parse dates in {', '.join(map(repr, self.columns))} ({how})"

