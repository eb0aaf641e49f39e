"""Column kinds: what a column *means*, inferred from its values, with a reason.

Kinds are ``integer``, ``float``, ``boolean``, ``datetime``, ``categorical``,
``text`` and ``id``. The dtype of a column is how it is stored; the kind is how
Assay treats it (an integer ``id`` column is never a model feature, a
``categorical`` string is one-hot or native-categorical, ``text`` is tokenised).

Inference looks at a bounded sample for decisions and at the whole column only
for cheap exact checks, so it stays fast on a million rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from core.errors import param_error

__all__ = [
    "Kind", "NUMERIC_KINDS", "ColumnInfo", "infer_column", "infer_schema", "coerce",
    "kinds_from_schema", "schema_to_dict", "TRUE_WORDS", "FALSE_WORDS",
]


class Kind(str, Enum):
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    CATEGORICAL = "categorical"
    TEXT = "text"
    ID = "id"

    def __str__(self) -> str:  # shown in tables and messages
        return self.value


KINDS = [k.value for k in Kind]
NUMERIC_KINDS = frozenset({Kind.INTEGER, Kind.FLOAT})

# Pairs a column must stay within to read as boolean ("yes"/"no", not "yes"/"false").
_BOOL_PAIRS = [
    ({"true"}, {"false"}), ({"yes"}, {"no"}), ({"y"}, {"n"}), ({"t"}, {"f"}),
    ({"1"}, {"0"}), ({"on"}, {"off"}),
]
TRUE_WORDS = frozenset().union(*(t for t, _ in _BOOL_PAIRS))
FALSE_WORDS = frozenset().union(*(f for _, f in _BOOL_PAIRS))

SAMPLE_ROWS = 20_000
_ID_NAME = re.compile(r"(^|[_\s.-])(id|key|uuid|guid|code|no|nr|number)$|^id[_\s.-]|id$", re.IGNORECASE)
_LEADING_ZERO = re.compile(r"^[+-]?0\d+$")
_DATE_FORMATS = [
    "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d",
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%d %b %Y", "%b %d, %Y",
    "%d %B %Y", "%B %d, %Y",
]


@dataclass(frozen=True)
class ColumnInfo:
    """What inference decided for one column, and why."""

    name: str
    kind: Kind
    reason: str
    dtype: str = ""
    missing: int = 0
    failed: int = 0  # values that became missing when the column was converted

    def to_dict(self) -> dict:
        return {
            "name": self.name, "kind": self.kind.value, "reason": self.reason,
            "dtype": self.dtype, "missing": self.missing, "failed": self.failed,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ColumnInfo:
        return cls(
            name=d["name"], kind=Kind(d["kind"]), reason=d.get("reason", ""),
            dtype=d.get("dtype", ""), missing=int(d.get("missing", 0)), failed=int(d.get("failed", 0)),
        )


def count_missing(series: pd.Series) -> int:
    """``series.isna().sum()`` without the row-long mask where the dtype says enough:
    numpy integers and booleans hold no missing values, a categorical's code is -1."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return 0
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return int(np.count_nonzero(np.isnan(series.to_numpy())))
    if isinstance(dtype, pd.CategoricalDtype):
        return int(np.count_nonzero(series.cat.codes.to_numpy() == -1))
    return int(series.isna().sum())


def _sample(series: pd.Series, n: int = SAMPLE_ROWS) -> pd.Series:
    """Non-missing values at evenly spaced rows (cheap and deterministic)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # the labels themselves decide the kind; no need to look at every row
        return pd.Series(series.cat.categories, dtype=object)
    if len(series) > n:
        series = series.iloc[np.linspace(0, len(series) - 1, n).astype(np.int64)]
    return series.dropna()


def _as_str_values(sample: pd.Series) -> pd.Series:
    if isinstance(sample.dtype, pd.CategoricalDtype):
        sample = sample.astype(object)
    return sample.astype(str)


def bool_vocabulary(values: set[str]) -> tuple[set[str], set[str]] | None:
    """The (true, false) word pair that ``values`` (lower-cased) fits, if any."""
    if not values or len(values) > 2:
        return None
    for true_words, false_words in _BOOL_PAIRS:
        if values <= (true_words | false_words) and (len(values) == 2 or values <= {"true", "false"}):
            return true_words, false_words
    return None


def detect_date_format(sample: pd.Series) -> tuple[str | None, float]:
    """Best strptime format for string dates in ``sample`` and the share it parses."""
    values = _as_str_values(sample).str.strip()
    values = values[values != ""]
    if values.empty:
        return None, 0.0
    head = values.iloc[: min(len(values), 2000)]
    if head.str.count(r"\d").mean() < 4:  # every date format has at least four digits
        return None, 0.0
    # digits only: a "%Y%m%d" guess would eat plain numbers
    if head.str.fullmatch(r"\d+").all() and not head.str.fullmatch(r"(19|20)\d{6}").all():
        return None, 0.0
    best, best_share = None, 0.0
    for fmt in ["ISO8601", *_DATE_FORMATS]:
        try:
            parsed = pd.to_datetime(head, format=fmt, errors="coerce", utc=fmt == "ISO8601")
        except (ValueError, TypeError):
            continue
        share = float(parsed.notna().mean())
        if share > best_share + 1e-9:
            best, best_share = fmt, share
        if share == 1.0:
            break
    return best, best_share


def infer_column(series: pd.Series, name: str | None = None) -> ColumnInfo:
    """Decide the kind of one column; the reason is shown to the user."""
    name = str(series.name if name is None else name)
    n = len(series)
    missing = count_missing(series)
    dtype = str(series.dtype)
    if n == 0 or missing == n:
        kind = Kind.FLOAT if pd.api.types.is_float_dtype(series) else Kind.TEXT
        return ColumnInfo(name, kind, "every value is missing", dtype, missing)
    if pd.api.types.is_bool_dtype(series):
        return ColumnInfo(name, Kind.BOOLEAN, "true/false values", dtype, missing)
    if pd.api.types.is_datetime64_any_dtype(series):
        tz = getattr(series.dtype, "tz", None)
        why = f"dates and times (time zone {tz})" if tz else "dates and times"
        return ColumnInfo(name, Kind.DATETIME, why, dtype, missing)
    if pd.api.types.is_timedelta64_dtype(series):
        return ColumnInfo(name, Kind.FLOAT, "durations", dtype, missing)
    if pd.api.types.is_integer_dtype(series):
        return _infer_integer(series, name, missing, dtype)
    if pd.api.types.is_float_dtype(series):
        return ColumnInfo(name, Kind.FLOAT, "numbers with decimals", dtype, missing)
    return _infer_strings(series, name, missing, dtype)


def _infer_integer(series: pd.Series, name: str, missing: int, dtype: str) -> ColumnInfo:
    n_valid = len(series) - missing
    if n_valid >= 20 and missing == 0:
        sample = _sample(series)
        if sample.is_unique and series.is_unique:
            lo, hi = series.min(), series.max()
            consecutive = int(hi) - int(lo) == n_valid - 1
            if _ID_NAME.search(name) or consecutive:
                why = "one distinct whole number per row" + (
                    " counting up by one (a row number)" if consecutive else f" and the name {name!r}"
                )
                return ColumnInfo(name, Kind.ID, why, dtype, missing)
    return ColumnInfo(name, Kind.INTEGER, "whole numbers", dtype, missing)


def _infer_strings(series: pd.Series, name: str, missing: int, dtype: str) -> ColumnInfo:
    sample = _sample(series)
    # plain Python over the sample's text: as fast as pandas' .str methods (also a Python
    # loop) on thousands of values, and free of their per-call cost on a few labels
    texts = [str(v) for v in sample.tolist()]
    lowered = set(list(dict.fromkeys(t.strip().lower() for t in texts))[:3])
    if bool_vocabulary(lowered) is not None and (
        isinstance(series.dtype, pd.CategoricalDtype) or series.nunique(dropna=True) <= 2
        or set(series.dropna().astype(str).str.strip().str.lower().unique()) == lowered
    ):
        words = "/".join(sorted(lowered))
        return ColumnInfo(name, Kind.BOOLEAN, f"two values that read as true/false ({words})", dtype, missing)
    if any(map(_LEADING_ZERO.match, texts)) and all(map(_INTEGER_TEXT.fullmatch, texts)):
        unique = series.is_unique and missing == 0
        kind = Kind.ID if unique else Kind.CATEGORICAL
        return ColumnInfo(name, kind, "digits with leading zeros, kept as text", dtype, missing)
    if all(map(_HUGE_INTEGER_TEXT.fullmatch, texts)):
        return ColumnInfo(name, Kind.ID, "integers too large for 64 bits, kept as text", dtype, missing)
    head = [t for t in map(str.strip, texts) if t][:2000]
    if head and sum(map(_count_digits, head)) >= 4 * len(head):  # detect_date_format's first test, cheaply
        fmt, share = detect_date_format(sample)
        if fmt is not None and share >= 0.95:
            return ColumnInfo(name, Kind.DATETIME, f"text dates in the format {fmt}", dtype, missing)
    n_valid = len(series) - missing
    if isinstance(series.dtype, pd.CategoricalDtype):
        n_unique = len(series.cat.categories)
    else:
        n_unique = int(sample.nunique()) if len(sample) < n_valid else int(series.nunique())
    mean_length = sum(map(len, texts)) / len(texts)
    words = [len(_SPACES.findall(t)) + 1 for t in texts]
    mean_words = sum(words) / len(words)
    # share of distinct values among the rows looked at (all rows for a categorical)
    looked_at = n_valid if isinstance(series.dtype, pd.CategoricalDtype) else len(sample)
    unique_share = n_unique / max(looked_at, 1)
    if unique_share > 0.5 and (mean_length > 30 or mean_words >= 3):
        return ColumnInfo(name, Kind.TEXT, f"free text (about {mean_words:.0f} words a value)", dtype, missing)
    if n_valid >= 20 and missing == 0 and unique_share == 1.0 and series.is_unique and max(words) == 1:
        return ColumnInfo(name, Kind.ID, "one distinct code per row", dtype, missing)
    exact = isinstance(series.dtype, pd.CategoricalDtype) or len(sample) == n_valid
    count = f"{n_unique:,}" if exact else f"at least {n_unique:,}"
    return ColumnInfo(name, Kind.CATEGORICAL, f"{count} distinct labels", dtype, missing)


_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_HUGE_INTEGER_TEXT = re.compile(r"[+-]?\d{19,}")
_SPACES = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


def _count_digits(text: str) -> int:
    return len(_DIGIT.findall(text))


def dtype_family(series: pd.Series) -> str:
    """What a column's dtype holds: ``boolean``, ``integer``, ``float``, ``datetime`` or ``other``
    (the one place that asks pandas; callers name the families in their own words)."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "other"


def infer_schema(frame: pd.DataFrame) -> dict[str, ColumnInfo]:
    return {str(c): infer_column(frame[c], str(c)) for c in frame.columns}


def coerce(series: pd.Series, kind: Kind | str) -> tuple[pd.Series, int]:
    """Convert ``series`` to the storage type of ``kind``.

    Returns the converted series and how many non-missing values could not be
    converted (they become missing).
    """
    try:
        kind = Kind(kind)
    except ValueError:
        raise param_error("coerce", "kind", KINDS, kind) from None
    before = int(series.notna().sum())
    if kind is Kind.INTEGER:
        out = _to_integer(series)
    elif kind is Kind.FLOAT:
        out = _to_numeric(series).astype("float64")
    elif kind is Kind.BOOLEAN:
        out = _to_boolean(series)
    elif kind is Kind.DATETIME:
        out = _to_datetime(series)
    elif kind is Kind.CATEGORICAL:
        out = series if isinstance(series.dtype, pd.CategoricalDtype) else _to_text(series).astype("category")
    elif kind is Kind.TEXT:
        out = _to_text(series)
    else:  # ID: integers stay integers, everything else is text (leading zeros kept)
        out = series if pd.api.types.is_integer_dtype(series) else _to_text(series)
    out.name = series.name
    return out, max(before - int(out.notna().sum()), 0)


def _to_numeric(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("Float64").astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        return series
    if pd.api.types.is_datetime64_any_dtype(series):
        return pd.Series(series.astype("int64") / 1e9, index=series.index).where(series.notna())
    text = _to_text(series).str.strip().str.replace(r"[\s_]", "", regex=True)
    return pd.to_numeric(text, errors="coerce")


def _to_integer(series: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(series):
        return series if series.dtype.kind in "iu" else series.astype("Int64")
    numbers = _to_numeric(series)
    whole = numbers.where(np.isfinite(numbers) & (numbers == np.round(numbers)))
    out = whole.astype("Int64")
    return out.astype("int64") if not out.isna().any() else out


def _to_boolean(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    if pd.api.types.is_numeric_dtype(series):
        mapped = series.map({1: True, 0: False, 1.0: True, 0.0: False})
        return mapped.astype("boolean")
    lowered = _to_text(series).str.strip().str.lower()
    mapped = lowered.map(lambda v: True if v in TRUE_WORDS else (False if v in FALSE_WORDS else pd.NA))
    return mapped.astype("boolean")


def _to_datetime(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_datetime(series, errors="coerce", unit="s")
    text = _to_text(series).str.strip()
    fmt, _ = detect_date_format(_sample(text))
    has_zone = text.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True, na=False)
    if fmt == "ISO8601" and has_zone.any():
        # Mixed offsets cannot share one dtype: keep the instant, in UTC.
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    return pd.to_datetime(text, format=fmt or "mixed", errors="coerce")


def _to_text(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    out = series.astype(object)
    mask = out.notna()
    out = out.where(~mask, out[mask].map(str))
    return out.astype(object)


def schema_to_dict(infos: dict[str, ColumnInfo]) -> dict:
    return {"columns": {name: info.to_dict() for name, info in infos.items()}}


def kinds_from_schema(schema: dict) -> dict[str, Kind]:
    """``{column: Kind}`` from a stored dataset schema."""
    return {name: Kind(col["kind"]) for name, col in (schema or {}).get("columns", {}).items()}
