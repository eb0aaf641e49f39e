"""The Clean page's step forms (widgets -> a step's JSON form) and its cached preview.

Each form draws the widgets of one step kind for the current cleaned table and returns
the step as a dict (``{"kind": ..., ...}``), or None while a required choice is missing.
Values typed as text are read in the column's terms (``core.cleaning.value_for``), so a
number column gets numbers. Nothing here computes on the data beyond small lists of
values to choose from.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import cleaning, jsonutil
from core.steps import step_from_dict
from core.steps.cast import CAST_TYPES
from core.steps.dates import learn_date_format
from core.steps.filter import COMPARE, TEXT_OPS
from core.steps.impute import STRATEGIES
from core.steps.outliers import METHODS

__all__ = ["KINDS", "step_form", "preview"]

# the order of the step menu: column edits first, then values, then rows
KINDS = ["drop_columns", "rename_columns", "cast", "parse_dates", "text_cleanup", "split_column",
         "replace_values", "merge_rare", "impute", "drop_missing", "deduplicate", "outliers", "filter_rows"]
MISSING = "(missing)"
HELP = {
    "drop_columns": "Remove columns you do not need.",
    "rename_columns": "Give a column a new name.",
    "cast": "Change a column's type. Values that cannot be read as the new type become missing; the preview "
            "counts them, and asks before more than half of a column is lost.",
    "parse_dates": "Read text as dates. The format is detected once and stored, so new rows are read the same way.",
    "text_cleanup": "Trim spaces, change case, normalise unicode and runs of whitespace.",
    "split_column": "Split a text column on a delimiter into new columns; the last one takes the rest.",
    "replace_values": "Replace one value of a column by another (or by missing).",
    "merge_rare": "Merge rare categories into one label; values never seen before join it too.",
    "impute": "Fill missing values. What is learned (a mean, neighbours, regressions) is kept, so new rows are "
              "filled the same way.",
    "drop_missing": "Drop rows with missing values. Training only: new rows are never dropped when scored.",
    "deduplicate": "Drop repeated rows. Training only.",
    "outliers": "Find outliers by IQR fences, z-score or an isolation forest, then flag, clip or remove them "
                "(removal is training only).",
    "filter_rows": "Keep or drop rows by a condition on one column. Rows with a missing value never match a "
                   "comparison. Training only.",
}


@st.cache_resource(max_entries=6, show_spinner="Previewing the step...")
def _preview(blob_sha: str, clean_json: str, step_json: str, number: int) -> cleaning.Preview:
    from ui.data import frame_by_key

    frame = frame_by_key(blob_sha, clean_json)
    return cleaning.preview(frame, step_from_dict(jsonutil.loads(step_json)), number=number)


def preview(blob_sha: str, clean_json: str, step: dict, number: int) -> cleaning.Preview:
    """What ``step`` would change as step ``number``; cached by (blob, steps so far, step)."""
    return _preview(blob_sha, clean_json, jsonutil.dumps(step, sort_keys=True), number)


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _is_text(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s)


def _cols(frame: pd.DataFrame, keep=None) -> list[str]:
    return [c for c in frame.columns if keep is None or keep(frame[c])]


def _top_values(s: pd.Series, n: int = 50) -> list:
    return [jsonutil.to_jsonable(v) for v in s.value_counts(dropna=True).head(n).index]


def step_form(kind: str, frame: pd.DataFrame, key: str) -> dict | None:
    """The widgets of step ``kind``; returns the step's JSON form or None."""
    return _FORMS[kind](frame, f"{key}.{kind}")


def _drop(frame, key):
    columns = st.multiselect("Columns to drop", _cols(frame), key=f"{key}.columns")
    return {"kind": "drop_columns", "columns": columns} if columns else None


def _rename(frame, key):
    left, right = st.columns(2)
    column = left.selectbox("Column", _cols(frame), key=f"{key}.column")
    new = right.text_input("New name", key=f"{key}.new").strip()
    return {"kind": "rename_columns", "mapping": {column: new}} if new and new != column else None


def _cast(frame, key):
    left, right = st.columns([2, 1])
    columns = left.multiselect("Columns", _cols(frame), key=f"{key}.columns")
    to = right.selectbox("New type", CAST_TYPES, key=f"{key}.to")
    return {"kind": "cast", "columns": columns, "to": to} if columns else None


def _dates(frame, key):
    left, right = st.columns([2, 1])
    columns = left.multiselect("Columns holding dates as text", _cols(frame, _is_text), key=f"{key}.columns")
    fmt = right.text_input("Format", placeholder="detected", key=f"{key}.format",
                           help="A strptime format such as %d/%m/%Y, or ISO8601. Leave empty to detect it.").strip()
    if columns and not fmt:
        found = learn_date_format(frame[columns[0]])[0]
        st.caption(f"Detected format for the first column: `{found}`" if found else
                   "No single format fits; each value will be read on its own (slower).")
    return {"kind": "parse_dates", "columns": columns, "format": fmt or None} if columns else None


def _text(frame, key):
    columns = st.multiselect("Text columns", _cols(frame, _is_text), key=f"{key}.columns")
    a, b, c = st.columns(3)
    case = a.selectbox("Case", ["keep", "lower", "upper", "title"], key=f"{key}.case")
    normalize = b.selectbox("Unicode", ["none", "NFC", "NFKC"], key=f"{key}.normalize",
                            help="NFKC also turns full-width letters and ligatures into plain ones.")
    trim = c.checkbox("Trim spaces", value=True, key=f"{key}.trim")
    collapse = c.checkbox("Collapse inner spaces", value=True, key=f"{key}.collapse")
    empty = c.checkbox("Empty text → missing", key=f"{key}.empty")
    return {"kind": "text_cleanup", "columns": columns, "trim": trim, "case": case, "normalize": normalize,
            "collapse_spaces": collapse, "empty_as_missing": empty} if columns else None


def _split(frame, key):
    a, b, c = st.columns([2, 1, 1])
    column = a.selectbox("Column", _cols(frame, _is_text), key=f"{key}.column")
    delimiter = b.text_input("Delimiter", value=",", key=f"{key}.delimiter")
    parts = c.number_input("Parts", 2, 10, 2, key=f"{key}.parts")
    if column is None:
        return None
    boxes = st.columns(int(parts))
    into = [box.text_input(f"Part {i + 1}", value=f"{column}_{i + 1}", key=f"{key}.into.{column}.{i}").strip()
            for i, box in enumerate(boxes)]
    keep = st.checkbox("Keep the original column", key=f"{key}.keep")
    return {"kind": "split_column", "column": column, "delimiter": delimiter, "into": into, "keep_original": keep}


def _replace(frame, key):
    a, b, c = st.columns(3)
    column = a.selectbox("Column", _cols(frame), key=f"{key}.column")
    if column is None:
        return None
    s = frame[column]
    old = b.selectbox("Value", [*_top_values(s), MISSING], key=f"{key}.old.{column}",
                      help="The 50 most frequent values, and missing values.")
    to_missing = c.checkbox("Make it missing", key=f"{key}.to_missing")
    new = None if to_missing else c.text_input("New value", key=f"{key}.new.{column}")
    if not to_missing and not new:
        return None
    new = None if to_missing else (new.strip() if _is_text(s) else cleaning.value_for(s, new))
    return {"kind": "replace_values", "column": column, "pairs": [[None if old == MISSING else old, new]]}


def _merge_rare(frame, key):
    a, b, c, d = st.columns(4)
    column = a.selectbox("Column", _cols(frame, lambda s: not pd.api.types.is_float_dtype(s)
                                         and not pd.api.types.is_datetime64_any_dtype(s)), key=f"{key}.column")
    share = b.number_input("Rare below (% of rows)", 0.0, 99.0, 1.0, step=0.5, key=f"{key}.share")
    count = c.number_input("or below (rows)", 0, None, 0, key=f"{key}.count")
    other = d.text_input("Merge into", value="Other", key=f"{key}.other").strip()
    return {"kind": "merge_rare", "column": column, "min_share": share / 100, "min_count": int(count),
            "other": other} if column else None


def _impute(frame, key):
    gaps = frame.isna().sum()
    a, b = st.columns([2, 1])
    columns = a.multiselect("Columns", _cols(frame), key=f"{key}.columns",
                            format_func=lambda c: f"{c} ({gaps[c]:,} missing)")
    strategy = b.selectbox("Fill with", STRATEGIES, index=1, key=f"{key}.strategy",
                           help="mean/median/knn/iterative need numbers; knn and iterative learn from the "
                                "other chosen columns.")
    step = {"kind": "impute", "columns": columns, "strategy": strategy,
            "add_indicator": st.checkbox("Add a <column>_missing indicator column", key=f"{key}.indicator")}
    if strategy == "constant":
        text = st.text_input("Value", key=f"{key}.value")
        if not text or not columns:
            return None
        step["fill_value"] = cleaning.value_for(frame[columns[0]], text)
    if strategy == "knn":
        step["n_neighbors"] = int(st.number_input("Neighbours", 1, 100, 5, key=f"{key}.k"))
    if strategy == "iterative":
        step["max_iter"] = int(st.number_input("Rounds", 1, 50, 10, key=f"{key}.rounds"))
    return step if columns else None


def _drop_missing(frame, key):
    columns = st.multiselect("Columns (none chosen: any column)", _cols(frame), key=f"{key}.columns")
    how = st.radio("Drop a row when", ["any", "all"], horizontal=True, key=f"{key}.how",
                   format_func={"any": "any of them is missing", "all": "all of them are missing"}.get)
    return {"kind": "drop_missing", "columns": columns or None, "how": how}


def _dedupe(frame, key):
    columns = st.multiselect("Compare on (none chosen: all columns)", _cols(frame), key=f"{key}.columns")
    keep = st.radio("Keep", ["first", "last"], horizontal=True, key=f"{key}.keep")
    return {"kind": "deduplicate", "columns": columns or None, "keep": keep}


def _outliers(frame, key):
    columns = st.multiselect("Numeric columns", _cols(frame, _is_numeric), key=f"{key}.columns")
    a, b, c = st.columns(3)
    method = a.selectbox("Method", METHODS, key=f"{key}.method",
                         format_func={"iqr": "IQR fences", "zscore": "z-score", "isolation_forest": "isolation forest"}.get)
    actions = ["flag", "remove"] if method == "isolation_forest" else ["flag", "clip", "remove"]
    action = b.selectbox("Then", actions, key=f"{key}.action.{method}")
    label, default = {"iqr": ("IQR multiplier", 1.5), "zscore": ("z above", 3.0),
                      "isolation_forest": ("Share of outliers (0 = auto)", 0.0)}[method]
    threshold = c.number_input(label, 0.0, None if method != "isolation_forest" else 0.5, default, step=0.1,
                               key=f"{key}.threshold.{method}")
    step = {"kind": "outliers", "columns": columns, "method": method, "action": action,
            "threshold": threshold or None}
    if action == "flag":
        step["flag_column"] = st.text_input("Flag column", value="is_outlier", key=f"{key}.flag").strip()
    return step if columns else None


def _filter(frame, key):
    a, b, c = st.columns(3)
    column = a.selectbox("Column", _cols(frame), key=f"{key}.column")
    if column is None:
        return None
    s = frame[column]
    dated = pd.api.types.is_datetime64_any_dtype(s)
    if _is_numeric(s) or dated:
        ops = [*COMPARE, "between", *([] if dated else ["in", "not in"])]
    elif pd.api.types.is_bool_dtype(s):
        ops = ["==", "!="]
    else:
        ops = ["==", "!=", "in", "not in", *TEXT_OPS]
    operator = b.selectbox("Operator", [*ops, "is missing", "is not missing"], key=f"{key}.op.{column}")
    step = {"kind": "filter_rows", "column": column, "operator": operator}
    at = f"{key}.value.{column}.{operator}"
    if operator in ("in", "not in"):
        step["value"] = c.multiselect("Values", _top_values(s), key=at)
        if not step["value"]:
            return None
    elif operator in ("is missing", "is not missing"):
        pass
    elif dated:
        low = s.min() if s.notna().any() else pd.Timestamp.today()
        pick = c.date_input("Between" if operator == "between" else "Date", key=at,
                            value=(low, s.max() if s.notna().any() else low) if operator == "between" else low)
        dates = list(pick) if isinstance(pick, (list, tuple)) else [pick]
        if operator == "between" and len(dates) != 2:
            return None
        step["value"] = [d.isoformat() for d in dates] if operator == "between" else dates[0].isoformat()
    elif _is_numeric(s):
        middle = float(s.median()) if s.notna().any() else 0.0
        if operator == "between":
            step["value"] = [c.number_input("From", value=float(s.min()), key=at + ".lo"),
                             c.number_input("To", value=float(s.max()), key=at + ".hi")]
        else:
            step["value"] = c.number_input("Value", value=middle, key=at)
    elif pd.api.types.is_bool_dtype(s):
        step["value"] = c.selectbox("Value", [True, False], key=at)
    elif isinstance(s.dtype, pd.CategoricalDtype) and operator in ("==", "!="):
        step["value"] = c.selectbox("Value", _top_values(s), key=at)
        if step["value"] is None:
            return None
    else:
        text = c.text_input("Value", key=at)
        if not text:
            return None
        step["value"] = text
    step["keep"] = st.radio("Rows that match", [True, False], horizontal=True, key=f"{key}.keep",
                            format_func=lambda k: "keep them (drop the rest)" if k else "drop them")
    return step


_FORMS = {"drop_columns": _drop, "rename_columns": _rename, "cast": _cast, "parse_dates": _dates,
          "text_cleanup": _text, "split_column": _split, "replace_values": _replace, "merge_rare": _merge_rare,
          "impute": _impute, "drop_missing": _drop_missing, "deduplicate": _dedupe, "outliers": _outliers,
          "filter_rows": _filter}
