"""User data never runs or renders as markup, on every page that shows it, in a real browser.

One project holds a table whose column names AND values are script, HTML and Markdown
payloads, a model trained on it (stored as the Train job stores one), its stored
explanation and a stored drift report. Each page is visited; on each: no alert()
fired, no element the payloads would create exists, no payload rendered as a link or
bold text, and a payload is visible *as text* (so a page cannot pass by showing nothing).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core import datasets, drift_report, ingest, jobs, store
from tests.e2e.conftest import AppServer, wait_for_app

pytestmark = pytest.mark.e2e

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
SVG = '"><svg onload=alert(3)>'
LINK = "[link](javascript:alert(4))"
BOLD = "**bold**"
PAYLOADS = [IMG, SCRIPT, SVG, LINK, BOLD]
# Project and dataset names only allow letters, digits and a few signs (core.store.validate_name
# refuses <, >, [, *): what Markdown they can still carry is _emphasis_ and # headings.
PROJECT = "Evil _em_ #1 (x) & 'q'"
DATASET = "Sales _u_ +2"


def _table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        IMG: rng.choice([IMG, SVG, "plain"], n),      # categorical: payload values
        SCRIPT: x.round(3),                            # numeric, predictive
        SVG: rng.choice([LINK, BOLD, SCRIPT], n),      # categorical
        LINK: rng.integers(0, 50, n),                  # numeric
        BOLD: np.where(x + rng.normal(scale=0.5, size=n) > 0, IMG, BOLD),  # the target: payload classes
    })


def _load(frame: pd.DataFrame, name: str):
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False)
    return ingest.load(buffer.getvalue(), name=name)


@pytest.fixture
def served(tmp_path):
    home = tmp_path / "app-home"
    engine = store.init_store(f"sqlite:///{home / 'assay.db'}")
    loaded = _load(_table(), f"{IMG}.csv")
    current = _load(_table(seed=1).assign(**{LINK: lambda f: f[LINK] * 3}), f"{SVG}.csv")
    with store.write_session(engine) as s:
        project_id = store.create_project(s, PROJECT).id
        datasets.save_loaded(s, project_id, "Current", current)
        dataset_id = datasets.save_loaded(s, project_id, DATASET, loaded, {"target": BOLD}).id
        # a cleaning step that changes nothing but shows payloads in its description
        store.save_recipe(s, dataset_id, {"clean": [{"kind": "replace_values", "column": SVG,
                                                     "pairs": [["[x](javascript:alert(5))", BOLD]]}],
                                           "features": [{"kind": "frequency", "columns": [IMG], "keep_original": True}]},
                          expected_head=None, note=f"Add: {IMG}")
        train = jobs.submit(s, project_id=project_id, kind="train", dataset_id=dataset_id, params={
            "dataset_id": dataset_id, "config": {"target": BOLD, "time_budget": 3, "families": ["linear", "catboost"],
                                                 "threads": 1}}).id
    assert jobs.run_job(train, engine) == "done"  # a real (short) training run, as the Train page starts one
    with store.read_session(engine) as s:
        model_id = s.scalar(sa.select(store.Model.id).where(store.Model.project_id == project_id))
    with store.write_session(engine) as s:
        explain = jobs.submit(s, project_id=project_id, kind="explain", dataset_id=dataset_id,
                              params={"model_id": model_id, "dataset_id": dataset_id, "rows": 5000}).id
    assert jobs.run_job(explain, engine) == "done"
    drift_report.compare_and_store(engine, project_id, loaded.frame, current.frame, key="xss",
                                   dataset_id=dataset_id, reference_name=DATASET, current_name=f"{SVG}.csv")
    store.dispose_engines()
    server = AppServer(home).start()
    yield server, project_id
    server.stop()


INJECTED = """() => {
  const hits = [];
  for (const el of document.querySelectorAll('img[src="x"], img[onerror], svg[onload], [onerror], [onload]'))
    hits.push(el.outerHTML.slice(0, 120));
  for (const el of document.querySelectorAll('script'))
    if ((el.textContent || '').includes('alert(')) hits.push(el.outerHTML.slice(0, 120));
  for (const el of document.querySelectorAll('a[href^="javascript:" i]')) hits.push(el.outerHTML.slice(0, 120));
  for (const el of document.querySelectorAll('strong, b, em'))
    if (['bold', 'em', 'u'].includes((el.textContent || '').trim())) hits.push(el.outerHTML.slice(0, 120));
  for (const el of document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
    if ((el.textContent || '').trim().startsWith('1 (x)')) hits.push(el.outerHTML.slice(0, 120));
  return hits;
}"""


def _check(page, where: str, expected: list[str]) -> None:
    """No payload ran or rendered; each of ``expected`` shows as plain text on the page."""
    wait_for_app(page)
    for text in expected:
        expect(page.locator('[data-testid="stMain"]').get_by_text(text, exact=False).filter(visible=True).first).to_be_visible()
    assert page.evaluate(INJECTED) == [], where
    assert page.dialogs == [], where


PAGES = [
    # (link, what shows as text there) -- payloads shown in labels, captions, headings, messages, tables
    ("Data", [PROJECT]),
    ("Profile", [IMG]),
    ("Clean", [f"Replace in {SVG!r}: '[x](javascript:alert(5))' → {BOLD!r}"]),
    ("Features", [f"Frequency encoding of {IMG!r}"]),
    ("Train", [f"predicting {BOLD}"]),
    ("Explanations", [BOLD]),
    ("Drift", [f"columns drifted ({LINK})", f"current {SVG}.csv"]),
    ("Predict", [BOLD]),
]


def test_no_page_runs_or_renders_user_data(served, page):
    server, project_id = served
    page.goto(f"{server.url}/?project={project_id}", wait_until="domcontentloaded")
    expect(page.get_by_text(f"Project {PROJECT}").first).to_be_visible()
    for link, expected in PAGES:
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.locator("h1").first).to_have_text(link)
        _check(page, link, expected)
