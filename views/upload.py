"""Data: bring a table into the project (file, sample or SQL), check how it was read, save it."""

import pandas as pd
import streamlit as st

from core import datasets, samples, store
from core.errors import AssayError
from core.schema import KINDS
from ui import loading, shell
from ui.data import datasets_of
from ui.text import md

project = shell.require_project()
st.title("Data")
st.caption(f"Project **{md(project.name)}** · add a table, check how it was read, and save it as a dataset.")

message = st.session_state.pop("upload.saved", None)
if message:
    st.success(md(message), icon=":material/check_circle:")

source = st.segmented_control(
    "Source", ["Upload a file", "Sample data", "SQL query"], default="Upload a file", key="upload.source",
)
pending = None
try:
    if source == "Upload a file":
        pending = loading.file_source()
    elif source == "Sample data":
        pending = loading.sample_source()
    elif source == "SQL query":
        pending = loading.sql_source()
except AssayError as exc:
    shell.show_error(exc)

if pending is not None:
    loaded = pending.loaded
    report = loaded.report
    st.subheader(f"Preview: {md(report.file_name)}")
    cols = st.columns(4)
    cols[0].metric("Rows", f"{report.rows:,}")
    cols[1].metric("Columns", f"{report.columns:,}")
    cols[2].metric("Format", report.format.upper())
    read_as = ", ".join(filter(None, [
        report.encoding and f"encoding {report.encoding}",
        report.delimiter and "delimiter " + {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(
            report.delimiter, repr(report.delimiter)),
        report.decimal == "," and "decimal comma",
        report.sheet and f"sheet {report.sheet!r}",
    ]))
    cols[3].metric("Size", f"{report.size_bytes / 2**20:,.2f} MB")
    if read_as:
        st.caption("Read with " + read_as + ".")
    for warning in report.warnings:
        st.warning(warning, icon=":material/warning:")

    st.dataframe(loaded.frame.head(200), height=280)

    st.markdown("**Column kinds** · change a kind if the guess is wrong; the table is read again.")
    kinds_table = pd.DataFrame(report.column_info)[["name", "kind", "reason", "dtype", "missing"]]
    edited = st.data_editor(
        kinds_table, hide_index=True, disabled=["name", "reason", "dtype", "missing"],
        column_config={
            "name": st.column_config.TextColumn("Column"),
            "kind": st.column_config.SelectboxColumn("Kind", options=KINDS, required=True),
            "reason": st.column_config.TextColumn("Why", width="large"),
            "dtype": st.column_config.TextColumn("Stored as"),
            "missing": st.column_config.NumberColumn("Missing"),
        },
        key=f"upload.kinds.{pending.key}",
    )
    overrides = {
        row["name"]: row["kind"] for row, inferred in zip(edited.to_dict("records"), report.column_info)
        if row["kind"] != inferred["kind"]
    }
    if overrides:
        pending.set_kinds(overrides)
        st.rerun()

    with st.form("upload.save_form", border=True):
        st.markdown("**Save as a dataset**")
        name = st.text_input("Dataset name", value=pending.suggested_name, key=f"upload.name.{pending.key}")
        columns = ["—", *loaded.frame.columns.astype(str)]
        role_cols = st.columns(4)
        roles = {}
        for col, (role, help_text) in zip(role_cols, loading.ROLE_HELP.items()):
            default = pending.roles.get(role, "—")
            choice = col.selectbox(role.capitalize(), columns, help=help_text,
                                   index=columns.index(default) if default in columns else 0,
                                   key=f"upload.role.{role}.{pending.key}")
            roles[role] = None if choice == "—" else choice
        if st.form_submit_button("Save dataset", type="primary", key="save"):
            try:
                with store.write_session(shell.engine()) as s:
                    saved = datasets.save_loaded(s, project.id, name, loaded, roles)
                    saved_name, saved_rows = saved.name, saved.n_rows
            except AssayError as exc:
                shell.show_error(exc)
            else:
                pending.forget()
                st.session_state["upload.saved"] = f"Saved {saved_name!r} ({saved_rows:,} rows) to {project.name!r}."
                st.rerun()

st.divider()
st.subheader("Datasets in this project")
items = datasets_of(project.id)
if not items:
    st.caption("None yet. Upload a file or pick a sample above.")
else:
    st.dataframe(
        pd.DataFrame([{
            "Dataset": d.name, "Rows": d.n_rows, "Columns": d.n_cols, "From": d.file_name,
            "Target": d.roles.get("target", ""), "Saved": d.created_at.strftime("%Y-%m-%d %H:%M"),
        } for d in items]),
        hide_index=True,
    )
    loading.manage_datasets(project.id, items)
