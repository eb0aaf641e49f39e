"""The Drift page's inputs: what to compare (datasets, an upload, a time cut, a model), cached.

:func:`comparison_form` draws the choices and returns a :class:`Request` when the
user asks for a comparison; the frames come from bounded caches keyed by content
(dataset blob + cleaning steps, upload id, model blob), never recomputed on a rerun.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from core import datasets, drift, drift_model, drift_report, ingest, store
from core.config import settings
from ui.data import cleaned_frame, datasets_of, recipe_of
from ui.shell import engine

__all__ = ["Request", "comparison_form", "bundle_for", "result_for"]

MODES = ["Another dataset", "A file", "Before / after a cut"]
TRAINING_ROWS = "the model's training rows"
_TIME_WORDS = re.compile(r"date|time|day|week|month|year|period|stamp|^ts$|^dt$", re.IGNORECASE)


@dataclass
class Request:
    reference: pd.DataFrame
    current: pd.DataFrame
    reference_name: str
    current_name: str
    key: str
    dataset_id: int | None = None
    model_id: int | None = None
    model: object = None
    exclude: list[str] = field(default_factory=list)


@st.cache_resource(max_entries=2, show_spinner="Reading the file...")
def _read_upload(file_id: str, name: str, _data: bytes) -> ingest.Loaded:
    return ingest.load(_data, name=name)


@st.cache_resource(max_entries=2, show_spinner="Loading the model...")
def _bundle(model_id: int, blob_sha: str):
    with store.read_session(engine()) as s:
        return drift_model.load_bundle(s, model_id)


def bundle_for(model: store.Model):
    """The model's bundle, cached by its blob. Shared between sessions: never modify it."""
    return _bundle(model.id, model.blob_sha)


@st.cache_resource(max_entries=8, show_spinner=False)
def _result(store_url: str, project_id: int, report_id: int) -> drift.DriftResult:
    return drift_report.load_result(engine(), report_id, project_id)


def result_for(project_id: int, report_id: int) -> drift.DriftResult:
    """A stored result, cached by store and id (a report never changes once saved).
    Shared between sessions: never modify it."""
    return _result(engine().url.render_as_string(hide_password=True), project_id, report_id)


def _dataset_side(items: list[store.Dataset], label: str, key: str, default: int = -1):
    ids = [d.id for d in items]
    chosen = st.selectbox(label, ids, index=default % len(ids), key=key,
                          format_func=lambda i: next(d.name for d in items if d.id == i))
    dataset = next(d for d in items if d.id == chosen)
    return dataset, {"blob": dataset.blob_sha, "clean": datasets.clean_sha(recipe_of(dataset))}


def _cut_input(dataset: store.Dataset, frame: pd.DataFrame):
    """A date or number column and where to cut it; (column, cut) or None."""
    usable = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])
              or (pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))]
    if not usable:
        st.info("This table has no date or number column to cut in time.", icon=":material/info:")
        return None
    time_role = dataset.roles.get("time")
    dates = [c for c in usable if pd.api.types.is_datetime64_any_dtype(frame[c])]
    timely = [c for c in usable if _TIME_WORDS.search(str(c))]
    default = time_role if time_role in usable else (dates or timely or usable)[0]
    left, right = st.columns(2)
    column = left.selectbox("Cut on", usable, index=usable.index(default), key=f"drift.cut_column.{dataset.id}",
                            help="The reference is the rows before the cut; the current table the rows from it on.")
    values = frame[column].dropna()
    if values.empty:
        right.caption("This column is empty.")
        return None
    if column in dates:
        lo, mid, hi = (values.min().date(), values.quantile(0.5).date(), values.max().date())
        cut = right.date_input("Rows before this date are the reference", value=mid, min_value=lo, max_value=hi,
                               key=f"drift.cut_date.{dataset.id}.{column}")
        return column, pd.Timestamp(cut).isoformat()
    lo, mid, hi = float(values.min()), float(values.median()), float(values.max())
    cut = right.number_input(f"Rows below this are the reference ({lo:,.4g} … {hi:,.4g})", value=mid,
                             key=f"drift.cut_number.{dataset.id}.{column}")
    return column, float(cut)


def _model_choice(project_id: int):
    with store.read_session(engine()) as s:
        models = drift_model.list_models(s, project_id)
    if not models:
        st.caption("Train a model to also compare its predictions and performance.")
        return None
    ids = [None] + [m.id for m in models]
    names = {m.id: f"{m.name} (model {m.id})" for m in models}
    chosen = st.selectbox("Model (optional)", ids, format_func=lambda i: "none" if i is None else names[i],
                          key="drift.model", help="Adds prediction drift, performance drift when the current "
                          "table has the target, and ranks columns by the model's importance.")
    return next((m for m in models if m.id == chosen), None)


def comparison_form(project_id: int) -> Request | None:
    """The choices of a new comparison; a Request when the user presses Compare."""
    items = datasets_of(project_id)
    if not items:
        st.info("This project has no data yet. Add a table on the **Data** page.")
        return None
    mode = st.segmented_control("Compare a dataset with", MODES, default=MODES[0], key="drift.mode") or MODES[0]
    model = _model_choice(project_id)
    use_training = model is not None and mode != MODES[2] and st.toggle(
        f"Reference: {TRAINING_ROWS}", key="drift.training_rows",
        help="The sample of raw training rows kept in the model (at most 5,000).")
    exclude: list[str] = []
    dataset = None
    if mode == MODES[2]:
        dataset, side = _dataset_side(items, "Dataset", "drift.cut_dataset")
        frame = cleaned_frame(dataset)
        picked = _cut_input(dataset, frame)
        if picked is None:
            return None
        column, cut = picked
        pressed = st.button("Compare", type="primary", key="drift.compare")
        if not pressed:
            return None
        reference, current = drift.split_by(frame, column, cut)
        names = (f"{dataset.name} before {cut}", f"{dataset.name} from {cut}")
        keys = (side, {**side, "cut": [column, str(cut)]})
        exclude = [column]
    else:
        if use_training:
            ref_name, ref_key = TRAINING_ROWS, {"model": model.blob_sha}
        else:
            dataset, ref_key = _dataset_side(items, "Reference", "drift.reference", default=0)
            ref_name = dataset.name
        current_ds = loaded = None
        if mode == MODES[0]:
            current_ds, cur_key = _dataset_side(items, "Current", "drift.current", default=1)
            cur_name = current_ds.name
        else:
            upload = st.file_uploader("Current table (CSV, Excel, Parquet, JSON)", key="drift.upload",
                                      type=["csv", "tsv", "txt", "xlsx", "xls", "parquet", "pq", "json", "jsonl"],
                                      max_upload_size=int(settings().max_upload_mb))
            if upload is None:
                return None
            loaded = _read_upload(upload.file_id, upload.name, upload.getvalue())
            cur_name, cur_key = upload.name, {"file": loaded.report.source_sha}
        if not st.button("Compare", type="primary", key="drift.compare"):
            return None
        # the tables are read only now (cached by content), not each time a choice changes
        reference = bundle_for(model).reference_frame() if use_training else cleaned_frame(dataset)
        current = cleaned_frame(current_ds) if current_ds is not None else loaded.frame
        names, keys = (ref_name, cur_name), (ref_key, cur_key)
    if dataset is not None:
        exclude += [c for c in (dataset.roles.get("id"),) if c]
    bundle = bundle_for(model) if model is not None else None
    key = drift_report.report_key(*keys, drift.DriftConfig(), exclude=sorted(exclude),
                                  model=model.blob_sha if model else None)
    return Request(reference, current, *names, key=key, dataset_id=dataset.id if dataset else None,
                   model_id=model.id if model else None, model=bundle, exclude=exclude)
