"""Text cleanup: trim, change case, normalise unicode and whitespace.

Text work runs once per distinct value (``text_codes``), in Arrow
(``string[pyarrow]``), never as a Python loop over rows: a million rows with a dozen
labels cost a dozen string operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.steps.base import Boolean, Columns, OneOf, register
from core.steps.codegen import KernelStep, kernel

__all__ = ["TextCleanup", "as_text", "text_codes", "from_codes", "recode_categories", "clean_text"]

CASES = ("keep", "lower", "upper", "title")
NORMAL_FORMS = ("none", "NFC", "NFKC")


@kernel
def as_text(s: pd.Series) -> pd.Series:
    """The values as Python strings (object dtype); missing values stay missing (None)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        labels = np.array([str(c) for c in s.cat.categories] + [None], dtype=object)
        return pd.Series(labels[s.cat.codes.to_numpy()], index=s.index, name=s.name, dtype=object)
    missing = s.isna().to_numpy()
    if pd.api.types.infer_dtype(s, skipna=True) == "string":  # already text: no str() per value
        out = s.to_numpy(dtype=object, copy=True)
    else:
        out = s.astype(str).to_numpy(dtype=object)
    out[missing] = None
    return pd.Series(out, index=s.index, name=s.name, dtype=object)


@kernel
def text_codes(s: pd.Series):
    """``(codes, texts)``: each row's code into the column's distinct values as text (-1 =
    missing). Text work then runs once per distinct value, not once per row."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(), as_text(pd.Series(s.cat.categories, dtype=object))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, as_text(pd.Series(np.asarray(uniques, dtype=object), dtype=object))


@kernel
def from_codes(codes, texts, like: pd.Series) -> pd.Series:
    """The object column whose rows hold ``texts[code]`` (None where the code is -1)."""
    table = np.append(np.asarray(texts, dtype=object), None)
    return pd.Series(table[codes], index=like.index, name=like.name, dtype=object)


@kernel
def recode_categories(s: pd.Series, labels) -> pd.Series:
    """A categorical column whose category ``i`` becomes ``labels[i]`` (None = missing).

    Labels that become equal merge; the work is on codes, never on every row's text.
    """
    new_codes, uniques = pd.factorize(pd.Series(list(labels), dtype=object))
    lookup = np.append(new_codes, -1)
    codes = lookup[s.cat.codes.to_numpy()]
    categories = pd.Index(uniques, dtype=object) if len(uniques) else pd.Index([], dtype=object)
    out = pd.Categorical.from_codes(codes, categories=categories, ordered=s.cat.ordered)
    return pd.Series(out, index=s.index, name=s.name)


@kernel
def clean_text(df: pd.DataFrame, columns, trim=True, case="keep", normalize="none",
               collapse_spaces=True, empty_as_missing=False) -> pd.DataFrame:
    """Trim, change case, normalise unicode and collapse runs of whitespace to one space."""
    spaces = "[\\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"

    def tidy(values: pd.Series) -> pd.Series:
        t = values.astype("string[pyarrow]")
        if normalize != "none":
            t = t.str.normalize(normalize)
        if collapse_spaces:
            t = t.str.replace(spaces, " ", regex=True)
        if trim:
            t = t.str.strip()
        if case != "keep":
            t = getattr(t.str, case)()
        if empty_as_missing:
            t = t.mask(t == "")
        return pd.Series(t.to_numpy(dtype=object, na_value=None), index=values.index, name=values.name)

    out = df.copy(deep=False)
    for column in columns:
        s = df[column]
        codes, texts = text_codes(s)
        cleaned = tidy(texts).tolist()
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[column] = recode_categories(s, cleaned)
        else:
            out[column] = from_codes(codes, cleaned, s)
    return out


@register
@dataclass(frozen=True, kw_only=True)
class TextCleanup(KernelStep):
    """Clean text columns: trim spaces, change case, normalise unicode (NFC/NFKC), collapse
    runs of whitespace (including non-breaking spaces) to one space, and optionally treat
    empty text as missing. Non-text values are turned into text first."""

    kind: ClassVar[str] = "text_cleanup"
    label: ClassVar[str] = "Clean text"
    constraints: ClassVar[dict] = {
        "columns": Columns(), "trim": Boolean(), "case": OneOf(*CASES),
        "normalize": OneOf(*NORMAL_FORMS), "collapse_spaces": Boolean(), "empty_as_missing": Boolean(),
    }
    columns: tuple[str, ...]
    trim: bool = True
    case: str = "keep"
    normalize: str = "none"
    collapse_spaces: bool = True
    empty_as_missing: bool = False

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def kernel_call(self, state: dict):
        return clean_text, {"columns": list(self.columns), "trim": self.trim, "case": self.case,
                            "normalize": self.normalize, "collapse_spaces": self.collapse_spaces,
                            "empty_as_missing": self.empty_as_missing}

    def describe(self) -> str:
        what = [w for w, on in [("trim", self.trim), (f"{self.case} case", self.case != "keep"),
                                (self.normalize, self.normalize != "none"),
                                ("collapse spaces", self.collapse_spaces),
                                ("empty → missing", self.empty_as_missing)] if on]
        return f"Clean text in {', '.join(map(repr, self.columns))} ({', '.join(what) or 'no change'})"
