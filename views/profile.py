"""Profile: what is in the table and what needs attention; correlations, target, gaps, full report."""

import pandas as pd
import streamlit as st

from core import jobs, profile_report, store
from core.charts import profile as charts
from ui import shell
from ui.data import cleaned_frame, dataset_picker, recipe_of
from ui.profiling import full_report_job, profile_for, report_bytes, seconds_text, size_text, stored_report
from ui.text import md

project = shell.require_project()
st.title("Profile")
st.caption(f"Project **{md(project.name)}** · what is in the table, and what needs attention.")

pick, aim = st.columns(2)
with pick:
    dataset = dataset_picker(project.id, key="profile.dataset")
if dataset is None:
    st.stop()
steps = recipe_of(dataset).to_dict()["clean"]
columns = list(cleaned_frame(dataset).columns) if steps else list((dataset.schema or {}).get("columns", {}))
role = dataset.roles.get("target")
options = ["(none)", *columns]
target = aim.selectbox("Target", options, index=options.index(role) if role in options else 0,
                      key=f"profile.target.{dataset.id}",
                      help="The column to predict: adds target analysis and the leakage test.")
target = None if target == "(none)" else target
prof = profile_for(dataset, steps, target)

cols = st.columns(5)
cols[0].metric("Rows", f"{prof.rows:,}")
cols[1].metric("Columns", f"{prof.n_columns:,}")
cols[2].metric("Duplicate rows", f"{prof.duplicate_rows:,}")
cols[3].metric("Missing cells", f"{prof.missing_cells:,}")
cols[4].metric("In memory", size_text(prof.memory_bytes))
notes = [f"Profiled in {seconds_text(prof.seconds.get('overview', 0))}"
         + (f", leakage test {seconds_text(prof.seconds['leakage'])}" if prof.seconds.get("leakage") else "") + "."]
if steps:
    notes.append(f"After the {len(steps)} cleaning step(s) of the recipe.")
if prof.sample_rows:
    notes.append(f"Correlations and target associations use a random sample of {prof.sample_rows:,} rows; "
                 "every other figure uses all rows.")
st.caption(" ".join(notes))

st.subheader("What needs attention")
critical = dict.fromkeys(a.sentence for a in prof.alerts if a.severity == "critical")  # one per leak
rest = [a for a in prof.alerts if a.severity != "critical"]
for sentence in critical:
    st.error(md(sentence), icon=":material/report:")
if rest:
    st.dataframe(pd.DataFrame({
        "Severity": ["⚠️ warning" if a.severity == "warning" else "ℹ️ info" for a in rest],
        "Column": [a.column or "(whole table)" for a in rest],
        "What": [a.sentence for a in rest],
    }), hide_index=True, height=min(35 * len(rest) + 38, 320), key="profile.alerts",
        column_config={"Severity": st.column_config.TextColumn(width="small"),
                       "What": st.column_config.TextColumn(width="large")})
if not prof.alerts:
    st.success("Nothing needs attention.", icon=":material/check_circle:")

tabs = st.tabs(["Columns", "Correlations", "Target", "Missing values", "Full report"], key="profile.tab",
               on_change="rerun")

with tabs[0]:
    if tabs[0].open:
        def _row(c):
            n = c.numbers or {}
            return {"Column": c.name, "Kind": c.kind, "Missing": c.missing_share, "Distinct": c.distinct,
                    "Min": n.get("min"), "Mean": n.get("mean"), "Max": n.get("max"),
                    "Most common": c.top[0][0] if c.top else ""}
        st.dataframe(pd.DataFrame([_row(c) for c in prof.columns]), hide_index=True,
                     column_config={"Missing": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
                                    "Mean": st.column_config.NumberColumn(format="%.4g")})
        names = [c.name for c in prof.columns]
        if names:
            chosen = st.selectbox("Look at a column", names, key=f"profile.column.{dataset.id}")
            col = prof.column(chosen)
            left, right = st.columns([3, 2])
            left.plotly_chart(charts.column_chart(col), key="profile.column_chart")
            facts = {"kind": col.kind, "stored as": col.dtype, "values": f"{col.count:,}",
                     "missing": f"{col.missing:,} ({col.missing_share:.1%})", "distinct": f"{col.distinct:,}"}
            for group in (col.numbers, col.text, col.dates):
                for k, v in (group or {}).items():
                    facts[k.replace("_", " ")] = f"{v:,.4g}" if isinstance(v, float) else str(v)
            right.dataframe(pd.DataFrame({"": list(facts), "value": list(facts.values())}), hide_index=True)
            if col.top:
                right.dataframe(pd.DataFrame(col.top, columns=["most common", "rows"]), hide_index=True)

with tabs[1]:
    if tabs[1].open:
        corr = prof.correlations
        methods = {"All columns": "mixed", "Pearson": "pearson", "Spearman": "spearman", "Cramér's V": "cramers_v"}
        method = st.segmented_control("Measure", list(methods), default="All columns", key="profile.measure")
        chosen = methods.get(method or "All columns")
        if chosen == "mixed":
            names, matrix = (corr["mixed"] or {}).get("columns", []), (corr["mixed"] or {}).get("matrix")
        else:
            names, matrix = corr["categorical" if chosen == "cramers_v" else "numeric"], corr[chosen]
        if matrix:
            st.plotly_chart(charts.heatmap(names, matrix, title=method, signed=chosen != "cramers_v"),
                            key="profile.heatmap")
        else:
            st.info("Not enough columns of this kind to correlate.")
        st.caption("Pearson: linear, −1..1. Spearman: any steady rise or fall, −1..1. Cramér's V: between labels, "
                   "0..1. Correlation ratio: how much of a number the labels explain, 0..1. All columns uses "
                   "Spearman, Cramér's V or the correlation ratio by pair. Identifiers and free text are left out.")
        if corr["pairs"]:
            st.markdown("**Strongest pairs**")
            st.dataframe(pd.DataFrame([{"Column": p["a"], "With": p["b"], "Measure": p["method"].replace("_", " "),
                                        "Value": p["value"]} for p in corr["pairs"]]), hide_index=True)

with tabs[2]:
    if tabs[2].open:
        if prof.target is None:
            st.info("Pick a target above to see its distribution and which columns tell most about it.")
        else:
            left, right = st.columns(2)
            left.plotly_chart(charts.column_chart(prof.column(prof.target["column"])), key="profile.target_chart")
            if prof.target["mutual_information"]:
                right.plotly_chart(charts.mutual_information_chart(prof.target), key="profile.mi_chart")
            st.caption(f"Task: {prof.target['task']}. Mutual information is 0 when a column says nothing about "
                       "the target; higher is more. Numbers are cut into 20 bins; the small-sample bias is taken off.")

with tabs[3]:
    if tabs[3].open:
        missing = prof.missing
        if not missing["columns"]:
            st.success("No value is missing.", icon=":material/check_circle:")
        else:
            st.caption(f"{missing['complete_rows']:,} of {prof.rows:,} rows have every value.")
            left, right = st.columns(2)
            left.plotly_chart(charts.missing_share_chart(missing), key="profile.missing_share")
            figure = charts.missing_matrix_chart(missing)
            if figure is not None:
                right.plotly_chart(figure, key="profile.missing_matrix")
            st.markdown("**Columns missing together** (most common patterns)")
            st.dataframe(pd.DataFrame([{"Missing together": ", ".join(p["columns"]), "Rows": p["rows"],
                                        "Share": p["share"]} for p in missing["patterns"]]), hide_index=True,
                         column_config={"Share": st.column_config.NumberColumn(format="percent")})

with tabs[4]:
    if tabs[4].open:
        report, job = stored_report(dataset, steps, target), full_report_job(dataset, steps, target)
        sample = profile_report.SAMPLE_ROWS
        if report is not None:
            meta = report.data or {}
            st.caption(f"Made {report.created_at:%Y-%m-%d %H:%M} UTC with ydata-profiling {meta.get('ydata_profiling')} "
                       f"in {meta.get('seconds')} s."
                       + (f" Profiled on a random sample of {meta['profiled_rows']:,} of {meta['rows']:,} rows."
                          if meta.get("sampled") else ""))
            st.download_button("Download the report (HTML)", lambda: report_bytes(report.id), mime="text/html",
                               file_name="profile-report.html", icon=":material/download:", on_click="ignore")
            if st.toggle("Show the report here", key="profile.show_report"):
                html = report_bytes(report.id).decode("utf-8")
                st.iframe(profile_report.sandboxed(html), height=900, alt="Full profile report")
        elif job is not None and job.status in jobs.ACTIVE:
            @st.fragment(run_every=1.5)
            def _progress(job_id: int) -> None:
                with store.read_session(shell.engine()) as s:
                    current = jobs.get_job(s, job_id)
                if current.status not in jobs.ACTIVE:
                    st.rerun()
                st.progress(current.progress, text=current.message or "Waiting for a worker...")
                if st.button("Cancel", key="profile.cancel_report"):
                    with store.write_session(shell.engine()) as s:
                        jobs.request_cancel(s, job_id)
            st.caption("The full report is being made in the background; you can leave this page.")
            _progress(job.id)
        else:
            if job is not None and job.status == "failed":
                st.error(md(job.error), icon=":material/error:")
            rows = f" on a random sample of {sample:,} of {prof.rows:,} rows" if prof.rows > sample else ""
            st.markdown(f"ydata-profiling's full report: every column in depth, interactions, more correlations. "
                        f"It runs in the background{md(rows)} and is kept in the project.")
            if st.button("Make the full report", type="primary", key="profile.make_report"):
                jobs.submit_and_start(project_id=project.id, kind=profile_report.JOB_KIND, dataset_id=dataset.id,
                                      params={"clean_steps": steps, "target": target, "sample_rows": sample},
                                      engine=shell.engine())
                st.rerun()
