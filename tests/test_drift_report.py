"""Drift results in the store (SQLite and PostgreSQL) and as JSON and HTML files."""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import pytest

from core import drift, drift_report, store
from core.errors import NotFoundError

EVIL = "</script><script>alert(1)</script>"


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"amount": rng.normal(100, 10, 3000), EVIL: rng.choice(["a", "b"], 3000),
                        "note": [None] * 3000})
    cur = pd.DataFrame({"amount": rng.normal(115, 10, 3000), EVIL: rng.choice(["a", "b", "<img src=x>"], 3000),
                        "note": [None] * 3000})
    return ref, cur


def test_store_once_and_read_back(any_engine, tables):
    ref, cur = tables
    with store.write_session(any_engine) as s:
        project_id = store.create_project(s, "Drift").id
    config = drift.DriftConfig()
    key = drift_report.report_key({"file": "a"}, {"file": "b"}, config)
    calls = []
    first = drift_report.compare_and_store(any_engine, project_id, ref, cur, key=key, config=config,
                                           reference_name="jan", current_name="feb",
                                           progress=lambda f, m: calls.append(m))
    again = drift_report.compare_and_store(any_engine, project_id, ref, cur, key=key, config=config,
                                           progress=lambda f, m: calls.append(m))
    assert first == again and calls.count("Done") == 1  # the second call read the stored answer
    result = drift_report.load_result(any_engine, first, project_id)
    assert result.status == "drift" and result.column("amount").status == "drift"
    assert result.column("note").reasons == ["every value is missing in the reference table"]
    with store.read_session(any_engine) as s:
        [listed] = store.list_reports(s, project_id, kind="drift")
        assert (listed.id, listed.title, listed.key) == (first, "jan → feb", key)
    other = drift_report.report_key({"file": "a"}, {"file": "b"}, drift.DriftConfig(alpha=0.01))
    assert other != key
    with store.write_session(any_engine) as s:
        other_project = store.create_project(s, "Other").id
    with pytest.raises(NotFoundError, match=f"Report {first} does not exist in this project."):
        drift_report.load_result(any_engine, first, other_project)
    with store.write_session(any_engine) as s:
        store.delete_report(s, first, project_id)
    with store.read_session(any_engine) as s:
        assert store.list_reports(s, project_id) == []


def test_json_export_is_strict_and_round_trips(tables):
    result = drift.compare(*tables)
    text = drift_report.to_json(result)
    data = json.loads(text)  # NaN would not parse as strict JSON elsewhere; we write null
    assert "NaN" not in text and data["drifted"] == [c.name for c in result.drifted]
    assert drift.DriftResult.from_dict(data).headline == result.headline


def test_html_export_escapes_user_text_and_is_sortable(tables):
    result = drift.compare(*tables, reference_name="<b>jan</b>", current_name="feb")
    page = drift_report.to_html(result)
    assert EVIL not in page and "<img src=x>" not in page and "<b>jan</b>" not in page
    assert "&lt;b&gt;jan&lt;/b&gt;" in page
    assert html.escape(result.headline) in page
    assert page.count("<table class=\"sortable\">") == 1 and "localeCompare" in page
    assert page.count("plotly.js v") == 1  # plotly embedded once: the file opens offline
    assert 'data-sort="0"' in page  # status sorts by severity, not alphabetically
