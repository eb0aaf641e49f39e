"""What a cleaning step would change, before it is added: the preview the Clean page shows.

:func:`preview` runs the step on the current cleaned table and compares: rows kept
and removed, cells changed, columns added or removed, per-column type and missing
counts, values that became missing (with examples), and a before/after sample of
affected rows. Everything is vectorised (a million rows compare in well under a
second per column) and returned as plain data; the page only draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.recipe import MissingColumnError, Recipe, run_clean_step
from core.steps import FitContext, Step
from core.steps.text import as_text

__all__ = ["Preview", "ColumnChange", "preview", "CONFIRM_SHARE", "check_replay", "value_for"]

CONFIRM_SHARE = 0.5  # a step that makes more than this share of a column missing asks first
SAMPLE_ROWS = 8


@dataclass(frozen=True)
class ColumnChange:
    column: str
    change: str  # "added", "removed", "changed", "type", "unchanged"
    dtype_before: str
    dtype_after: str
    missing_before: int
    missing_after: int
    cells_changed: int
    became_missing: int = 0  # values present before and missing after
    examples: tuple[str, ...] = ()  # a few of those values
    present_before: int = 0  # non-missing values before, in the rows the step keeps


@dataclass(frozen=True)
class Preview:
    rows_before: int
    rows_after: int
    rows_changed: int  # kept rows with a changed, added or removed cell
    cells_changed: int  # changed cells, plus the values of added and removed columns
    columns: tuple[ColumnChange, ...]
    before: pd.DataFrame = field(repr=False)  # sample of affected rows, as text
    after: pd.DataFrame = field(repr=False)
    state: dict = field(default_factory=dict, repr=False)

    @property
    def rows_removed(self) -> int:
        return self.rows_before - self.rows_after

    @property
    def columns_after(self) -> int:
        return sum(c.change != "removed" for c in self.columns)

    @property
    def changed(self) -> list[ColumnChange]:
        return [c for c in self.columns if c.change != "unchanged"]

    @property
    def needs_confirmation(self) -> list[ColumnChange]:
        """Columns the step would make more than half missing (the page asks first)."""
        return [c for c in self.columns if c.became_missing > CONFIRM_SHARE * c.present_before]

    def summary_table(self) -> pd.DataFrame:
        """One row per changed column, for people: what changed, missing before → after."""
        def what(c: ColumnChange) -> str:
            return {"added": f"added ({c.dtype_after})", "removed": "removed",
                    "type": f"type {c.dtype_before} → {c.dtype_after}"}.get(c.change, "values")

        return pd.DataFrame({
            "column": [c.column for c in self.changed],
            "change": [what(c) for c in self.changed],
            "missing": [f"{c.missing_before:,} → {c.missing_after:,}" if c.change not in ("added", "removed")
                        else "" for c in self.changed],
            "cells changed": [c.cells_changed for c in self.changed],
            "values lost": [c.became_missing for c in self.changed],
            "for example": [", ".join(map(str, c.examples)) for c in self.changed],
        })


def _changed_cells(before: pd.Series, after: pd.Series) -> np.ndarray:
    if before.dtype == after.dtype and not isinstance(before.dtype, pd.CategoricalDtype):
        same = (before == after).to_numpy(dtype=bool, na_value=False)
    else:  # different types (a cast) or categories: compare the values themselves
        same = (before.astype(object) == after.astype(object)).to_numpy(dtype=bool, na_value=False)
    both_missing = before.isna().to_numpy() & after.isna().to_numpy()
    return ~(same | both_missing)


def preview(frame: pd.DataFrame, step: Step, *, number: int = 1, context: FitContext | None = None) -> Preview:
    """What ``step`` (as step ``number`` of the recipe) changes in ``frame``."""
    after, state = run_clean_step(step, frame, number, context)
    if not frame.index.is_unique:
        raise ValidationError("The table's row labels are not unique, so changes cannot be matched to rows.")
    kept = frame.index.get_indexer(after.index)
    if (kept < 0).any():
        raise ValidationError(f"{step.describe()} created rows; a cleaning step may only keep or remove rows.")
    base = frame.iloc[kept]
    changes, affected, focus = [], np.zeros(len(after), dtype=bool), []
    for name in dict.fromkeys([*frame.columns, *after.columns]):
        if name not in after.columns:  # removed: its values in the kept rows are gone
            s, diff = frame[name], base[name].notna().to_numpy()
            changes.append(ColumnChange(name, "removed", str(s.dtype), "", int(s.isna().sum()), 0, int(diff.sum())))
        elif name not in frame.columns:
            a = after[name]
            diff = a.notna().to_numpy()
            changes.append(ColumnChange(name, "added", "", str(a.dtype), 0, int(a.isna().sum()), int(diff.sum())))
        else:
            a, b = after[name], base[name]
            diff = _changed_cells(b, a)
            lost = b.notna().to_numpy() & a.isna().to_numpy()
            examples = tuple(as_text(b[lost]).value_counts().head(5).index) if lost.any() else ()
            kind = "type" if b.dtype != a.dtype else ("changed" if diff.any() else "unchanged")
            changes.append(ColumnChange(name, kind, str(b.dtype), str(a.dtype), int(frame[name].isna().sum()),
                                        int(a.isna().sum()), int(diff.sum()), int(lost.sum()), examples,
                                        int(b.notna().sum())))
        if diff.any():
            affected |= diff
            focus.append(name)
    rows = after.index[affected][:SAMPLE_ROWS]
    if len(rows):
        before_sample = frame.loc[rows, [c for c in focus if c in frame.columns]]
        after_sample = after.loc[rows, [c for c in focus if c in after.columns]]
    elif len(after) < len(frame):  # only removals: show some removed rows
        before_sample = frame.loc[frame.index.difference(after.index, sort=False)[:SAMPLE_ROWS]]
        after_sample = after.iloc[:0]
    else:
        before_sample, after_sample = frame.head(0), after.head(0)
    return Preview(len(frame), len(after), int(affected.sum()), sum(c.cells_changed for c in changes),
                   tuple(changes), _as_text(before_sample), _as_text(after_sample), state)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A small sample for display: every column as text (mixed types draw safely)."""
    return pd.DataFrame({c: as_text(frame[c]) for c in frame.columns}, index=frame.index)


def check_replay(recipe: Recipe, raw: pd.DataFrame, rows: int = 200) -> None:
    """Refuse an edit (a move or a removal) after which a step would use a column before
    it exists or after it is gone: replays the recipe on the first ``rows`` raw rows.
    Other errors on a sample are ignored (they may be about values the sample lacks)."""
    try:
        recipe.apply_clean(raw.head(rows))
    except MissingColumnError:
        raise
    except Exception:  # noqa: BLE001 - value-level problems on a sample are not this check's business
        return


def value_for(series: pd.Series, text: str):
    """A value typed in a text box, read in ``series``' terms: a number for a numeric
    column, true/false for a boolean one, ISO text for dates, else the text itself."""
    text = text.strip()
    if pd.api.types.is_bool_dtype(series):
        low = text.lower()
        if low in ("true", "false"):
            return low == "true"
        raise ValidationError(f"{series.name!r} holds true/false values; {text!r} is neither.")
    if pd.api.types.is_numeric_dtype(series):
        try:
            number = float(text.replace("_", "").replace(" ", ""))
        except ValueError:
            raise ValidationError(f"{series.name!r} holds numbers; {text!r} is not a number.",
                                  hint="Type a number such as 12 or 3.5.") from None
        if not math.isfinite(number):
            raise ValidationError(f"{text!r} is not a finite number.")
        return int(number) if number.is_integer() and pd.api.types.is_integer_dtype(series) else number
    if pd.api.types.is_datetime64_any_dtype(series):
        try:
            return pd.Timestamp(text).isoformat()
        except ValueError:
            raise ValidationError(f"{series.name!r} holds dates; {text!r} is not a date.",
                                  hint="Type a date such as 2024-01-31.") from None
    return text
