"""Explanations: why a model predicts what it does, for the whole model, one column, one row, and what-if."""

import streamlit as st

from core import jobs, store
from core.charts import explain as charts
from core.errors import AssayError
from core.explain import DEFAULT_ROWS, MAX_ROWS, PICKS, holdout_importance, pick_rows, what_if
from core.explain.job import DEFAULT_TIME_LIMIT, last_job, start_explain, stored_report
from core.scoring import list_models
from ui import explain as ui
from ui import shell
from ui.data import dataset_frame, datasets_of
from ui.scoring import bundle_of
from ui.text import md

project = shell.require_project()
st.title("Explanations")
st.caption("Why the model predicts what it does: which columns it leans on overall, how one column changes its "
           "predictions, and why one row gets its prediction. Change a row's values to see the prediction move.")
with store.read_session(shell.engine()) as s:
    models = list_models(s, project.id)
if not models:
    st.info("This project has no trained model yet. Train one on the **Train** page, then come back here.")
    st.stop()
by_id = {m.id: m for m in models}
top = st.columns([3, 2])
model = by_id[top[0].selectbox("Model", list(by_id), format_func=lambda i: by_id[i].label, key="explain.model")]
datasets = {d.id: d for d in datasets_of(project.id)}
ids = list(datasets)
dataset_id = top[1].selectbox("Rows to explain", ids, index=ids.index(model.dataset_id) if model.dataset_id in ids
                              else 0, format_func=lambda i: datasets[i].name, key=f"explain.data.{model.id}",
                              help="The data the model was trained on is chosen first; any dataset of the project "
                                   "with the same columns works.")
dataset = datasets[dataset_id]

with store.read_session(shell.engine()) as s:
    job = last_job(s, project.id, model.id, dataset.id)
    report = stored_report(s, project.id, model.id, dataset.id)
    summary = (report.blob_sha, dict(report.data or {}), report.created_at) if report is not None else None
    ended = None if job is None or job.status in (*jobs.ACTIVE, "done") else (job.status, job.error, job.created_at)
if job is not None and job.status in jobs.ACTIVE:
    st.markdown("**Computing the explanation** (it keeps running if you leave this page).")
    ui.job_progress(job.id)
    st.stop()
if ended is not None and (summary is None or ended[2] > summary[2]):
    st.error(f"The last explanation did not finish ({ended[0]}): {md(ended[1])}", icon=":material/error:")
with st.expander("Sample settings", expanded=summary is None):
    cols = st.columns(2)
    rows = cols[0].number_input("Rows to explain (a random sample)", 10, MAX_ROWS, DEFAULT_ROWS, step=1000,
                                key="explain.rows")
    limit = cols[1].number_input("Time limit (seconds)", 10, 24 * 3600, int(DEFAULT_TIME_LIMIT), step=30,
                                 key="explain.limit", help="Large forests are slow to explain; fewer rows are "
                                 "explained when the limit would be passed, and the page says how many.")
    if st.button("Compute explanations" if summary is None else "Compute again", type="primary",
                 icon=":material/psychology:", key="explain.start"):
        start_explain(shell.engine(), project.id, model.id, dataset.id, rows=int(rows), time_limit=float(limit))
        st.rerun()
if summary is None:
    st.info("This model has not been explained on these rows yet: press **Compute explanations**.")
    st.stop()

expl = ui.explanation(summary[0])
sample = f"{expl.n:,} of {expl.total_rows:,} rows" if expl.n < expl.total_rows else f"all {expl.n:,} rows"
seed = f" (a random sample, seed {expl.seed})" if expl.n < expl.total_rows else ""
st.caption(f"Explained on {sample} of {md(dataset.name)}{seed}, {summary[2]:%Y-%m-%d %H:%M} UTC, "
           f"in {summary[1].get('seconds', 0):.0f} s.")
if expl.info.get("stopped_by_time_limit"):
    st.warning(f"Only {expl.n:,} rows fitted in the time limit. Raise it under *Sample settings* for more.",
               icon=":material/timer:")
k = 0
if len(expl.outputs) > 1:
    k = expl.outputs.index(st.selectbox("Explain the class", expl.outputs, key=f"explain.class.{model.id}",
                                        help="Each class has its own explanation: why rows are (or are not) "
                                             "this class."))
st.markdown(ui.space_note(expl, k))
view = st.segmented_control("View", ["Whole model", "One column", "One row", "What if"], default="Whole model",
                            required=True, key="explain.view")

if view == "Whole model":
    left, right = st.columns(2)
    left.markdown(f"**SHAP: average effect on the {expl.n:,} explained rows**")
    left.plotly_chart(charts.importance_figure(expl, k), key="explain.bar")
    left.caption("Each bar is how far the column moves predictions on average, up or down, away from the "
                 "typical prediction. A long bar means the model leans on it; it does not mean the column causes "
                 "the outcome.")
    with right:
        ui.importance_panel(expl, *holdout_importance(bundle_of(model.blob_sha).metadata),
                            list(expl.mean_abs(k).index), other_data=dataset.id != model.dataset_id)
    st.plotly_chart(charts.beeswarm_figure(expl, k), key="explain.swarm")
    st.caption("Each dot is one row. Right of the line: the column pushed that row's prediction up; left: down. "
               "Colour is the column's value in that row (red high, blue low); labels and missing values are grey; "
               "hover a dot to see its value.")

elif view == "One column":
    ranked = list(expl.mean_abs(k).index)
    cols = st.columns(2)
    feature = cols[0].selectbox("Column", ranked, key="explain.feature")
    strongest = ui.interaction(summary[0], feature, k)
    others = [f for f in ranked if f != feature]
    colour = cols[1].selectbox("Colour by", [None, *others], index=1 + others.index(strongest) if strongest else 0,
                               format_func=lambda f: "nothing" if f is None else f, key=f"explain.colour.{feature}",
                               help="Chosen first: the column that best explains why rows with the same value of "
                                    "this column get different effects (its strongest interaction).")
    st.plotly_chart(charts.dependence_figure(expl, feature, k, colour), key="explain.dependence")
    st.caption(f"Each dot is a row: its value of {md(feature)} (across) and how much that value moved its prediction "
               "(up). A rising cloud means higher values push predictions up. Where dots of one value spread "
               "vertically, other columns change this column's effect; the colours show which.")

else:
    how = st.segmented_control("Pick a row", ["by row number", *PICKS], default="by row number", required=True,
                               key="explain.how")
    labels = list(expl.X.index)
    if how == "by row number":
        label = st.selectbox("Row (its position in the table, from 0)", labels, key="explain.label")
    else:
        try:
            candidates = pick_rows(expl, how, k)
        except AssayError as exc:
            shell.show_error(exc)
            st.stop()
        st.dataframe(candidates, hide_index=True, height=220, key="explain.candidates",
                     column_config={c: st.column_config.NumberColumn(format="localized")
                                    for c in candidates.select_dtypes("number").columns if c != "row"})
        label = st.selectbox("Row", list(candidates["row"]), key=f"explain.pick.{how}")
    if view == "One row":
        main, side = st.columns([3, 2])
        main.plotly_chart(charts.waterfall_figure(expl, label, k), key="explain.waterfall")
        main.caption("Read from the top: the typical prediction, then each column's push up (red) or down (blue), "
                     "largest first, ending at this row's prediction.")
        with side:
            ui.prediction_panel(expl, label, k)
            st.dataframe(charts.row_table(expl, label, k), hide_index=True, key="explain.row")
    else:
        bundle = ui.explainer(model.blob_sha).bundle
        raw = dataset_frame(dataset)
        row = raw.loc[[label]]
        order = list(dict.fromkeys(c for f in expl.mean_abs(k).index for c in bundle.input_schema
                                   if f == c or f.startswith(f"{c}.")))
        st.caption("Change any value and press the button: the model predicts the edited row, and the chart shows "
                   "why. The data itself is not changed.")
        changes = ui.what_if_form(row, list(bundle.input_schema), raw, order, key=f"explain.form.{model.id}.{label}")
        if changes is not None:
            result = what_if(bundle, row, changes, explainer=ui.explainer(model.blob_sha))
            st.session_state["explain.whatif"] = (model.id, dataset.id, label, result, changes)
        kept = st.session_state.get("explain.whatif")
        if kept and kept[:3] == (model.id, dataset.id, label):
            result, changed = kept[3], kept[4]
            main, side = st.columns([3, 2])
            main.plotly_chart(charts.waterfall_figure(result, label, k), key="explain.whatif_waterfall")
            with side:
                ui.prediction_panel(result, label, k, before=(expl, label) if label in expl.X.index else None)
                st.caption("Changed: " + ("; ".join(f"{md(c)} → {md(v)}" for c, v in changed.items()) or
                                          "nothing (this is the row as it is)"))
