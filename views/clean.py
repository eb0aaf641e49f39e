"""Clean: build the dataset's cleaning recipe step by step, with a preview, undo and export."""

import re

import streamlit as st

from core import export
from core.cleaning import check_replay
from core.errors import AssayError
from core.recipe import Recipe
from core.steps import STEPS, step_from_dict
from ui import cleaning as forms
from ui import recipe as recipe_ui
from ui import shell
from ui.data import clean_key, cleaned, dataset_frame, dataset_picker, raw_snapshot
from ui.text import md

project = shell.require_project()
st.title("Clean")
st.caption("Each change is a step of the dataset's recipe: it replays from the raw upload, can be undone, "
           "and exports as a Python script.")
dataset = dataset_picker(project.id)
if dataset is None:
    st.stop()
view = recipe_ui.current(dataset.id, key="clean.recipe")
raw = dataset_frame(dataset)
try:
    table, states = cleaned(dataset, view.recipe)
except AssayError as exc:
    table, states, broken = None, None, exc
else:
    broken = None

main, side = st.columns([3, 2], gap="large")
with side:
    st.subheader("Recipe")
    if table is not None and view.recipe.clean:
        shape = [f"{a:,} → {b:,} {what}" if a != b else f"{b:,} {what}" for a, b, what in
                 [(dataset.n_rows, len(table), "rows"), (dataset.n_cols, table.shape[1], "columns")]]
        st.caption(f"{' and '.join(shape)} after {len(view.recipe.clean)} step(s), run top to bottom.")
    recipe_ui.editor(view, "clean", check=lambda r: check_replay(r, raw),
                     empty="No steps yet: the table is as it was uploaded.")

with main:
    if broken is not None:
        shell.show_error(broken)
        st.info("Remove or move the step named above, or undo, to continue.", icon=":material/build:")
        st.stop()
    st.subheader("Add a step")
    kind = st.selectbox("Step", forms.KINDS, format_func=lambda k: STEPS[k].label, key="clean.kind")
    st.caption(forms.HELP[kind])
    generation = st.session_state.setdefault("clean.form_generation", 0)
    step = None
    try:
        data = forms.step_form(kind, table, key=f"clean.form.{generation}")
        step = step_from_dict(data) if data else None
    except AssayError as exc:
        shell.show_error(exc)
    if step is None:
        st.caption("Choose what the step works on to see what it would change.")
    else:
        try:
            p = forms.preview(dataset.blob_sha, clean_key(view.recipe), step.to_dict(), len(view.recipe.clean) + 1)
        except AssayError as exc:
            shell.show_error(exc)
            p = None
        if p is not None:
            st.markdown(f"**Preview** · {md(step.describe())}")
            m = st.columns(4)
            m[0].metric("Rows", f"{p.rows_after:,}", delta=f"{-p.rows_removed:,}" if p.rows_removed else None)
            m[1].metric("Rows affected", f"{p.rows_changed + p.rows_removed:,}")
            m[2].metric("Cells changed", f"{p.cells_changed:,}")
            net = p.columns_after - table.shape[1]
            m[3].metric("Columns", f"{p.columns_after:,}", delta=f"{net:+d}" if net else None)
            for c in p.changed:
                if c.became_missing:
                    st.warning(f"{c.became_missing:,} of {c.present_before:,} values of {md(c.column)} become missing "
                               f"(for example: {md(', '.join(map(str, c.examples)))}).", icon=":material/warning:")
            if step.training_only:
                st.info("Training-only step: it shapes the table models learn from; when new rows are scored "
                        "it is skipped, so no row goes without a prediction.", icon=":material/school:")
            if p.changed:
                st.dataframe(p.summary_table(), hide_index=True, height=min(38 + 35 * len(p.changed), 250))
            if p.changed:
                before, after = st.columns(2)
                before.caption("Before (rows it changes)")
                before.dataframe(p.before, height=250)
                after.caption("After")
                after.dataframe(p.after, height=250)
            elif p.rows_removed:
                st.caption("Some of the rows it removes")
                st.dataframe(p.before, height=250)
            else:
                st.caption("This step changes nothing in the current table.")
            risky = p.needs_confirmation
            sure = True
            if risky:
                names = ", ".join(repr(c.column) for c in risky)
                sure = st.checkbox(f"Yes, turn more than half of {md(names)} into missing values",
                                   key=f"clean.confirm.{generation}")
            if st.button("Add step", type="primary", icon=":material/add:", disabled=not sure, key="clean.add"):
                st.session_state["clean.form_generation"] = generation + 1
                if not recipe_ui.commit(view, view.recipe.add(step), note=f"Add: {step.describe()}"):
                    st.session_state["clean.form_generation"] = generation

st.divider()
st.subheader("Cleaned table")
st.caption(f"The first 200 of {len(table):,} rows.")
st.dataframe(table.head(200), height=300)

st.subheader("Export")
base = re.sub(r"[^\w.-]+", "_", dataset.name).strip("._") or "dataset"


def script() -> str:
    return view.recipe.to_code(states, source=f"{base}.raw.parquet", title=f"Cleaning recipe for {dataset.name}")


st.caption("The cleaned table (CSV and Excel are formula-safe), the recipe as JSON (for `assay clean` or to load "
           "here again), and a Python script that rebuilds the cleaned table from the raw snapshot.")
row1 = st.columns(3)
row1[0].download_button("Cleaned CSV", lambda: export.to_bytes(table, "csv"), f"{base}.cleaned.csv",
                        mime=export.MIME["csv"], icon=":material/download:", on_click="ignore", key="clean.csv",
                        width="stretch")
row1[1].download_button("Cleaned Parquet", lambda: export.to_bytes(table, "parquet"), f"{base}.cleaned.parquet",
                        mime=export.MIME["parquet"], icon=":material/download:", on_click="ignore",
                        key="clean.parquet", width="stretch")
too_big = len(table) > export.EXCEL_MAX_ROWS
row1[2].download_button("Cleaned Excel", lambda: export.to_bytes(table, "xlsx"), f"{base}.cleaned.xlsx",
                        mime=export.MIME["xlsx"], icon=":material/download:", on_click="ignore", key="clean.xlsx",
                        disabled=too_big, help="Excel holds at most 1,048,575 rows." if too_big else None,
                        width="stretch")
row2 = st.columns(3)
row2[0].download_button("Recipe (JSON)", view.recipe.to_json(), f"{base}.recipe.json", mime="application/json",
                        icon=":material/receipt_long:", on_click="ignore", key="clean.recipe_json", width="stretch")
row2[1].download_button("Python script", script, f"clean_{base}.py", mime="text/x-python", icon=":material/code:",
                        on_click="ignore", key="clean.script", width="stretch")
row2[2].download_button("Raw snapshot (Parquet)", lambda: raw_snapshot(dataset.blob_sha), f"{base}.raw.parquet",
                        mime=export.MIME["parquet"], icon=":material/database:", on_click="ignore",
                        key="clean.raw", width="stretch", help="What the script reads: the table as uploaded.")
if st.toggle("Show the Python script", key="clean.show_script"):
    st.code(script(), language="python")
with st.expander("Load a recipe from a JSON file"):
    upload = st.file_uploader("Recipe JSON", type=["json"], key="clean.load_recipe")
    if upload is not None and st.button("Replace the cleaning steps with this recipe", key="clean.use_recipe"):
        try:
            if upload.size > 5_000_000:
                raise AssayError("This file is too large to be a recipe (over 5 MB).", hint="Pick the recipe's JSON file.")
            loaded = Recipe.from_json(upload.getvalue())
        except AssayError as exc:
            shell.show_error(exc)
        else:
            recipe_ui.commit(view, Recipe(clean=loaded.clean, features=view.recipe.features),
                             note=f"Load recipe from {upload.name}", check=lambda r: check_replay(r, raw))
