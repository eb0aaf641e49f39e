"""Streamlit helpers of the Train page: runs, pre-flight checks, cached bundles, cancel.

The model picker (:func:`models_of`, :func:`bundle_of`) is shared with the pages that
use trained models (explanations, drift, scoring).
"""

from __future__ import annotations

import streamlit as st

from core import jobs, store
from core.bundle import ModelBundle
from core.train import job as training
from ui.data import cleaned_frame, recipe_of
from ui.shell import engine

RUN_KEY = "train.run_id"
JOB_KEY = "train.job_id"


def runs_of(project_id: int, dataset_id: int) -> list[store.Run]:
    """The dataset's runs, newest first (runs whose worker died are marked failed first)."""
    with store.read_session(engine()) as s:
        runs = training.list_runs(s, project_id, dataset_id)
    if any(r.status == "running" for r in runs):
        with store.write_session(engine()) as s:
            jobs.reap_stale(s)
            changed = training.sync_runs(s, project_id)
        if changed:
            with store.read_session(engine()) as s:
                runs = training.list_runs(s, project_id, dataset_id)
    return runs


def run_for_job_id(job_id: int) -> store.Run | None:
    with store.read_session(engine()) as s:
        return training.run_for_job(s, job_id)


def selected_run(runs: list[store.Run], job_id: int | None) -> store.Run | None:
    """The run chosen in the picker, else the one just started, else the newest."""
    wanted = st.session_state.get(RUN_KEY)
    for run in runs:
        if run.id == wanted:
            return run
    if job_id:
        for run in runs:
            if run.job_id == job_id:
                return run
        return None
    return runs[0] if runs else None


@st.cache_data(max_entries=16, show_spinner="Checking the target…")
def _preflight(blob_sha: str, recipe_json: str, target: str, roles_json: str, dataset_id: int) -> dict:
    import json

    from core.train.checks import preflight
    from core.train.config import TrainConfig

    with store.read_session(engine()) as s:
        dataset = store.get_dataset(s, dataset_id)
    frame = cleaned_frame(dataset)
    roles = {k: v for k, v in json.loads(roles_json).items() if v != target}
    config = TrainConfig(target=target, **{r: roles.get(r) for r in ("time", "group", "id")})
    return preflight(frame, config).to_dict()


def preflight_of(dataset: store.Dataset, target: str) -> dict:
    """What training would refuse or flag for ``target``, before a worker starts (cached)."""
    import json

    recipe = recipe_of(dataset)
    return _preflight(dataset.blob_sha, recipe.to_json(indent=None), target,
                      json.dumps(dataset.roles or {}, sort_keys=True), dataset.id)


def cancel_button(job_id: int) -> None:
    if st.button("Cancel this run", icon=":material/stop_circle:", key=f"train.cancel.{job_id}"):
        with store.write_session(engine()) as s:
            jobs.request_cancel(s, job_id)
        st.toast("Cancelling: the worker stops after its current step.")


@st.cache_resource(max_entries=2, show_spinner="Loading the model…")
def bundle_bytes(blob_sha: str) -> bytes:
    with store.read_session(engine()) as s:
        return store.get_blob(s, blob_sha)


def importance_tab(blob_sha: str) -> None:
    """The model's own feature importance beside the holdout permutation importance of its run."""
    # imported here, not at the top: ui.explain brings ui.scoring and with it core.drift and
    # scipy.stats (~0.9 s), which the Train page needs only once a run has a model
    from core.charts.train import feature_importance
    from core.explain.importance import holdout_importance
    from ui.explain import holdout_panel

    bundle = bundle_of(blob_sha)
    left, right = st.columns(2)
    left.markdown("**The model's own importance: what it used when it was fitted**")
    if not bundle.importance:  # feature_importance() would show equal shares: say so instead
        left.info("Not measured: the model is neither CatBoost nor a forest (which report their own), and it "
                  "has too many inputs to shuffle one at a time, or shuffling any one changed nothing. The "
                  "holdout measurement on the right shows what it needs.", icon=":material/info:")
    else:
        left.plotly_chart(feature_importance(bundle.feature_importance()), key="train.chart.importance")
        left.caption("Each bar is a model input's share of the importance the fitted model reports (CatBoost and the "
                     "forests their own measure; other models a shuffle test on training rows), weighted over "
                     "the ensemble. It says what the model leans on, not what it needs: see the holdout on the right.")
    with right:
        holdout_panel(*holdout_importance(bundle.metadata), key="train.pi_holdout")


@st.cache_resource(max_entries=2, show_spinner="Loading the model…")
def bundle_of(blob_sha: str) -> ModelBundle:
    """A stored model bundle, loaded once (shared between sessions: never modify it)."""
    return ModelBundle.from_bytes(bundle_bytes(blob_sha))


def models_of(project_id: int) -> list[store.Model]:
    """The project's chosen models, newest first."""
    import sqlalchemy as sa

    with store.read_session(engine()) as s:
        return list(s.scalars(sa.select(store.Model).where(store.Model.project_id == project_id,
                                                           store.Model.chosen.is_(True))
                              .order_by(store.Model.id.desc())))


def live_view(run_id: int) -> None:
    """Progress of a running run, refreshed every second; the page reruns when it ends."""
    from core.charts import train as charts
    from core.train import board

    @st.fragment(run_every=1.0)
    def live() -> None:
        with store.read_session(engine()) as s:
            run = training.get_run(s, run_id)
            job = jobs.get_job(s, run.job_id)
        if job.status in jobs.FINISHED or run.status != "running":
            st.rerun()
        info = (run.metrics or {}).get("live", {})
        budget = float(run.config.get("time_budget", 60.0))
        elapsed = (store.utcnow() - run.created_at).total_seconds()
        records = run.leaderboard or []
        greater = info.get("greater_is_better", True)
        label = info.get("metric_label", "score")
        scores = [r["cv_mean"] for r in records if r.get("cv_mean") is not None]
        best = (max(scores) if greater else min(scores)) if scores else None
        st.progress(min(max(job.progress, elapsed / budget), 1.0), text=job.message or "Starting…")
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Trials finished", len(scores))
        m2.metric(f"Best CV {label} so far", "—" if best is None else f"{best:.4f}")
        m3.metric("Elapsed", f"{elapsed:.0f} s")
        m4.metric("Remaining", f"{max(budget - elapsed, 0):.0f} s")
        if info.get("validation"):
            st.caption(f"Validation: {info['validation']}. The page updates every second; closing it does not "
                       "stop the run.")
        if scores:
            st.plotly_chart(charts.score_over_trials(records, label, greater), key=f"train.live_chart.{run_id}")
            st.dataframe(board.leaderboard_table(records, greater), hide_index=True, height=240)
        cancel_button(run.job_id)

    live()
