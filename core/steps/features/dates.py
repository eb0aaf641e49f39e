"""Date features: calendar parts, a weekend flag, days since a reference date, and
cyclical (sine/cosine) encodings so that December sits next to January."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.features.base import DATETIME, FeatureStep, SubsetOf, with_columns
from core.steps.codegen import kernel
from core.steps.base import Boolean, Column, Optional, Text, register

PARTS = ("year", "quarter", "month", "day", "weekday", "dayofyear", "hour", "minute", "weekend", "days_since")
# part -> (first value, period) for the sine/cosine encoding
CYCLES = {"quarter": (1, 4), "month": (1, 12), "day": (1, 31), "weekday": (0, 7), "dayofyear": (1, 366),
          "hour": (0, 24), "minute": (0, 60)}


@kernel
def utc_naive(t):
    """Datetimes as naive UTC (time-zone-aware values are converted)."""
    if not pd.api.types.is_datetime64_any_dtype(t):
        t = pd.to_datetime(t, errors="coerce", utc=True)
    if getattr(t.dtype, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return t


@kernel
def date_parts(df, p, s):
    """Calendar parts of a date column (and their sine/cosine when ``cyclical``)."""
    col = p["column"]
    t = df[col]
    if not pd.api.types.is_datetime64_any_dtype(t):
        t = pd.to_datetime(t, errors="coerce")
    cycles = s.get("cycles", {})  # part -> [first value, period]
    new = {}
    for part in p["parts"]:
        if part == "weekend":
            values = np.where(t.isna(), np.nan, (t.dt.weekday >= 5).astype("float64"))
        elif part == "days_since":
            delta = utc_naive(t) - pd.Timestamp(s["reference"])
            values = delta.dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan) / 86400.0
        else:
            values = getattr(t.dt, part).to_numpy(dtype="float64", na_value=np.nan)
        new[f"{col}_{part}"] = values
        if part in cycles:
            start, period = cycles[part]
            angle = 2 * np.pi * (values - start) / period
            new[f"{col}_{part}_sin"] = np.sin(angle)
            new[f"{col}_{part}_cos"] = np.cos(angle)
    return with_columns(df, new, drop=() if p["keep_original"] else (col,))


@register
@dataclass(frozen=True, kw_only=True)
class DateParts(FeatureStep):
    """Year, quarter, month, day, weekday, day of year, hour, minute, a weekend flag and
    days since a reference date, from one date column; with ``cyclical``, also the sine
    and cosine of each periodic part. The reference date defaults to the earliest date in
    the training rows (learned, so new rows are measured from the same day)."""

    kind: ClassVar[str] = "date_parts"
    label: ClassVar[str] = "Date parts"
    group: ClassVar[str] = "Dates"
    summary: ClassVar[str] = "Calendar parts of a date, days since a date, and cyclical sine/cosine encodings."
    accepts: ClassVar[dict] = {"column": DATETIME}
    constraints: ClassVar[dict] = {
        "column": Column(), "parts": SubsetOf(*PARTS), "cyclical": Boolean(),
        "reference": Optional(Text(allow_empty=False, max_length=40)), "keep_original": Boolean(),
    }
    replay = staticmethod(date_parts)
    column: str
    parts: tuple[str, ...] = ("year", "month", "day", "weekday")
    cyclical: bool = False
    reference: str | None = None
    keep_original: bool = False

    def validate(self) -> None:
        if self.reference is not None:
            try:
                pd.Timestamp(self.reference)
            except (ValueError, TypeError):
                raise ValidationError(
                    f"The 'reference' parameter of DateParts must be a date like '2024-01-31'. "
                    f"Got {self.reference!r} instead.") from None

    def columns_in(self) -> list[str]:
        return [self.column]

    def _fit(self, frame, context) -> dict:
        names = [f"{self.column}_{p}" for p in self.parts]
        if self.cyclical:
            names += [f"{self.column}_{p}_{f}" for p in self.parts if p in CYCLES for f in ("sin", "cos")]
        self.new_columns(frame, names)
        state: dict = {"cycles": {p: CYCLES[p] for p in self.parts if p in CYCLES}} if self.cyclical else {}
        if "days_since" not in self.parts:
            return state
        if self.reference is not None:
            ref = pd.Timestamp(self.reference)
            ref = ref.tz_convert("UTC").tz_localize(None) if ref.tzinfo else ref
        else:
            ref = utc_naive(frame[self.column]).min()
            if pd.isna(ref):
                raise ValidationError(f"{self.column!r} has no dates in the training rows to measure from.",
                                      hint="Give a reference date, or pick a column with dates.")
        return {**state, "reference": ref.isoformat()}

    def describe(self) -> str:
        extra = " with sine/cosine" if self.cyclical else ""
        return f"Date parts of {self.column!r}: {', '.join(self.parts)}{extra}"
