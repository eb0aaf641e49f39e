"""The Features page's helpers: the step menu, a form built from a step's parameter
table, and the cached sample and preview.

A feature step declares its parameters with constraints (``Columns``, ``OneOf``,
``Interval`` ...) and which column kinds each column parameter accepts, so one form
builder draws every kind: column pickers list only columns of a kind the step can use.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core import jsonutil
from core.errors import ValidationError
from core.feature_preview import FeaturePreview, featured_sample, preview
from core.recipe import Recipe
from core.steps import STEPS, FitContext, step_from_dict
from core.steps.base import Boolean, Column, Columns, Interval, OneOf, Optional, Text
from core.steps.features.base import IntList, SubsetOf, kinds_of
from ui.text import md

__all__ = ["KINDS", "GROUPS", "step_form", "sample_frame", "cached_preview", "replay_check"]

GROUPS = ["Dates", "Numbers", "Formula", "Categories", "Text", "Groups", "Time series", "Missing values", "Selection"]
KINDS = sorted((k for k, cls in STEPS.items() if cls.stage == "feature"),
               key=lambda k: (GROUPS.index(STEPS[k].group), k))
LABELS = {
    "columns": "Columns", "column": "Column", "parts": "Parts", "cyclical": "Add sine/cosine (cyclical) encodings",
    "reference": "Reference date (empty: the earliest training date)", "keep_original": "Keep the original column",
    "standardize": "Standardise the result", "bins": "Bins", "lower": "Lower quantile", "upper": "Upper quantile",
    "left": "First column", "right": "Second column", "op": "Operation", "name": "New column name",
    "expression": "Formula", "top_k": "Categories kept (the most common)", "order": "Order",
    "categories": "Your order (comma-separated; empty: use the order above)",
    "smoothing": "Smoothing (empty: automatic)", "folds": "Folds", "min_share": "Rarer than this share of rows",
    "other": "Label for rare categories", "stats": "Statistics", "components": "Components",
    "max_features": "Vocabulary size", "min_df": "Rows a word must appear in", "ngram_max": "Longest phrase (words)",
    "by": "Per entity (optional)", "lags": "Rows back (comma-separated)", "window": "Window (rows)",
    "time": "Time column", "threshold": "Threshold", "k": "Columns to keep",
}
BY_KIND = {
    ("group_aggregate", "by"): "Group by", ("group_aggregate", "column"): "Column to aggregate",
    ("drop_constant", "threshold"): "Drop when the most common value covers at least this share",
    ("drop_correlated", "threshold"): "Drop when |correlation| is at least",
    ("missing_indicator", "columns"): "Columns (empty: every column with missing values)",
    ("text_stats", "keep_original"): "Keep the text column", ("tfidf_svd", "keep_original"): "Keep the text column",
}
NONE = "(none)"


@st.cache_resource(max_entries=4, show_spinner="Applying the feature steps to a sample...")
def _sample(blob_sha: str, clean_json: str, features_json: str, context: str) -> tuple[pd.DataFrame, list[dict]]:
    from ui.data import frame_by_key

    return featured_sample(frame_by_key(blob_sha, clean_json), Recipe.from_json(features_json),
                           FitContext(**jsonutil.loads(context)))


def _context_json(context: FitContext) -> str:
    return jsonutil.dumps(dataclasses.asdict(context), sort_keys=True)


def sample_frame(blob_sha: str, clean_json: str, recipe: Recipe,
                 context: FitContext) -> tuple[pd.DataFrame, list[dict]]:
    """The sample after the recipe's feature steps, and their states (cached; never modify them)."""
    return _sample(blob_sha, clean_json, Recipe(features=recipe.features).to_json(indent=None),
                   _context_json(context))


@st.cache_resource(max_entries=8, show_spinner="Previewing the feature...")
def _preview(blob_sha: str, clean_json: str, features_json: str, step_json: str, context: str) -> FeaturePreview:
    from ui.data import frame_by_key

    return preview(frame_by_key(blob_sha, clean_json), Recipe.from_json(features_json),
                   step_from_dict(jsonutil.loads(step_json)), FitContext(**jsonutil.loads(context)))


def replay_check(table: pd.DataFrame, context: FitContext):
    """For the recipe list: refuse a move or removal after which a feature step no longer
    runs (it would use a column that is gone), by fitting the edited steps on a sample."""
    return lambda recipe: featured_sample(table, recipe, context)


def cached_preview(blob_sha: str, clean_json: str, recipe: Recipe, step: dict, context: FitContext) -> FeaturePreview:
    """The preview of ``step`` after the recipe's feature steps; cached by all of its inputs."""
    return _preview(blob_sha, clean_json, Recipe(features=recipe.features).to_json(indent=None),
                    jsonutil.dumps(step, sort_keys=True), _context_json(context))


# --------------------------------------------------------------------------- the form


def step_form(kind: str, frame: pd.DataFrame, context: FitContext, key: str) -> dict | None:
    """Widgets for the parameters of feature step ``kind``; its JSON form, or None while a
    required choice is missing. Column pickers offer only columns of the kinds it accepts."""
    cls = STEPS[kind]
    kinds = kinds_of(frame, context)
    # the columns to work on first, then the options; short widgets two to a row
    fields = sorted(dataclasses.fields(cls), key=lambda f: f.name not in cls.accepts)
    data: dict = {"kind": kind}
    complete = True
    row: list = []
    for f in fields:
        constraint = cls.constraints.get(f.name)
        default = None if f.default is dataclasses.MISSING else f.default
        label = BY_KIND.get((kind, f.name), LABELS.get(f.name, f.name))
        wide = isinstance(constraint, (Columns, SubsetOf)) or f.name in ("expression", "categories") or (
            isinstance(constraint, Optional) and isinstance(constraint.inner, Columns))
        if wide:
            where, row = st.container(), []
        else:
            row = row or st.columns(2)
            where = row.pop(0)
        value = _widget(where, cls, f.name, constraint, default, label, frame, kinds, context, f"{key}.{f.name}")
        if value is _INCOMPLETE:
            complete = False
        else:
            data[f.name] = value
    return data if complete else None


_INCOMPLETE = object()


def _columns_for(cls, name: str, frame: pd.DataFrame, kinds: dict, context: FitContext) -> list[str]:
    """Columns of an accepted kind, the most natural kinds first (labels before numbers
    used as labels, ids last), each group in table order."""
    accepted = cls.accepts.get(name)
    usable = [c for c in frame.columns if (accepted is None or kinds[c] in accepted)
              and (c != context.target or cls.uses_target)]
    rank = ["categorical", "boolean", "text", "datetime", "float", "integer", "id"]
    return sorted(usable, key=lambda c: rank.index(kinds[c]) if kinds[c] in rank else len(rank))


def _widget(where, cls, name, constraint, default, label, frame, kinds, context, key):
    if name in cls.accepts:
        options = _columns_for(cls, name, frame, kinds, context)
        if not options and not isinstance(constraint, Optional):
            wanted = ", ".join(sorted(cls.accepts[name]))
            where.info(f"{label}: the table has no column of a kind this step works on ({wanted}). Change a "
                       "column's kind on the Data page, or convert it on the Clean page.", icon=":material/info:")
            return _INCOMPLETE
        if isinstance(constraint, Columns):
            value = where.multiselect(label, options, key=key)
            return value or _INCOMPLETE
        if isinstance(constraint, Optional):
            role = {"time": context.time, "by": context.group}.get(name)
            choices = [NONE, *options]
            index = choices.index(role) if role in choices else 0
            value = where.selectbox(label, choices, index=index, key=key)
            return None if value == NONE else value
        value = where.selectbox(label, options, index=None, placeholder="Choose a column", key=key)
        return value if value is not None else _INCOMPLETE
    if isinstance(constraint, SubsetOf):
        return where.pills(label, constraint.options, selection_mode="multi", default=list(default), key=key) \
            or _INCOMPLETE
    if isinstance(constraint, OneOf):
        return where.selectbox(label, constraint.options, index=constraint.options.index(default), key=key)
    if isinstance(constraint, Boolean):
        return where.checkbox(label, value=default, key=key)
    if isinstance(constraint, Interval):
        if constraint.integer:
            return int(where.number_input(label, min_value=int(constraint.low), max_value=int(constraint.high),
                                          value=int(default), step=1, key=key))
        low, high = (None if v is None else float(v) for v in (constraint.low, constraint.high))
        return float(where.number_input(label, value=float(default), min_value=low, max_value=high, step=0.01,
                                        format="%.3f", key=key))
    if isinstance(constraint, Optional) and isinstance(constraint.inner, Interval):
        return where.number_input(label, value=None, min_value=0.0, step=1.0, key=key)
    if isinstance(constraint, Optional) and isinstance(constraint.inner, Columns):
        return where.multiselect(label, list(frame.columns), key=key) or None
    if isinstance(constraint, IntList):
        text = where.text_input(label, value=", ".join(map(str, default)), key=key)
        try:
            return [int(part) for part in text.replace(" ", "").split(",") if part]
        except ValueError:
            raise ValidationError(f"{label} must be whole numbers separated by commas, like 1, 7, 28. "
                                  f"Got {text!r}.") from None
    if name == "expression":
        numbers = [c for c in frame.columns if kinds[c] in ("integer", "float", "boolean") and c != context.target]
        text = where.text_input(label, placeholder="e.g. log(price) / carat", key=key).strip()
        where.caption("Number columns: " + ", ".join(f"`{c}`" if "`" not in c else md(c) for c in numbers[:40]))
        return text or _INCOMPLETE
    if name == "categories":
        text = where.text_input(label, key=key).strip()
        return [part.strip() for part in text.split(",") if part.strip()] or None
    optional_text = isinstance(constraint, Optional) and isinstance(constraint.inner, Text)
    if isinstance(constraint, (Text, Column)) or optional_text:
        text = where.text_input(label, value=default or "", key=key).strip()
        if text:
            return text
        return None if isinstance(constraint, Optional) else _INCOMPLETE
    return default
