"""Streamlit helpers of the Explanations page: cached loads, job progress, the what-if form, plain-words notes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import streamlit as st

from core import jobs, store
from core.charts.explain import number, permutation_figure, probability_of, short_value
from core.explain import Explainer, Explanation, Importance, strongest_interaction, to_probability
from ui.scoring import bundle_of
from ui.shell import engine
from ui.text import md

_FORM_COLUMNS = 24


@st.cache_resource(max_entries=4, show_spinner="Loading the explanation...")
def explanation(blob_sha: str) -> Explanation:
    """A stored explanation, keyed by its content (a replaced report may get the same id). Never modify it."""
    with store.read_session(engine()) as s:
        return Explanation.from_parquet(store.get_blob(s, blob_sha))


@st.cache_resource(max_entries=2, show_spinner="Preparing the model's explainer...")
def explainer(blob_sha: str) -> Explainer:
    """The model's SHAP machinery (``.bundle`` is the model), shared by every session, keyed by the model's bytes."""
    return Explainer(bundle_of(blob_sha))


@st.cache_data(max_entries=32, show_spinner=False)
def interaction(blob_sha: str, feature: str, k: int) -> str | None:
    """The column that interacts most with ``feature`` in a stored explanation (computed once)."""
    return strongest_interaction(explanation(blob_sha), feature, k)


def job_progress(job_id: int) -> None:
    """Live progress of a running explain job; reruns the page when it ends."""

    @st.fragment(run_every=1.0)
    def live() -> None:
        with store.read_session(engine()) as s:
            job = jobs.get_job(s, job_id)
            status, progress, message = job.status, job.progress, job.message
        if status in jobs.FINISHED:
            st.rerun()
        st.progress(progress, text=message or "Waiting for a worker to start...")
        if st.button("Cancel", key="explain.cancel", icon=":material/stop:"):
            with store.write_session(engine()) as s:
                jobs.request_cancel(s, job_id)

    live()


def space_note(expl: Explanation, k: int) -> str:
    """What the numbers are, in plain words (Markdown; user text escaped)."""
    output = md(expl.outputs[k])
    if expl.space == "value":
        return (f"Effects are in the unit of **{output}**: an effect of +10 means this column pushed the prediction "
                "10 units above the typical prediction.")
    if expl.space == "probability":
        members = len(expl.info.get("members", [])) > 1
        why = "it averages the probabilities of its models" if members else "its trees vote with probabilities"
        return (f"Effects are in **probability of {output}** ({why}): +5% means this column raised the "
                "probability by 5 percentage points.")
    if expl.space == "log-odds":
        return (f"Effects are in **log-odds of {output}**, the scale this model adds up in: +0.7 roughly doubles "
                "the odds, −0.7 halves them. Each row also shows its probability.")
    return (f"Effects are in **the score of class {output}**, the scale this model adds up in; the class with the "
            "highest score is the most probable one (softmax turns scores into probabilities).")


def prediction_panel(expl: Explanation, label, k: int, before: tuple[Explanation, object] | None = None) -> None:
    """The row's prediction (with its probability, and log-odds for a binary model) and actual value.

    With ``before`` (an explanation and a row label) the numbers show their change from that row.
    """
    position = expl.X.index.get_loc(label)
    old = None if before is None else (before[0], before[0].X.index.get_loc(before[1]))
    value = expl.predictions["prediction"].iloc[position]
    delta = None
    if expl.task == "regression" and old is not None:
        delta = number(float(value) - float(old[0].predictions["prediction"].iloc[old[1]]), sign=True)
    st.metric("Prediction", short_value(value), delta=delta)
    p = probability_of(expl, position, k)
    if p is not None:
        delta = None if old is None else f"{100 * (p - probability_of(old[0], old[1], k)):+.1f} points"
        st.metric(f"Probability of {md(expl.outputs[k])}", f"{p:.1%}", delta=delta)
    if expl.space == "log-odds":
        score = expl.output(k)[position]
        typical = to_probability(expl, k, [expl.base[k]])[0]
        st.caption(f"In log-odds, the scale the model adds up in: {expl.base[k]:+.2f} for a typical row "
                   f"(probability {typical:.1%}), {score:+.2f} for this one.")
    if expl.actual is not None and not pd.isna(expl.actual.iloc[position]):
        st.metric("Actual" if before is None else "Actual (of the row as it is in the data)",
                  short_value(expl.actual.iloc[position]))


def holdout_label(holdout: Importance) -> str:
    """The plain heading of the holdout importance (Markdown, user text escaped)."""
    return (f"Permutation importance on the holdout: {holdout.rows:,} rows the model never saw, "
            f"metric {md(holdout.metric_label)}")


def holdout_panel(holdout: Importance | None, why: str, key: str) -> None:
    """The holdout permutation importance measured at training time (over the data's columns, before
    the feature steps), for the right of a chart of the model's features; ``why`` when there is none."""
    if holdout is None:
        st.info(md(why), icon=":material/info:")
        return
    st.markdown(f"**{holdout_label(holdout)}**")
    st.plotly_chart(permutation_figure(holdout, title="What the model needs on new rows"), key=key)
    top = int(np.argmax(holdout.mean))
    st.caption(f"How much worse the model scores ({md(holdout.metric_label)}) when one column's values are "
               f"shuffled among the holdout rows: shuffling **{md(holdout.features[top])}** costs the most "
               f"({number(holdout.mean[top])}). Near zero: the model can do without the column, perhaps "
               "because another one carries the same information. These are the data's columns before the "
               "feature steps: shuffling one shuffles everything made from it, so one bar here can stand for "
               f"several on the left. Measured {md(holdout.note)}.")


def importance_panel(expl: Explanation, holdout: Importance | None, why: str, order: list[str],
                     other_data: bool) -> None:
    """Permutation importance beside the SHAP bars: the holdout's (measured at training time, over the
    data's columns), and the explained rows' when they are labelled rows of another dataset (``other_data``;
    an explanation stored before this rule may hold one for the training rows: it is not shown)."""
    holdout_panel(holdout, why, key="explain.pi_holdout")
    if expl.importance is not None and other_data:
        imp = expl.importance
        st.markdown(f"**Permutation importance on these rows: {imp.rows:,} labelled rows, "
                    f"metric {md(imp.metric_label)}**")
        st.plotly_chart(permutation_figure(imp, order, title="What the model needs on these rows"),
                        key="explain.pi_rows")
        st.caption(f"The same measure on the explained rows, over the model's input features (as on the left); "
                   f"{md(imp.note)}.")
    elif expl.info.get("importance_error") and other_data:
        st.caption(f"No permutation importance on these rows: {md(expl.info['importance_error'])}")


_WIDGET_OF_FAMILY = {"boolean": "boolean", "integer": "number", "float": "number", "datetime": "datetime",
                     "other": "label"}


def _kind(series: pd.Series) -> str:
    """The widget a column's values need, from the data itself."""
    from core.schema import dtype_family

    return _WIDGET_OF_FAMILY[dtype_family(series)]


def _widget(column: str, kind: str, value, options: list, key: str):
    label = str(column)
    missing = value is None or (not isinstance(value, str) and pd.isna(value))
    if kind == "number":
        return st.number_input(label, value=None if missing else float(value), key=key, format="%g",
                               help="Leave empty for a missing value.")
    if kind == "datetime":
        stamp = None if missing else pd.Timestamp(value)
        text = st.text_input(label, value="" if stamp is None else stamp.isoformat(sep=" "), key=key,
                             help="A date such as 2024-05-31 or 2024-05-31 14:00; empty for missing.")
        return text or None
    if kind == "boolean":
        choices = [True, False, None]
        return st.selectbox(label, choices, index=choices.index(None if missing else bool(value)), key=key,
                            format_func=lambda v: "missing" if v is None else str(v))
    if options:
        choices = list(dict.fromkeys([None if missing else value, *options]))
        return st.selectbox(label, choices, index=0, key=key, accept_new_options=True,
                            format_func=lambda v: "missing" if v is None else str(v))
    return st.text_input(label, value="" if missing else str(value), key=key) or None


def what_if_form(row: pd.DataFrame, inputs: list[str], frame: pd.DataFrame, order: list[str],
                 key: str) -> dict | None:
    """A form with the row's values of the model's columns (``inputs``, most important first as in
    ``order``); returns the changed ones when submitted."""
    columns = [c for c in order if c in inputs] + [c for c in inputs if c not in order]
    shown = columns[:_FORM_COLUMNS]
    values = {}
    with st.form(key):
        grid = st.columns(3)
        for i, column in enumerate(shown):
            kind = _kind(frame[column])
            options = frame[column].dropna().value_counts().index[:200].tolist() if kind == "label" else []
            with grid[i % 3]:
                values[column] = _widget(column, kind, row[column].iloc[0], options, f"{key}.{i}")
        if len(columns) > len(shown):
            st.caption(f"{len(columns) - len(shown)} less important columns keep this row's values.")
        submitted = st.form_submit_button("Predict with these values", type="primary", icon=":material/bolt:")
    if not submitted:
        return None
    return {c: v for c, v in values.items() if not _same(row[c].iloc[0], v)}


def _same(old, new) -> bool:
    old_missing = old is None or (not isinstance(old, str) and pd.isna(old))
    if new is None:
        return old_missing
    if old_missing:
        return False
    if isinstance(old, (pd.Timestamp, dt.datetime, dt.date)):
        try:
            return pd.Timestamp(new) == pd.Timestamp(old)
        except (TypeError, ValueError):
            return False
    if isinstance(new, float) and isinstance(old, (int, float, np.number)) and not isinstance(old, bool):
        return float(old) == new
    return str(old) == str(new)
