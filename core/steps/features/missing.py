"""Missing indicators: a 0/1 column saying where a value was missing (before any
imputation hides it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core.steps.features.base import FeatureStep, candidate_columns, with_columns
from core.steps.codegen import kernel
from core.steps.base import Columns, Optional, register


@kernel
def missing_indicator_columns(df, p, s):
    """``<column>_missing``: 1 where the value is missing, else 0."""
    return with_columns(df, {f"{c}_missing": df[c].isna().to_numpy().astype(np.uint8) for c in s["columns"]})


@register
@dataclass(frozen=True, kw_only=True)
class MissingIndicator(FeatureStep):
    """``<column>_missing`` (0/1) for the given columns, or, when ``columns`` is None,
    for every column (but the target and role columns) that has a missing value in the
    training rows; that list is learned, so new rows get the same columns."""

    kind: ClassVar[str] = "missing_indicator"
    label: ClassVar[str] = "Missing indicators"
    group: ClassVar[str] = "Missing values"
    summary: ClassVar[str] = "A 0/1 column marking where a value was missing."
    constraints: ClassVar[dict] = {"columns": Optional(Columns())}
    replay = staticmethod(missing_indicator_columns)
    columns: tuple[str, ...] | None = None

    def columns_in(self) -> list[str]:
        return list(self.columns or ())

    def _fit(self, frame, context) -> dict:
        if self.columns is not None:
            chosen = list(self.columns)
        else:
            chosen = [c for c in candidate_columns(frame, context) if frame[c].isna().any()]
        self.new_columns(frame, [f"{c}_missing" for c in chosen])
        return {"columns": chosen}

    def describe(self) -> str:
        which = ", ".join(map(repr, self.columns)) if self.columns else "every column with missing values"
        return f"Missing indicators for {which}"
