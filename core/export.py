"""Tables out of Assay: CSV, Parquet and Excel, with formula-safe text.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, after a
tab or carriage return, what follows) as a formula: a cleaned table or a prediction
file holding ``=HYPERLINK(...)`` from some upload would run it on the analyst's
machine. CSV and Excel exports therefore prefix such text cells (and column names)
with an apostrophe, as OWASP recommends; numbers are never touched, so ``-5`` stays
a number. Parquet keeps values exactly (no spreadsheet reads it as formulas).

    >>> formula_safe(pd.DataFrame({"a": ["=1+1", "ok", "-x"], "n": [-1, 2, 3]}))["a"].tolist()
    ["'=1+1", 'ok', "'-x"]
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputError, ValidationError

__all__ = ["FORMATS", "FORMULA_PREFIXES", "formula_safe", "to_bytes", "write_table", "MIME", "EXCEL_MAX_ROWS"]

FORMATS = ("csv", "parquet", "xlsx")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_575  # one row is the header
MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _safe_text(values: pd.Series) -> pd.Series:
    """Text values starting like a formula get an apostrophe; other values stay as they are."""
    try:
        risky = values.str.startswith(FORMULA_PREFIXES, na=False).to_numpy(dtype=bool, na_value=False)
    except AttributeError:  # no text at all (e.g. categories that are numbers)
        return values
    if not risky.any():
        return values
    out = values.to_numpy(dtype=object, copy=True)
    out[risky] = ["'" + v for v in out[risky]]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas."""
    out = frame.copy(deep=False)
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.CategoricalDtype):  # labels once, not every row
            labels = pd.Series(s.cat.categories, dtype=object)
            safe = _safe_text(labels)
            if safe is not labels:
                table = np.append(safe.to_numpy(dtype=object), None)
                out.isetitem(i, pd.Series(table[s.cat.codes.to_numpy()], index=s.index, dtype=object))
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            safe = _safe_text(s.astype(object))
            if safe is not s:
                out.isetitem(i, safe)
    names = _safe_text(pd.Series([str(c) for c in frame.columns], dtype=object))
    out.columns = names.tolist()
    return out


def _for_excel(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) > EXCEL_MAX_ROWS:
        raise ValidationError(f"Excel holds at most {EXCEL_MAX_ROWS:,} rows; this table has {len(frame):,}.",
                              hint="Download it as CSV or Parquet instead.")
    out = frame.copy(deep=False)
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.DatetimeTZDtype):  # Excel has no time zones: write UTC
            out.isetitem(i, s.dt.tz_convert("UTC").dt.tz_localize(None))
    return out


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` as a file in ``fmt`` ("csv", "parquet" or "xlsx"); CSV and Excel formula-safe.

    The index is not written (a cleaned table keeps the raw row labels in memory only).
    CSV is UTF-8 with CRLF line ends (RFC 4180), so a value holding a lone carriage
    return is quoted rather than read back as a line break.
    """
    if fmt == "parquet":
        from core.store import frame_to_parquet

        return frame_to_parquet(frame)
    if fmt == "csv":
        return formula_safe(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    if fmt == "xlsx":
        buffer = io.BytesIO()
        formula_safe(_for_excel(frame)).to_excel(buffer, index=False, engine="openpyxl", sheet_name="data")
        return buffer.getvalue()
    raise ValidationError(f"The export format must be one of {list(FORMATS)}. Got {fmt!r} instead.")


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"xls": "xlsx", "pq": "parquet"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise InputError(f"Cannot tell the format of {str(path)!r} from its extension.",
                         hint="End the file name with .csv, .parquet or .xlsx.")
    return fmt


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` in the format its extension names; returns the path."""
    path = Path(path)
    data = to_bytes(frame, format_of(path))
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"Cannot write {str(path)!r}: {exc.strerror}.", hint="Check the folder and its permissions.") from None
    return path
