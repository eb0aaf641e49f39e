"""The Predict page's helpers: the model picker, the new rows, and bounded caches of models and scores.

Heavy values (bundles, uploaded tables, scores) live in ``st.cache_resource`` keyed by
content (the model's blob sha, the upload's id); session state holds only those keys.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import datasets, drift_report, export, ingest, scoring, store
from core.drift import DriftConfig, DriftResult
from core.bundle import ModelBundle
from core.config import settings
from core.errors import InputError
from ui.data import dataset_frame, dataset_picker
from ui.shell import engine
from ui.text import md

SOURCES = ["Upload a file", "A dataset of this project"]
_TYPES = ["csv", "tsv", "txt", "tab", "xlsx", "xlsm", "xls", "parquet", "pq", "json", "jsonl", "ndjson"]


def models_of(project_id: int) -> list[scoring.ModelInfo]:
    with store.read_session(engine()) as s:
        return scoring.list_models(s, project_id)


def model_picker(project_id: int) -> scoring.ModelInfo | None:
    models = models_of(project_id)
    if not models:
        st.info("This project has no trained model yet. Train one on the **Train** page, then come back to score "
                "new rows with it.", icon=":material/model_training:")
        return None
    ids = [m.id for m in models]
    chosen = st.selectbox("Model", ids, format_func=lambda i: next(m.label for m in models if m.id == i),
                          key="predict.model", help="Newest first. The chosen model of each training run.")
    return next(m for m in models if m.id == chosen)


@st.cache_resource(max_entries=3, show_spinner="Loading the model...")
def bundle_of(blob_sha: str) -> ModelBundle:
    """A stored model, loaded once per content (never modified: shared between sessions)."""
    with store.read_session(engine()) as s:
        return ModelBundle.from_bytes(store.get_blob(s, blob_sha))


@st.cache_resource(max_entries=2, show_spinner="Reading the file...")
def _read(path: str, name: str) -> ingest.Loaded:
    return ingest.load(path, name=name)


def new_rows(project_id: int) -> tuple[pd.DataFrame, str, str] | None:
    """The rows to score: ``(table, a name for them, a cache key)``, or None until chosen."""
    source = st.segmented_control("New rows", SOURCES, default=SOURCES[0], key="predict.source",
                                  label_visibility="collapsed")
    if source == SOURCES[1]:
        dataset = dataset_picker(project_id, label="Dataset to score", key="predict.dataset")
        return None if dataset is None else (dataset_frame(dataset), dataset.name, f"blob:{dataset.blob_sha}")
    if source is None:
        return None
    limit_mb = settings().max_upload_mb
    uploaded = st.file_uploader("A CSV, Excel, Parquet or JSON file with the columns the model was trained on",
                                type=_TYPES, key="predict.file", max_upload_size=int(limit_mb))
    if uploaded is None:
        return None
    if uploaded.size > settings().max_upload_bytes:
        raise InputError(f"The file is {uploaded.size / 2**20:,.1f} MB, above the upload limit of {limit_mb:,.0f} MB.",
                         hint="Score a smaller extract, use `assay predict`, or raise ASSAY_MAX_UPLOAD_MB.")
    folder = settings().home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"predict-{uploaded.file_id}"  # our name, never the user's
    if not path.exists():
        path.write_bytes(uploaded.getbuffer())
    loaded = _read(str(path), uploaded.name)
    for warning in loaded.report.warnings:
        st.caption(warning)
    return loaded.frame, uploaded.name, f"file:{loaded.report.source_sha}"


@st.cache_resource(max_entries=4, show_spinner="Checking the columns...")
def schema_check(blob_sha: str, data_key: str, _frame: pd.DataFrame) -> scoring.SchemaCheck:
    return scoring.check_schema(bundle_of(blob_sha), _frame)


@st.cache_resource(max_entries=2, show_spinner="Scoring...")
def scored(blob_sha: str, data_key: str, reasons: int, _frame: pd.DataFrame) -> tuple[scoring.Scored, pd.DataFrame]:
    """The scores and the table to download (input columns, predictions, probabilities, reasons)."""
    result = scoring.score(bundle_of(blob_sha), _frame, explain=reasons)
    return result, result.table(_frame)


def predictions_table(table: pd.DataFrame, firsts: list[str], rows: int = 1_000) -> None:
    """The first rows, the model's columns (``firsts``) first; probabilities as bars."""
    shown = table[firsts + [c for c in table.columns if c not in firsts]].head(rows)
    config = {c: st.column_config.ProgressColumn(c, min_value=0.0, max_value=1.0, format="percent")
              for c in firsts if c.startswith("proba:") and pd.api.types.is_float_dtype(table[c])}
    st.dataframe(shown, hide_index=True, height=360, column_config=config)
    if len(table) > len(shown):
        st.caption(f"The first {len(shown):,} of {len(table):,} rows; the downloads hold them all.")


def download_name(name: str, fmt: str) -> str:
    return f"predictions - {datasets.default_name(name)}.{fmt}"


def download_buttons(table: pd.DataFrame, name: str) -> None:
    row = st.container(horizontal=True)
    for fmt, label in (("csv", "Download CSV"), ("parquet", "Download Parquet")):
        row.download_button(label, data=lambda f=fmt: export.to_bytes(table, f), file_name=download_name(name, fmt),
                            mime=export.MIME[fmt], icon=":material/download:", on_click="ignore",
                            key=f"predict.download.{fmt}",
                            help="Formula-safe: text that a spreadsheet would run as a formula starts with an "
                                 "apostrophe." if fmt == "csv" else "Values exactly as computed.")


def card_bytes(model_id: int, project_id: int) -> bytes:
    from core.model_card import card_for_model
    from core.model_card_html import to_html

    with store.read_session(engine()) as s:
        return to_html(card_for_model(s, model_id, project_id)).encode("utf-8")


@st.cache_resource(max_entries=2, show_spinner="Comparing with the training data...")
def drift_result(project_id: int, model_id: int, blob_sha: str, data_key: str, name: str,
                 _frame: pd.DataFrame) -> DriftResult:
    """The new rows against the model's training rows; stored as a drift report of the model (the model
    card lists what it found), and read back instead of recomputed for the same model and rows."""
    config = DriftConfig()
    key = drift_report.report_key({"model": blob_sha}, {"rows": data_key}, config, scope="predict")
    reference, current, kwargs = scoring.drift_inputs(bundle_of(blob_sha), _frame, name)
    report_id = drift_report.compare_and_store(engine(), project_id, reference, current, key=key, model_id=model_id,
                                               config=config, **kwargs)
    return drift_report.load_result(engine(), report_id, project_id)


_VERDICT = {"drift": st.error, "warning": st.warning, "stable": st.success}


def drift_panel(result: DriftResult, name: str) -> None:
    from core.charts.drift import column_table, model_lines

    _VERDICT.get(result.status, st.info)(md(result.headline), icon=":material/monitoring:")
    for line in model_lines(result):
        st.caption(md(line))
    table = column_table(result)
    if not table.empty:
        st.dataframe(table[["Column", "Status", "Score", "Why"]].head(10), hide_index=True,
                     column_config={"Score": st.column_config.NumberColumn(
                         help="The largest effect size as a share of its drift threshold (1 = at the threshold)")})
    for line in result.schema.lines()[:5]:
        st.caption(md(line))
    st.download_button("Drift report (HTML)", data=lambda: drift_report.to_html(result).encode("utf-8"),
                       file_name=download_name(name, "html").replace("predictions - ", "drift - "), mime="text/html",
                       icon=":material/download:", on_click="ignore", key="predict.drift_html")
