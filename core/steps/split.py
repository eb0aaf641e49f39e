"""Split a text column on a delimiter into named columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.steps.base import Boolean, Column, Columns, Text, register
from core.steps.codegen import KernelStep, kernel
from core.steps.text import as_text

__all__ = ["SplitColumn", "split_column"]


@kernel
def split_column(df: pd.DataFrame, column, delimiter, into, keep_original=False) -> pd.DataFrame:
    """Split ``column`` at each ``delimiter`` (plain text, not a pattern) into the columns
    ``into``, placed where the column was; the last one takes the rest of the text.
    Rows with fewer parts get missing values."""
    s = df[column]
    if isinstance(s.dtype, pd.CategoricalDtype):  # split each label once, not each row
        labels = as_text(pd.Series(s.cat.categories, dtype=object))
        parts = labels.str.split(delimiter, n=len(into) - 1, expand=True, regex=False)
        parts = parts.reindex(columns=range(len(into))).astype(object)
        codes = s.cat.codes.to_numpy()
        table = np.vstack([parts.to_numpy(dtype=object), np.full((1, len(into)), None, dtype=object)])
        pieces = pd.DataFrame(table[codes], index=df.index)
    else:
        pieces = as_text(s).str.split(delimiter, n=len(into) - 1, expand=True, regex=False)
        pieces = pieces.reindex(columns=range(len(into)))
    pieces = pieces.astype(object).where(pieces.notna(), None)
    clash = [n for n in into if n in df.columns and not (n == column and not keep_original)]
    if clash:
        raise ValueError(f"the data already has a column named {clash[0]!r}")
    at = list(df.columns).index(column)
    before = list(df.columns[:at + 1]) if keep_original else list(df.columns[:at])
    parts_frame = pd.DataFrame({name: pieces[i].to_numpy() for i, name in enumerate(into)}, index=df.index)
    return pd.concat([df[before], parts_frame, df[list(df.columns[at + 1:])]], axis=1)


@register
@dataclass(frozen=True, kw_only=True)
class SplitColumn(KernelStep):
    """Split a column on a delimiter into new columns named by ``into`` (the last one gets
    the rest of the text); optionally keep the original column."""

    kind: ClassVar[str] = "split_column"
    label: ClassVar[str] = "Split a column"
    constraints: ClassVar[dict] = {"column": Column(), "delimiter": Text(allow_empty=False, max_length=50),
                                   "into": Columns(min_items=2), "keep_original": Boolean()}
    column: str
    delimiter: str
    into: tuple[str, ...]
    keep_original: bool = False

    def columns_in(self) -> list[str]:
        return [self.column]

    def kernel_call(self, state: dict):
        kwargs = {"column": self.column, "delimiter": self.delimiter, "into": list(self.into)}
        if self.keep_original:
            kwargs["keep_original"] = True
        return split_column, kwargs

    def describe(self) -> str:
        return f"Split {self.column!r} on {self.delimiter!r} into {', '.join(map(repr, self.into))}"
