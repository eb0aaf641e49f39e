"""Row steps: drop rows with missing values, and drop duplicate rows.

Both are training-only: they shape the table a model learns from, and are skipped
when new rows are scored (a prediction is owed for every row given).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from core.steps.base import Columns, OneOf, Optional, Step, register

__all__ = ["DropMissing", "Deduplicate"]


@register
@dataclass(frozen=True, kw_only=True)
class DropMissing(Step):
    """Drop rows that have a missing value in the chosen columns (``how="any"``) or in all
    of them (``how="all"``); with no columns, every column is checked."""

    kind: ClassVar[str] = "drop_missing"
    label: ClassVar[str] = "Drop rows with missing values"
    training_only: ClassVar[bool] = True
    constraints: ClassVar[dict] = {"columns": Optional(Columns()), "how": OneOf("any", "all")}
    columns: tuple[str, ...] | None = None
    how: str = "any"

    def columns_in(self) -> list[str]:
        return list(self.columns or [])

    def transform(self, frame: pd.DataFrame, state: dict) -> pd.DataFrame:
        return frame.dropna(subset=list(self.columns) if self.columns else None, how=self.how)

    def to_code(self, state: dict | None = None) -> str:
        subset = list(self.columns) if self.columns else None
        return f"df = df.dropna(subset={subset!r}, how={self.how!r})"

    def describe(self) -> str:
        where = ", ".join(map(repr, self.columns)) if self.columns else "any column"
        return f"Drop rows missing {'a value in' if self.how == 'any' else 'all of'} {where}"


@register
@dataclass(frozen=True, kw_only=True)
class Deduplicate(Step):
    """Drop repeated rows, comparing all columns or only the chosen ones; keep the first
    or the last of each group of duplicates."""

    kind: ClassVar[str] = "deduplicate"
    label: ClassVar[str] = "Remove duplicate rows"
    training_only: ClassVar[bool] = True
    constraints: ClassVar[dict] = {"columns": Optional(Columns()), "keep": OneOf("first", "last")}
    columns: tuple[str, ...] | None = None
    keep: str = "first"

    def columns_in(self) -> list[str]:
        return list(self.columns or [])

    def transform(self, frame: pd.DataFrame, state: dict) -> pd.DataFrame:
        return frame.drop_duplicates(subset=list(self.columns) if self.columns else None, keep=self.keep)

    def to_code(self, state: dict | None = None) -> str:
        subset = list(self.columns) if self.columns else None
        return f"df = df.drop_duplicates(subset={subset!r}, keep={self.keep!r})"

    def describe(self) -> str:
        on = ", ".join(map(repr, self.columns)) if self.columns else "all columns"
        return f"Remove duplicate rows (on {on}; keep {self.keep})"
