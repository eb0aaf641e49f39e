"""Split a text column on a delimiter into named columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.steps.base import Boolean, Column, Columns, Text, register
from core.steps.codegen import KernelStep, kernel
from core.steps.text import text_codes

__all__ = ["SplitColumn", "split_column"]


@kernel
def split_column(df: pd.DataFrame, column, delimiter, into, keep_original=False) -> pd.DataFrame:
    """Split ``column`` at each ``delimiter`` (plain text, not a pattern) into the columns
    ``into``, placed where the column was; the last one takes the rest of the text.
    Rows with fewer parts get missing values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, texts = text_codes(df[column])  # split each distinct value once, not each row
    lists = pc.split_pattern(pa.array(texts.to_numpy(dtype=object), type=pa.large_string()),
                             pattern=delimiter, max_splits=len(into) - 1)
    offsets = lists.offsets.to_numpy()
    starts, lengths = offsets[:-1], np.diff(offsets)
    values = lists.values.to_numpy(zero_copy_only=False)
    table = np.full((len(texts) + 1, len(into)), None, dtype=object)  # the last row: missing
    for i in range(len(into)):
        has = lengths > i
        table[:-1][has, i] = values[starts[has] + i]
    clash = [n for n in into if n in df.columns and not (n == column and not keep_original)]
    if clash:
        raise ValueError(f"the data already has a column named {clash[0]!r}")
    at = list(df.columns).index(column)
    before = list(df.columns[:at + 1]) if keep_original else list(df.columns[:at])
    parts_frame = pd.DataFrame({name: table[:, i][codes] for i, name in enumerate(into)}, index=df.index)
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
