"""Train: pick a target and a time budget; a worker searches for the best model while this page shows it live."""

import pandas as pd
import streamlit as st

from core import jobs, store
from core.charts import train as charts
from core.errors import AssayError
from core.train import board
from core.train import job as training
from core.train.config import DEFAULT_BUDGET
from core.train.tasks import TASKS, get_metric, metrics_for
from core.train.zoo import FAMILIES, FAMILY_LABELS
from ui import shell
from ui.data import cleaned_frame, dataset_picker
from ui.text import md
from ui.training import bundle_bytes, importance_tab, live_view, preflight_of, run_for_job_id, runs_of, selected_run

project = shell.require_project()
st.title("Train")
st.caption("Assay searches CatBoost, gradient boosting, forests and linear models within your time budget, "
           "validates them honestly and keeps the best model (or ensemble) in the project.")

dataset = dataset_picker(project.id, key="train.dataset")
if dataset is None:
    st.stop()
frame = cleaned_frame(dataset)
columns = [str(c) for c in frame.columns]
roles = dataset.roles or {}

# ----------------------------------------------------------------------------- new run
runs = runs_of(project.id, dataset.id)
active = [r for r in runs if r.status == "running"]
with st.expander("New training run", expanded=not runs, icon=":material/model_training:"):
    default_target = roles.get("target") if roles.get("target") in columns else columns[-1]
    target = st.selectbox("Target: the column to predict", columns, index=columns.index(default_target),
                          key="train.target")
    try:
        check = preflight_of(dataset, target)
    except AssayError as exc:
        shell.show_error(exc)
        check = None
    if check is not None:
        classes = f" · {len(check['classes'])} classes" if check["classes"] else ""
        st.markdown(f"Detected task: **{check['task']}** ({md(check['task_reason'])}){classes} · "
                    f"{check['rows_used']:,} rows with a target")
        for warning in check["warnings"]:
            st.warning(warning, icon=":material/warning:")
    with st.form("train.form", border=False):
        c1, c2, c3, c4 = st.columns(4)
        task = c1.selectbox("Task", ["detected", *TASKS], key="train.task")
        shown_task = check["task"] if (task == "detected" and check) else (task if task != "detected" else "binary")
        metric = c2.selectbox("Metric to optimise", metrics_for(shown_task), key="train.metric",
                              format_func=lambda m: get_metric(shown_task, m).label,
                              help="The default comes first. Change the task first if it was detected wrongly.")
        budget = c3.number_input("Time budget (seconds)", min_value=1, max_value=86_400, value=int(DEFAULT_BUDGET),
                                 step=10, key="train.budget", help="Everything included: search, refit, saving.")
        seed = c4.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="train.seed")
        with st.expander("Validation and models"):
            a1, a2, a3 = st.columns(3)
            folds = a1.selectbox("Folds", ["automatic", *range(2, 11), 1], key="train.folds",
                                 help="Automatic: 5 on small tables, fewer when fitting is costly. "
                                      "1 = a single validation part.")
            holdout = a2.slider("Holdout share", 0.05, 0.5, 0.2, 0.05, key="train.holdout",
                                help="Rows the search never sees; the chosen model is scored on them at the end.")
            workers = a3.number_input("Workers", 1, 64, 1, key="train.workers",
                                      help="More than 1 needs a PostgreSQL store and `assay worker` processes.")
            families = st.multiselect("Model families", list(FAMILIES), default=list(FAMILIES),
                                      format_func=FAMILY_LABELS.get, key="train.families")
            b1, b2, b3 = st.columns(3)
            class_weights = b1.toggle("Weight classes by rarity", key="train.class_weights")
            keep_leaks = b2.toggle("Keep suspected leak columns", key="train.keep_leaks")
            threshold_metric = b3.selectbox("Tune the binary threshold for", ["f1", "accuracy", "balanced_accuracy"],
                                            key="train.threshold_metric")
        start = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:",
                                      disabled=check is None, key="train.start")
    if start:
        config = {
            "target": target, "task": None if task == "detected" else task, "metric": metric,
            "time_budget": float(budget), "seed": int(seed), "folds": None if folds == "automatic" else int(folds),
            "holdout_share": float(holdout), "families": families or list(FAMILIES), "class_weights": class_weights,
            "keep_suspected_leaks": keep_leaks, "workers": int(workers),
            "threshold_metric": threshold_metric if shown_task == "binary" else None,
        }
        if config["task"] is None and check and metric not in metrics_for(check["task"]):
            config["metric"] = None
        for role in ("time", "group", "id"):
            if roles.get(role) and roles[role] != target:
                config[role] = roles[role]
        try:
            job_id = training.start_training(shell.engine(), project.id, dataset.id, config)
        except AssayError as exc:
            shell.show_error(exc)
        else:
            st.session_state["train.job_id"] = job_id
            st.session_state.pop("train.run_id", None)
            st.rerun()

# ----------------------------------------------------------------------------- a run
run = selected_run(runs, st.session_state.get("train.job_id"))
job_id = st.session_state.get("train.job_id")
if run is None and job_id:
    run = run_for_job_id(job_id)
if run is None:
    if job_id:
        st.info("Starting the worker…", icon=":material/hourglass_top:")
        st.fragment(lambda: st.rerun() if run_for_job_id(job_id) else None, run_every=1.0)()
    else:
        st.info("No training run for this dataset yet: choose a target and start one above.")
    st.stop()

if len(runs) > 1:
    ids = [r.id for r in runs]
    chosen_id = st.selectbox("Run", ids, index=ids.index(run.id), key="train.run_pick",
                             format_func=lambda i: next(f"Run {r.id} · {r.target} · {r.status} · "
                                                        f"{r.created_at:%Y-%m-%d %H:%M}" for r in runs if r.id == i))
    if chosen_id != run.id:
        st.session_state["train.run_id"] = chosen_id
        st.session_state.pop("train.job_id", None)
        st.rerun()
st.subheader(f"Run {run.id}: predicting {md(run.target)}")

if run.status == "running":
    live_view(run.id)
    st.stop()

if run.status != "done":
    with store.read_session(shell.engine()) as s:
        job = jobs.get_job(s, run.job_id) if run.job_id else None
    st.error(md(f"This run {run.status}: {(job.error if job else '') or (run.metrics or {}).get('error', '')}"),
             icon=":material/error:")
    st.stop()

summary = run.metrics["summary"]
evaluation = run.metrics["evaluation"]
greater = summary["greater_is_better"]
label = summary["metric_label"]
k1, k2, k3, k4 = st.columns(4)
k1.metric(f"Holdout {label}", f"{summary['holdout']:.4f}" if summary["holdout"] is not None else "—",
          help=f"{summary['rows']['holdout']:,} rows the search never saw.")
k2.metric(f"Trivial baseline {label}",
          f"{summary['holdout_baseline']:.4f}" if summary["holdout_baseline"] is not None else "—",
          help="Predicting the training class shares (or mean) for every row.")
k3.metric(f"CV {label} (± {summary['cv']['std']:.4f})", f"{summary['cv']['mean']:.4f}",
          help=f"Best single model: mean and standard deviation over the folds ({summary['validation']}).")
chosen = summary["chosen"]
k4.metric("Chosen model", "Ensemble" if chosen["kind"] == "ensemble" else FAMILY_LABELS[chosen["best_family"]],
          help=f"Refitted on {summary['refit']} with the iteration counts found in cross-validation.")
if summary.get("threshold") is not None:
    st.info(f"Decision threshold: predict **{md(summary['positive_class'])}** when its probability is at least "
            f"**{summary['threshold']:.3f}** (tuned for {summary['threshold_metric']} on out-of-fold predictions; "
            f"0.5 is the usual default).", icon=":material/tune:")
for warning in summary.get("warnings", []):
    st.warning(warning, icon=":material/warning:")

st.markdown("**Leaderboard** · every trial, best first; CV mean ± std over the folds; "
            "the chosen model's holdout score.")
table = board.leaderboard_table(run.leaderboard, greater)
st.dataframe(table, hide_index=True, height=min(38 * (len(table) + 1), 420),
             column_config={"CV mean": st.column_config.NumberColumn(format="%.4f"),
                            "CV ±": st.column_config.NumberColumn(format="%.4f"),
                            "Holdout": st.column_config.NumberColumn(format="%.4f"),
                            "Fit s": st.column_config.NumberColumn(format="%.2f"),
                            "Predict ms/1k": st.column_config.NumberColumn(format="%.1f",
                                                                          help="Milliseconds to predict 1,000 rows"),
                            "Settings": st.column_config.TextColumn(width="large")})
with st.expander("Best of each model family"):
    st.dataframe(board.family_table(run.leaderboard, greater), hide_index=True)

charts_tabs = ["Search"] + (["Confusion matrix", "ROC", "Precision-recall", "Calibration"]
                            if summary["task"] != "regression" else ["Predicted vs actual", "Residuals"])
tabs = st.tabs([*charts_tabs, "Importance", "Details"])
tabs[0].plotly_chart(charts.score_over_trials(run.leaderboard, label, greater), key="train.chart.search")
if summary["task"] != "regression":
    tabs[1].plotly_chart(charts.confusion_matrix(evaluation), key="train.chart.confusion")
    tabs[2].plotly_chart(charts.roc_curves(evaluation), key="train.chart.roc")
    tabs[3].plotly_chart(charts.pr_curves(evaluation), key="train.chart.pr")
    tabs[4].plotly_chart(charts.calibration(evaluation), key="train.chart.calibration")
else:
    tabs[1].plotly_chart(charts.predicted_vs_actual(evaluation, run.target), key="train.chart.pva")
    tabs[2].plotly_chart(charts.residuals(evaluation, run.target), key="train.chart.residuals")
with store.read_session(shell.engine()) as s:
    model = training.chosen_model(s, run.id)
if model is not None:
    with tabs[-2]:
        importance_tab(model.blob_sha)
    st.download_button("Download the model (zip)", data=bundle_bytes(model.blob_sha),
                       file_name=f"assay-model-run-{run.id}.zip", mime="application/zip",
                       icon=":material/download:", key="train.download",
                       help="Recipe, model files, metadata and a README on loading it; no pickle inside.")
with tabs[-1]:
    scores = pd.DataFrame([{"metric": k, "holdout": v, "trivial baseline": evaluation.get("baseline_scores", {}).get(k)}
                           for k, v in evaluation["scores"].items()])
    st.dataframe(scores, hide_index=True)
    left_out = summary.get("left_out", {})
    if left_out:
        st.markdown("**Columns left out of the model**")
        st.dataframe(pd.DataFrame({"column": list(left_out), "why": list(left_out.values())}), hide_index=True)
    st.json({k: summary[k] for k in ("validation", "folds", "rows", "seed", "time_budget", "refit", "timings",
                                     "base_learning_rate", "threads") if k in summary}, expanded=False)
