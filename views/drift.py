"""Drift: does a current table still look like its reference (or like what a model learned from)?"""

import streamlit as st

from core import drift_report, store
from core.charts import drift as charts
from core.errors import AssayError
from ui import drift as drift_ui
from ui import shell
from ui.text import md

REPORT_KEY = "drift.report_id"
BANNERS = {"drift": (st.error, ":material/warning:"), "warning": (st.warning, ":material/info:"),
           "stable": (st.success, ":material/check_circle:")}

project = shell.require_project()
st.title("Drift")
st.caption("Compare a current table with a reference, column by column and as a whole: what changed, by how "
           "much, and whether it matters to the model. Every comparison is saved in the project.")

with store.read_session(shell.engine()) as s:
    reports = store.list_reports(s, project.id, kind=drift_report.KIND)
ids = [r.id for r in reports]
shown = st.session_state.get(REPORT_KEY)
shown = shown if shown in ids else (ids[0] if ids else None)

if st.session_state.pop("drift.collapse", False):
    st.session_state["drift.new"] = False  # a new result: fold the form away so the verdict comes first
form = st.expander("New comparison", expanded=shown is None, icon=":material/compare_arrows:", key="drift.new",
                   on_change="rerun")
with form:
    try:
        request = drift_ui.comparison_form(project.id) if form.open else None
        if request is not None:
            bar = st.progress(0.0, "Comparing...")
            report_id = drift_report.compare_and_store(
                shell.engine(), project.id, request.reference, request.current, key=request.key,
                dataset_id=request.dataset_id, model_id=request.model_id, model=request.model,
                reference_name=request.reference_name, current_name=request.current_name,
                exclude=request.exclude, progress=lambda f, m: bar.progress(min(f, 1.0), m))
            st.session_state[REPORT_KEY] = report_id
            st.session_state["drift.collapse"] = True
            st.rerun()
    except AssayError as exc:
        shell.show_error(exc)

if shown is None:
    st.stop()

titles = {r.id: f"{r.title} · {r.created_at:%Y-%m-%d %H:%M}" for r in reports}
pick, downloads = st.columns([3, 2], vertical_alignment="bottom")
chosen = pick.selectbox("Report", ids, index=ids.index(shown), format_func=titles.get, key="drift.pick")
st.session_state[REPORT_KEY] = chosen
result = drift_ui.result_for(project.id, chosen)

# ----------------------------------------------------------------------------- the verdict, first
banner, icon = BANNERS[result.status]
banner(md(result.headline), icon=icon)
d = result.domain
cols = st.columns(4)
cols[0].metric(f"Columns drifted ({result.drift_share:.0%})", f"{len(result.drifted)} of {len(result.tested)}",
               help="A column drifts when its change is significant (BH-corrected p < "
               f"{result.config['alpha']}) and large (an effect size past its drift threshold).")
cols[1].metric(f"Classifier ROC-AUC ({d.status})", "—" if d.auc is None else f"{d.auc:.2f}",
               help="How well a model tells current rows from reference rows (cross-validated; 0.5 = not at all).")
cols[2].metric("Reference rows", f"{result.reference['rows']:,}")
cols[3].metric("Current rows", f"{result.current['rows']:,}")
st.caption(f"Reference **{md(result.reference['name'])}** · current **{md(result.current['name'])}** · "
           f"compared {md(result.created_at.replace('T', ' ')[:16])} UTC")

lines = result.schema.lines()
if lines:
    with st.container(border=True):
        st.markdown("**Schema changes**")
        st.markdown("\n".join(f"- {md(line)}" for line in lines))

if result.model:
    with st.container(border=True):
        st.markdown(f"**The model** · target {md(result.model['target'])} · {result.model['task']}")
        st.markdown("\n".join(f"- {md(line)}" for line in charts.model_lines(result)))
        figures = st.columns(max(len(result.predictions), 1))
        for place, prediction in zip(figures, result.predictions):
            place.plotly_chart(charts.distribution_figure(result, prediction), key=f"drift.pred.{prediction.name}")

# ----------------------------------------------------------------------------- columns
st.subheader("Columns")
table = charts.column_table(result)
st.dataframe(table, hide_index=True, key="drift.table", height=min(35 * (len(table) + 1) + 3, 640), column_config={
    "Score": st.column_config.ProgressColumn(
        "Score", format="%.2f", min_value=0.0, max_value=max(1.0, float(table["Score"].max() or 0)),
        help="The largest effect size as a share of its drift threshold (1 = at the threshold)."),
    "p (BH)": st.column_config.NumberColumn(format="%.4f"),
    "Importance": st.column_config.NumberColumn(format="percent", help="The model's feature importance share."),
    "Missing before": st.column_config.NumberColumn(format="percent"),
    "Missing now": st.column_config.NumberColumn(format="percent"),
    "Why": st.column_config.TextColumn(width="large"),
})
st.caption("Click a header to sort. Thresholds: " + ", ".join(
    f"{name} {result.config[f'{key}_warning']}/{result.config[f'{key}_drift']}" for name, key in
    [("PSI", "psi"), ("Wasserstein", "wasserstein"), ("Jensen-Shannon", "js"), ("missing", "missing")])
    + " (warning/drift). See the README for why.")

left, right = st.columns(2, gap="large")
with left:
    tested = [c for c in charts.columns_by_severity(result) if c.test != "none" and c.details]
    if tested:
        name = st.selectbox("Distribution of", [c.name for c in tested], key=f"drift.column.{chosen}")
        st.plotly_chart(charts.distribution_figure(result, name), key="drift.distribution")
with right:
    st.plotly_chart(charts.effect_figure(result), key="drift.effects")
if d.top:
    st.plotly_chart(charts.domain_figure(result), key="drift.domain")
elif d.note:
    st.caption(md(d.note))

with downloads:
    a, b = st.columns(2)
    a.download_button("JSON", data=lambda: drift_report.to_json(result), file_name="drift.json",
                      mime="application/json", icon=":material/download:", key="drift.json", on_click="ignore")
    b.download_button("HTML", data=lambda: drift_report.to_html(result), file_name="drift.html",
                      mime="text/html", icon=":material/download:", key="drift.html", on_click="ignore")

with st.expander("Delete this report"):
    if st.button("Delete report", key="drift.delete"):
        with store.write_session(shell.engine()) as s:
            store.delete_report(s, chosen, project.id)
        st.session_state.pop(REPORT_KEY, None)
        st.rerun()
