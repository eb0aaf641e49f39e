"""The Data page's sources (file, sample, SQL) and its dataset management widgets.

A chosen source becomes a *pending* load held in session state under
``upload.pending`` (small values only: where the bytes are and the options);
the loaded table itself comes from a bounded cache keyed by those values.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import streamlit as st

from core import datasets, ingest, samples, store
from core.config import settings
from core.errors import AssayError, InputError
from ui.shell import current_project_id, engine, show_error
from ui.text import md

PENDING_KEY = "upload.pending"
UPLOADER_GENERATION = "upload.generation"
ROLE_HELP = {
    "target": "What a model should predict.",
    "time": "When each row happened: used for time-ordered validation and drift slices.",
    "id": "Identifies a row or an entity; never used as a feature.",
    "group": "Rows sharing this value stay in the same fold (e.g. a customer).",
}
_DELIMITERS = {"detect": None, "comma ,": ",", "semicolon ;": ";", "tab": "\t", "pipe |": "|"}
_ENCODINGS = {"detect": None, "UTF-8": "utf-8", "Windows-1252": "cp1252", "Latin-1": "latin-1"}
_DECIMALS = {"detect": None, "point .": ".", "comma ,": ","}


@st.cache_resource(max_entries=3, show_spinner="Reading the table...")
def _load(kind: str, where: str, file_name: str, options_json: str) -> ingest.Loaded:
    options = ingest.LoadOptions(**json.loads(options_json))
    if kind == "sql":
        url, query = json.loads(where)
        return ingest.load_sql(url, query, options=options)
    return ingest.load(where, name=file_name, options=options)


@dataclass
class Pending:
    kind: str
    key: str
    where: str
    file_name: str
    options: dict
    roles: dict

    @property
    def loaded(self) -> ingest.Loaded:
        return _load(self.kind, self.where, self.file_name, json.dumps(self.options, sort_keys=True))

    @property
    def suggested_name(self) -> str:
        with store.read_session(engine()) as s:
            project_id = current_project_id()
            base = datasets.default_name(self.file_name)
            return datasets.unique_name(s, project_id, base) if project_id else base

    def set_kinds(self, kinds: dict[str, str]) -> None:
        merged = {**self.options.get("kinds", {}), **kinds}
        self.options = {**self.options, "kinds": merged}
        _remember(self)

    def set_options(self, **changes) -> None:
        self.options = {**self.options, **changes}
        _remember(self)

    def forget(self) -> None:
        st.session_state.pop(PENDING_KEY, None)
        if self.kind == "file":
            st.session_state[UPLOADER_GENERATION] = st.session_state.get(UPLOADER_GENERATION, 0) + 1
            _spill_dir().joinpath(self.key).unlink(missing_ok=True)


def _remember(pending: Pending) -> None:
    st.session_state[PENDING_KEY] = pending


def _current() -> Pending | None:
    return st.session_state.get(PENDING_KEY)


def _spill_dir():
    path = settings().home / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_spills(max_age_seconds: float = 86_400) -> None:
    """Delete spilled uploads left by sessions that ended (called at start-up)."""
    now = time.time()
    for path in _spill_dir().glob("*"):
        if now - path.stat().st_mtime > max_age_seconds:
            path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- sources


def file_source() -> Pending | None:
    limit_mb = settings().max_upload_mb
    generation = st.session_state.get(UPLOADER_GENERATION, 0)
    uploaded = st.file_uploader(
        "Drop a CSV, TSV, Excel (.xlsx), Parquet or JSON file",
        type=["csv", "tsv", "txt", "tab", "xlsx", "xlsm", "xls", "parquet", "pq", "json", "jsonl", "ndjson"],
        key=f"upload.file.{generation}", max_upload_size=int(limit_mb),
    )
    pending = _current()
    if uploaded is None:
        return pending if pending is not None and pending.kind != "file" else None
    if uploaded.size > settings().max_upload_bytes:
        raise InputError(
            f"The file is {uploaded.size / 2**20:,.1f} MB, above the upload limit of {limit_mb:,.0f} MB.",
            hint="Load a smaller extract, or raise ASSAY_MAX_UPLOAD_MB.",
        )
    if pending is None or pending.kind != "file" or pending.key != uploaded.file_id:
        # Spill the upload to disk at once, under a name we choose (never the user's).
        key = uploaded.file_id or uuid.uuid4().hex
        path = _spill_dir() / key
        path.write_bytes(uploaded.getbuffer())
        pending = Pending("file", key, str(path), uploaded.name, {}, {})
        _remember(pending)
    _reading_options(pending)
    return pending


def _reading_options(pending: Pending) -> None:
    fmt = ingest.detect_format(open(pending.where, "rb").read(4096), pending.file_name) \
        if pending.kind == "file" else None
    with st.expander("Reading options", icon=":material/tune:"):
        if fmt == "excel":
            sheets = ingest.list_sheets(pending.where)
            current = pending.options.get("sheet") or sheets[0]
            sheet = st.selectbox("Sheet", sheets, index=sheets.index(current), key=f"upload.sheet.{pending.key}")
            if sheet != current:
                pending.set_options(sheet=sheet)
        cols = st.columns(4)
        changes = {}
        for col, (label, option, choices) in zip(cols, [
            ("Delimiter", "delimiter", _DELIMITERS), ("Encoding", "encoding", _ENCODINGS),
            ("Decimal mark", "decimal", _DECIMALS),
        ]):
            labels = list(choices)
            current = next((k for k, v in choices.items() if v == pending.options.get(option)), "detect")
            picked = col.selectbox(label, labels, index=labels.index(current), key=f"upload.{option}.{pending.key}")
            if choices[picked] != pending.options.get(option):
                changes[option] = choices[picked]
        skip = cols[3].checkbox("Skip malformed lines", value=pending.options.get("skip_bad_lines", False),
                                key=f"upload.skip.{pending.key}")
        if skip != pending.options.get("skip_bad_lines", False):
            changes["skip_bad_lines"] = skip
        if changes:
            pending.set_options(**changes)


def sample_source() -> Pending | None:
    st.caption("Small real datasets with permissive licences (see sample_data/README.md).")
    cols = st.columns(len(samples.SAMPLES))
    for col, sample in zip(cols, samples.SAMPLES):
        with col.container(border=True):
            st.markdown(f"**{sample.title}**")
            st.caption(f"{sample.description}  \nTarget: `{sample.target}` ({sample.task}) · {sample.licence}")
            if st.button("Use this", key=f"upload.sample.{sample.key}"):
                _remember(Pending("sample", sample.key, str(samples.sample_path(sample.key)), sample.file, {},
                                  {"target": sample.target}))
    pending = _current()
    return pending if pending is not None and pending.kind == "sample" else None


def sql_source() -> Pending | None:
    with st.form("upload.sql_form"):
        url = st.text_input("Database URL (SQLAlchemy)", type="password",
                            placeholder="postgresql+psycopg://user@host:5432/db  or  sqlite:////path/to/file.db")
        query = st.text_area("SELECT query", placeholder="SELECT * FROM sales WHERE year = 2024", height=120)
        st.caption("The query runs read-only and is rolled back; only SELECT/WITH statements are accepted.")
        if st.form_submit_button("Run query", type="primary"):
            where = json.dumps([url.strip(), query])
            pending = Pending("sql", uuid.uuid4().hex, where, "query", {}, {})
            pending.loaded  # noqa: B018 - load now, so a bad query is reported here
            _remember(pending)
    pending = _current()
    return pending if pending is not None and pending.kind == "sql" else None


# --------------------------------------------------------------------------- saved datasets


def manage_datasets(project_id: int, items: list[store.Dataset]) -> None:
    with st.expander("Manage a dataset: roles, name, delete", icon=":material/edit:"):
        ids = [d.id for d in items]
        chosen = st.selectbox("Dataset", ids, format_func=lambda i: next(d.name for d in items if d.id == i),
                              key="upload.manage_pick")
        dataset = next(d for d in items if d.id == chosen)
        columns = ["—", *dataset.schema.get("columns", {}).keys()]
        with st.form(f"upload.roles_form.{dataset.id}", border=False):
            role_cols = st.columns(4)
            roles = {}
            for col, role in zip(role_cols, ROLE_HELP):
                current = dataset.roles.get(role, "—")
                choice = col.selectbox(role.capitalize(), columns, help=ROLE_HELP[role],
                                       index=columns.index(current) if current in columns else 0)
                roles[role] = None if choice == "—" else choice
            new_name = st.text_input("Name", value=dataset.name)
            if st.form_submit_button("Save changes"):
                try:
                    with store.write_session(engine()) as s:
                        store.set_roles(s, dataset.id, roles)
                        if new_name.strip() != dataset.name:
                            store.rename_dataset(s, dataset.id, new_name)
                except AssayError as exc:
                    show_error(exc)
                else:
                    st.rerun()
        st.divider()
        sure = st.checkbox(f"Delete {md(repr(dataset.name))} with its recipes, models and reports",
                           key=f"upload.delete_sure.{dataset.id}")
        if st.button("Delete dataset", disabled=not sure, key=f"upload.delete.{dataset.id}"):
            with store.write_session(engine()) as s:
                store.delete_dataset(s, dataset.id)
            st.rerun()
