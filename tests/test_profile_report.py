"""The full ydata-profiling report: made in a real worker, stored, hardened, sandboxed."""

from __future__ import annotations

import html as _html
import re

import numpy as np
import pandas as pd
import pytest

from core import datasets, ingest, jobs, profile_report, store
from core.profile_report import build_report, harden_html, report_key, sandboxed
from core.recipe import Recipe
from tests.conftest import dataset_path

PAYLOAD = "<img src=x onerror=alert(1)>"


def _csp(html: str) -> str:
    return re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html).group(1)


@pytest.fixture(scope="module")
def small_report() -> tuple[str, dict]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.normal(size=120).round(2), "city": rng.choice(["Oslo", PAYLOAD], 120),
                          PAYLOAD: rng.integers(0, 5, 120)})
    return build_report(frame, title="payload", sample_rows=100)


def test_report_is_sampled_and_says_so(small_report):
    html, meta = small_report
    assert (meta["rows"], meta["profiled_rows"], meta["sampled"]) == (120, 100, True)
    assert "A random sample of 100 of 120 rows (seed 0)." in html
    assert meta["size_bytes"] == len(html.encode()) and meta["ydata_profiling"].startswith("4.")


def test_only_ydatas_own_scripts_may_run(small_report):
    html, _ = small_report
    policy = _csp(html)
    assert html.index("Content-Security-Policy") < html.index("<script")  # before any script
    allowed = re.findall(r"'sha256-[^']+'", policy)
    assert len(allowed) == len(re.findall(r"<script>", html)) == 2  # bootstrap + ydata's script.js
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "default-src 'none'" in policy and "img-src data:" in policy


def test_an_injected_script_gets_no_hash():
    page = "<!doctype html><html><head></head><body><script>alert(1)</script><p>x</p></body></html>"
    hardened = harden_html(page)
    assert "script-src 'none'" in _csp(hardened)
    assert hardened.startswith('<!doctype html><meta http-equiv="Content-Security-Policy"')
    assert harden_html("<p>no doctype</p>").startswith('<meta http-equiv="Content-Security-Policy"')


def test_sandboxed_page_keeps_the_report_out_of_the_apps_origin(small_report):
    html, _ = small_report
    outer = sandboxed(html)
    frame_tag = re.search(r"<iframe[^>]*>", outer).group(0)
    assert 'sandbox="allow-scripts"' in frame_tag and "allow-same-origin" not in outer
    srcdoc = re.search(r'srcdoc="([^"]*)"', outer, re.S).group(1)
    assert "<" not in srcdoc and _html.unescape(srcdoc) == html  # escaped into the attribute, whole


def test_mixed_object_columns_are_profiled_as_text():
    frame = pd.DataFrame({"mixed": [1, "one", 2.5, None, True] * 8, "n": range(40)})
    html, meta = build_report(frame, title="mixed")
    assert meta["profiled_rows"] == 40 and "mixed" in html


def test_the_job_makes_stores_and_keys_the_report(engine, project_id):
    loaded = ingest.load(dataset_path("penguins.csv"))
    steps = Recipe.from_dict({"clean": [{"kind": "drop_columns", "columns": ["year"]}]}).to_dict()["clean"]
    with store.write_session(engine) as s:
        dataset = datasets.save_loaded(s, project_id, "penguins", loaded, {"target": "species"})
    job_id = jobs.submit_and_start(project_id=project_id, kind=profile_report.JOB_KIND, dataset_id=dataset.id,
                                   params={"clean_steps": steps, "target": "species", "sample_rows": 300},
                                   engine=engine)
    job = jobs.wait(job_id, engine=engine, timeout=300)
    assert job.status == "done", job.error + job.log
    assert job.result["profiled_rows"] == 300 and job.result["sampled"] is True and job.progress == 1.0
    assert "Profiling 344 rows x 7 columns on a sample of 300 rows" in job.log
    with store.read_session(engine) as s:
        report = profile_report.find_report(s, dataset.id, report_key(dataset.blob_sha, steps, "species", 300))
        html = profile_report.report_html(s, report)
    assert report.id == job.result["report_id"] and report.data["rows"] == 344
    assert "Content-Security-Policy" in html and "bill_length_mm" in html and "year" not in re.findall(
        r'<option value="?([^">]*)', html)


def test_a_job_without_a_dataset_fails_with_a_reason(engine, project_id):
    job_id = jobs.submit_and_start(project_id=project_id, kind=profile_report.JOB_KIND, params={}, engine=engine)
    job = jobs.wait(job_id, engine=engine, timeout=120)
    assert (job.status, job.error) == ("failed", "A profile report needs a dataset.")
