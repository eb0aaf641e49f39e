"""The Profile page's access to stored profiles and full reports (cached, keyed by content)."""

from __future__ import annotations

import streamlit as st

from core import jobs, profile_report, store
from core.profile import Profile, dataset_profile, profile_key
from ui.data import cleaned_frame
from ui.shell import engine


@st.cache_resource(max_entries=16, show_spinner="Profiling the table...")
def _profile(store_url: str, key: str, dataset_id: int, steps_json: str, target: str | None) -> tuple[int, Profile]:
    """Keyed by the store and ``key`` (blob + cleaning steps + target): the stored profile,
    or a new one computed and stored. Shared between sessions: never modify it."""
    import json

    with store.read_session(engine()) as s:
        dataset = store.get_dataset(s, dataset_id)
    return dataset_profile(engine(), dataset, json.loads(steps_json), lambda: cleaned_frame(dataset),
                           target=target)


def profile_for(dataset: store.Dataset, steps: list, target: str | None) -> Profile:
    """The profile of the dataset as its cleaning steps leave it; computed at most once."""
    import json

    key = profile_key(dataset.blob_sha, steps, target)
    return _profile(engine().url.render_as_string(), key, dataset.id, json.dumps(steps, sort_keys=True), target)[1]


def stored_report(dataset: store.Dataset, steps: list, target: str | None) -> store.Report | None:
    key = profile_report.report_key(dataset.blob_sha, steps, target)
    with store.read_session(engine()) as s:
        return profile_report.find_report(s, dataset.id, key)


def full_report_job(dataset: store.Dataset, steps: list, target: str | None) -> store.Job | None:
    """The newest full-report job for exactly this data, steps and target (any status)."""
    with store.read_session(engine()) as s:
        for job in jobs.list_jobs(s, dataset.project_id, kind=profile_report.JOB_KIND, limit=20):
            params = job.params or {}
            if job.dataset_id == dataset.id and params.get("clean_steps", []) == steps \
                    and params.get("target") == target:
                return job
    return None


def report_bytes(report_id: int) -> bytes:
    with store.read_session(engine()) as s:
        report = s.get(store.Report, report_id)
        return store.get_blob(s, report.blob_sha)


def size_text(n: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def seconds_text(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s"
