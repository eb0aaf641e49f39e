"""Value edits in one column: replace given values, and merge rare categories into "Other"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from core import jsonutil
from core.errors import ValidationError
from core.steps.base import Column, Interval, Scalar, Text, register
from core.steps.codegen import KernelStep, kernel
from core.steps.filter import as_column_value
from core.steps.text import recode_categories

__all__ = ["ReplaceValues", "MergeRare", "replace_values", "merge_rare"]


@kernel
def replace_values(df: pd.DataFrame, column, pairs) -> pd.DataFrame:
    """Replace each ``old`` by ``new`` for ``[old, new]`` in ``pairs`` (None means missing).
    All pairs look at the original values, so ``a->b, b->a`` swaps."""
    s = df[column]
    out = df.copy(deep=False)
    if isinstance(s.dtype, pd.CategoricalDtype):
        lookup = {old: new for old, new in pairs}
        labels = [lookup.get(c, c) for c in s.cat.categories]
        result = recode_categories(s, labels)
        if None in lookup and lookup[None] is not None and s.hasnans:
            fill = lookup[None]
            if fill not in result.cat.categories:
                result = result.cat.add_categories([fill])
            result = result.fillna(fill)
        out[column] = result
        return out
    masks = [(s.isna() if old is None else s == as_column_value(s, old)).to_numpy(dtype=bool, na_value=False)
             for old, _ in pairs]
    result = s
    for mask, (_, new) in zip(masks, pairs):
        if mask.any():
            value = as_column_value(s, new)
            try:
                result = result.mask(mask, value)
            except (TypeError, ValueError):
                raise ValueError(f"{new!r} cannot go in {column!r}, which holds {s.dtype} values; "
                                 "replace with a value of that type, or change the column's type first") from None
    out[column] = result
    return out


@kernel
def merge_rare(df: pd.DataFrame, column, keep, other="Other") -> pd.DataFrame:
    """Values not in ``keep`` become ``other``; missing values stay missing."""
    s = df[column]
    out = df.copy(deep=False)
    kept = set(keep)
    if isinstance(s.dtype, pd.CategoricalDtype):
        out[column] = recode_categories(s, [c if c in kept else other for c in s.cat.categories])
    else:
        rare = ~(s.isin(list(kept)) | s.isna())
        if rare.any() and not pd.api.types.is_object_dtype(s):
            s = s.astype(object)  # "Other" is text: a number or boolean column cannot hold it
        out[column] = s.mask(rare, other)
    return out


@register
@dataclass(frozen=True, kw_only=True)
class ReplaceValues(KernelStep):
    """Replace values in a column: ``pairs`` is a list of ``[old, new]`` (``null`` as old
    matches missing values; as new it makes the value missing)."""

    kind: ClassVar[str] = "replace_values"
    label: ClassVar[str] = "Replace values"
    constraints: ClassVar[dict] = {"column": Column()}
    column: str
    pairs: tuple[tuple[object, object], ...]

    def validate(self) -> None:
        pairs = self.pairs
        if not (isinstance(pairs, tuple) and pairs and all(
                isinstance(p, tuple) and len(p) == 2 and Scalar().ok(p[0]) and Scalar().ok(p[1]) for p in pairs)):
            raise ValidationError("The 'pairs' parameter of ReplaceValues must be a non-empty list of [old, new] "
                                  f"values. Got {jsonutil.to_jsonable(pairs)!r} instead.")
        olds = [p[0] for p in pairs]
        if len(set(map(repr, olds))) != len(olds):
            raise ValidationError("ReplaceValues lists the same old value twice.", hint="Keep one pair per value.")

    def columns_in(self) -> list[str]:
        return [self.column]

    def kernel_call(self, state: dict):
        return replace_values, {"column": self.column, "pairs": [list(p) for p in self.pairs]}

    def describe(self) -> str:
        shown = ", ".join(f"{o!r} → {n!r}" for o, n in self.pairs[:3]) + (" ..." if len(self.pairs) > 3 else "")
        return f"Replace in {self.column!r}: {shown}"


@register
@dataclass(frozen=True, kw_only=True)
class MergeRare(KernelStep):
    """Merge rare categories of a column into one label ("Other"): a category is rare when
    it holds fewer than ``min_count`` rows or less than ``min_share`` of the non-missing
    rows. The kept categories are learned; values never seen before also become "Other"."""

    kind: ClassVar[str] = "merge_rare"
    label: ClassVar[str] = "Merge rare categories"
    learns: ClassVar[bool] = True
    constraints: ClassVar[dict] = {
        "column": Column(), "min_share": Interval(0, 1, closed="left"),
        "min_count": Interval(0, None, integer=True), "other": Text(allow_empty=False, max_length=200),
    }
    column: str
    min_share: float = 0.01
    min_count: int = 0
    other: str = "Other"

    def columns_in(self) -> list[str]:
        return [self.column]

    def fit(self, frame: pd.DataFrame, context) -> dict:
        s = frame[self.column]
        if pd.api.types.is_float_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            raise ValidationError(f"{self.column!r} holds {s.dtype} values, not categories.",
                                  hint="Cast it to category first, or bin it.")
        counts = s.value_counts(dropna=True, sort=True)
        total = max(int(counts.sum()), 1)
        keep = counts[(counts >= self.min_count) & (counts / total >= self.min_share)]
        return {"keep": jsonutil.to_jsonable(keep.index.tolist())}

    def kernel_call(self, state: dict):
        if "keep" not in state:
            raise ValidationError("MergeRare must be fitted before it can run.")
        return merge_rare, {"column": self.column, "keep": state["keep"], "other": self.other}

    def describe(self) -> str:
        rule = f"< {self.min_share:.1%} of rows" + (f" or < {self.min_count} rows" if self.min_count else "")
        return f"Merge categories of {self.column!r} with {rule} into {self.other!r}"
