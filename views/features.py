"""Features: propose a feature step, see what it adds (and whether it leaks), add it to the recipe."""

import re

import streamlit as st

from core.charts.features import distribution_figure, target_figure
from core.errors import AssayError
from core.feature_code import transformer_code
from core.steps import STEPS, FitContext, step_from_dict
from ui import features as forms
from ui import recipe as recipe_ui
from ui import shell
from ui.data import clean_key, cleaned, dataset_picker
from ui.text import md

project = shell.require_project()
st.title("Features")
st.caption("Each feature is a step of the dataset's recipe. It learns on training rows only, travels with every "
           "model trained on this dataset, and is recomputed the same way when new rows are scored.")
dataset = dataset_picker(project.id)
if dataset is None:
    st.stop()
view = recipe_ui.current(dataset.id, key="features.recipe")
context = FitContext.of_dataset(dataset.roles, dataset.schema)
try:
    table, _ = cleaned(dataset, view.recipe)
    sample, states = forms.sample_frame(dataset.blob_sha, clean_key(view.recipe), view.recipe, context)
except AssayError as exc:
    shell.show_error(exc)
    st.info("A step of the recipe no longer runs: remove it below, or undo, to continue.", icon=":material/build:")
    recipe_ui.editor(view, "features", empty="No feature steps yet.")
    st.stop()

main, side = st.columns([3, 2], gap="large")
with side:
    st.subheader("Feature steps")
    n_new = sample.shape[1] - table.shape[1]
    st.caption(f"Run top to bottom after the {len(view.recipe.clean)} cleaning step(s): {table.shape[1]} columns "
               f"in, {sample.shape[1]} out ({n_new:+d}).")
    recipe_ui.editor(view, "features", check=forms.replay_check(table, context),
                     empty="No feature steps yet: models use the cleaned columns as they are.")
    if view.recipe.features:
        with st.expander("Export as Python", icon=":material/code:"):
            st.caption(f"A scikit-learn compatible `AssayFeatures` transformer with what the steps learned on a "
                       f"sample of {len(sample):,} rows. Each trained model keeps its own, learned on its training "
                       "rows (in its bundle).")
            base = re.sub(r"[^\w.-]+", "_", dataset.name).strip("._") or "dataset"
            st.download_button("Download features.py", lambda: transformer_code(view.recipe.features, states),
                               f"features_{base}.py", mime="text/x-python", icon=":material/download:",
                               on_click="ignore", key="features.download", width="stretch")
            if st.toggle("Show the code", key="features.show_code"):
                st.code(transformer_code(view.recipe.features, states), language="python")

with main:
    st.subheader("Add a feature")
    if not context.target:
        st.info("This dataset has no target yet: steps that need one (target encoding, top-k selection) are "
                "refused, and the preview cannot show how the target varies. Set it on the Data page.",
                icon=":material/info:")
    kind = st.selectbox("Kind of feature", forms.KINDS, key="features.kind",
                        format_func=lambda k: f"{STEPS[k].group} · {STEPS[k].label}")
    st.caption(STEPS[kind].summary)
    generation = st.session_state.setdefault("features.form_generation", 0)
    step = None
    try:
        data = forms.step_form(kind, sample, context, key=f"features.form.{generation}.{kind}")
        step = step_from_dict(data) if data else None
    except AssayError as exc:
        shell.show_error(exc)
    if step is None:
        st.caption("Choose its columns to see a preview.")
        st.stop()
    try:
        p = forms.cached_preview(dataset.blob_sha, clean_key(view.recipe), view.recipe, step.to_dict(), context)
    except AssayError as exc:
        shell.show_error(exc)
        st.stop()

    st.markdown(f"**Preview** · {md(step.describe())}")
    m = st.columns(4)
    m[0].metric("New columns", len(p.added))
    m[1].metric("Changed", len(p.changed))
    m[2].metric("Dropped", len(p.removed))
    m[3].metric("Sample rows", f"{p.rows:,}", help=f"The preview fits the steps on {p.rows:,} of "
                f"{p.total_rows:,} rows (seeded), as training would.")
    for leak in p.leaks:
        st.error(f"Possible leak: {md(leak.sentence)}", icon=":material/warning:")
    if p.removed:
        st.dataframe(p.removed_table(), hide_index=True, height=min(38 + 35 * len(p.removed), 250))
    if p.columns:
        if p.metric:
            chance = "0" if p.task == "regression" else "1 / the number of classes"
            st.caption(f"**Score alone**: the {p.metric} of a model that sees only that column, on rows it did "
                       f"not learn from (chance is {chance}; 0.99 or more is flagged as a possible leak).")
        st.dataframe(p.table(), hide_index=True, height=min(38 + 35 * len(p.columns), 250),
                     column_config={"score alone": st.column_config.NumberColumn(format="%.3f")})
        names = [c.name for c in p.columns]
        shown = st.selectbox("Look at", names, key=f"features.look.{generation}") if len(names) > 1 else names[0]
        col = p.columns[names.index(shown)]
        st.plotly_chart(distribution_figure(col), key="features.dist")
        figure = target_figure(col)
        if figure is not None:
            st.plotly_chart(figure, key="features.target")
        with st.expander("Sample rows"):
            st.dataframe(p.sample, height=250)
    elif not p.removed:
        st.caption("This step changes nothing on the sample.")
    sure = True
    if p.leaking:
        sure = st.checkbox("I know this column is available when predicting; add it anyway",
                           key=f"features.confirm.{generation}")
    if st.button("Add feature", type="primary", icon=":material/add:", disabled=not sure, key="features.add"):
        st.session_state["features.form_generation"] = generation + 1
        if not recipe_ui.commit(view, view.recipe.add(step), note=f"Add: {step.describe()}"):
            st.session_state["features.form_generation"] = generation
