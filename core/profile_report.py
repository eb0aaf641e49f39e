"""The full ydata-profiling report, made in a job and kept in the project as HTML.

ydata-profiling is thorough but slow and memory-hungry, so it runs as a job
(``profile_report``) in a worker process, on a seeded sample of at most 50,000 rows
when the table is larger (the report and the page say so). Scatter plots of every
pair of numbers grow with the square of the columns: with a target they are drawn
against the target only; without one, only for tables with at most 6 numeric columns.

The report carries JavaScript and the user's data. ydata-profiling 4.18 does not
escape column names everywhere (a column named ``<img src=x onerror=...>`` becomes
an element in its variable picker), so :func:`harden_html` adds a Content Security
Policy that lets only ydata's own two scripts run (by their sha256) and loads
nothing from the network: injected markup stays inert wherever the file is opened.
The page then shows it through :func:`sandboxed`: inside an iframe sandboxed without
``allow-same-origin`` (an opaque origin), so even a script that ran could not reach
the app's page, cookies or storage.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import jsonutil, store
from core.errors import JobError

__all__ = ["JOB_KIND", "REPORT_KIND", "SAMPLE_ROWS", "build_report", "harden_html", "sandboxed", "report_key",
           "find_report", "report_html", "save_report", "run_report_job"]

JOB_KIND = "profile_report"
REPORT_KIND = "ydata_report"
SAMPLE_ROWS = 50_000
PAIRWISE_LIMIT = 6  # numeric columns up to which every pair gets a scatter plot (no target)
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def report_key(blob_sha: str, clean_steps: list, target: str | None, sample_rows: int = SAMPLE_ROWS) -> str:
    steps = jsonutil.canonical_sha(clean_steps)[:24] if clean_steps else "raw"
    goal = jsonutil.canonical_sha(target)[:16] if target else "none"
    return f"ydata/v1/{blob_sha}/{steps}/{goal}/{sample_rows}"


def _ydata():
    with warnings.catch_warnings():  # "import ydata_profiling is deprecated" (renamed upstream)
        warnings.simplefilter("ignore", DeprecationWarning)
        import ydata_profiling
    return ydata_profiling


def _trusted_hashes() -> set[str]:
    """sha256 (CSP form) of the scripts ydata-profiling ships, as they appear in its reports."""
    assets = Path(_ydata().__file__).parent / "report/presentation/flavours/html/templates/wrapper/assets"
    out = set()
    for path in assets.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        for variant in {text, text.strip(), text.rstrip("\n")}:
            out.add("'sha256-" + base64.b64encode(hashlib.sha256(variant.encode()).digest()).decode() + "'")
    return out


def harden_html(html: str) -> str:
    """Add a Content Security Policy: only ydata's own scripts run, nothing loads from the network.

    Scripts are allowed by the hash of their text, and only when that text is one of
    the files ydata-profiling ships; inline event handlers (``onerror=...``) and any
    other ``<script>`` are refused by the browser.
    """
    trusted = _trusted_hashes()
    allowed = sorted({h for h in ("'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode()).digest())
                                  .decode() + "'" for m in _SCRIPT.finditer(html)) if h in trusted})
    scripts = " ".join(allowed) or "'none'"
    policy = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
              f"script-src {scripts}; base-uri 'none'; form-action 'none'")
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    # first thing after the doctype: the parser puts it in the (implied) head, before any script
    doctype = re.match(r"\s*<!doctype[^>]*>", html, re.I)
    at = doctype.end() if doctype else 0
    return html[:at] + meta + html[at:]


def sandboxed(html: str) -> str:
    """A page that shows ``html`` in an iframe whose scripts run in an opaque origin.

    Streamlit's own iframes allow scripts *and* the app's origin, so the report is put
    one level deeper, in ``<iframe sandbox="allow-scripts" srcdoc=...>`` (no
    ``allow-same-origin``, no popups, no top navigation), with the report escaped into
    the attribute.
    """
    import html as _html

    return ('<!doctype html><html><head><style>html,body{margin:0;height:100%;overflow:hidden}'
            'iframe{border:0;width:100%;height:100%}</style></head><body>'
            f'<iframe title="Full profile report" sandbox="allow-scripts" srcdoc="{_html.escape(html, quote=True)}">'
            '</iframe></body></html>')


def _ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns ydata can digest: text names, and object columns of mixed types as text."""
    out = frame.copy(deep=False)
    out.columns = [str(c) for c in out.columns]
    for name in out.columns:
        s = out[name]
        if s.dtype == object and not pd.api.types.infer_dtype(s, skipna=True) == "string":
            out[name] = s.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


@contextmanager
def _progress_hook(report: Callable[[float, str], None]):
    """Forward ydata's internal progress bar ("Summarize dataset") to ``report``."""
    import ydata_profiling.model.describe as describe
    from tqdm.auto import tqdm

    class Forward(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self.done = 0

        def update(self, n=1):
            self.done += n or 0
            report(self.done / max(self.total or 1, 1), "")

        def set_postfix_str(self, s="", refresh=True):
            report(self.done / max(self.total or 1, 1), str(s))

    original = getattr(describe, "tqdm", None)
    describe.tqdm = Forward
    try:
        yield
    finally:
        describe.tqdm = original


def build_report(
    frame: pd.DataFrame, *, title: str, target: str | None = None, sample_rows: int = SAMPLE_ROWS,
    seed: int = 0, progress: Callable[[float, str], None] | None = None,
) -> tuple[str, dict]:
    """The hardened HTML of ydata-profiling's full report, and what it was made from."""
    progress = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    rows = len(frame)
    data = frame
    if rows > sample_rows:
        index = np.sort(np.random.default_rng(seed).choice(rows, sample_rows, replace=False))
        data = frame.iloc[index]
    data = _ready(data)
    numeric = data.select_dtypes("number").shape[1]
    if target is not None and target in data.columns:
        interactions = {"targets": [target]}
    else:
        interactions = {"continuous": numeric <= PAIRWISE_LIMIT}
    sampled = len(data) < rows
    note = f"A random sample of {len(data):,} of {rows:,} rows (seed {seed})." if sampled else ""
    ydata = _ydata()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ydata.ProfileReport(
            data, title=title, progress_bar=False, interactions=interactions,
            dataset={"description": note} if note else None,
        )
        with _progress_hook(lambda f, m: progress(0.8 * f, m or "Describing the columns")):
            report.get_description()
        progress(0.85, "Writing the HTML")
        html = harden_html(report.to_html())
    meta = {"rows": rows, "profiled_rows": len(data), "sampled": sampled, "seed": seed, "target": target,
            "seconds": round(time.perf_counter() - started, 1), "ydata_profiling": ydata.__version__,
            "size_bytes": len(html.encode("utf-8"))}
    return html, meta


# --------------------------------------------------------------------------- store


def find_report(session: Session, dataset_id: int, key: str) -> store.Report | None:
    return session.scalar(
        sa.select(store.Report).where(store.Report.dataset_id == dataset_id, store.Report.kind == REPORT_KIND,
                                      store.Report.key == key).order_by(store.Report.id.desc()).limit(1)
    )


def report_html(session: Session, report: store.Report) -> str:
    return store.get_blob(session, report.blob_sha).decode("utf-8")


def save_report(engine, dataset: store.Dataset, steps: list, target: str | None, html: str, meta: dict, *,
                sample_rows: int = SAMPLE_ROWS) -> int:
    """Keep a report (HTML as a blob) under the key of what it was made from; return its id."""
    with store.write_session(engine) as s:
        sha = store.put_blob(s, html.encode("utf-8"))
        report = store.Report(project_id=dataset.project_id, dataset_id=dataset.id, kind=REPORT_KIND,
                              key=report_key(dataset.blob_sha, steps, target, sample_rows),
                              title=dataset.name[:500], data=meta, blob_sha=sha)
        s.add(report)
        s.flush()
        return report.id


def run_report_job(ctx, params: dict) -> dict:
    """Job handler: ``{"clean_steps": [...], "target": str | None, "sample_rows": int}``
    for the job's dataset. Stores the report; returns its id and what it was made from."""
    from core.recipe import Recipe

    if ctx.dataset_id is None:
        raise JobError("A profile report needs a dataset.")
    steps = list(params.get("clean_steps") or [])
    target = params.get("target")
    sample_rows = int(params.get("sample_rows") or SAMPLE_ROWS)
    ctx.progress(0.02, "Loading the table", force=True)
    with store.read_session(ctx.engine) as s:
        dataset = store.get_dataset(s, ctx.dataset_id, ctx.project_id)
        frame = store.read_dataset_frame(s, dataset)
        name = dataset.name
    if steps:
        frame = Recipe.from_dict({"clean": steps}).apply_clean(frame)[0]
    ctx.check_cancel()
    ctx.log(f"Profiling {len(frame):,} rows x {frame.shape[1]} columns"
            + (f" on a sample of {sample_rows:,} rows" if len(frame) > sample_rows else ""))

    def progress(fraction: float, message: str) -> None:
        ctx.check_cancel()
        ctx.progress(0.05 + 0.9 * fraction, message)

    html, meta = build_report(frame, title=f"{name}", target=target, sample_rows=sample_rows, progress=progress)
    del frame
    ctx.progress(0.96, "Saving the report", force=True)
    report_id = save_report(ctx.engine, dataset, steps, target, html, meta, sample_rows=sample_rows)
    ctx.log(f"Report saved ({meta['size_bytes'] / 2**20:.1f} MB, {meta['seconds']} s)")
    return {"report_id": report_id, **meta}
