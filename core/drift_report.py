"""Drift results in the store, and as files: JSON (the result itself) and a standalone HTML page.

A comparison is stored as a ``Report`` of kind ``"drift"`` whose ``key`` is the
sha of what it was computed from (each side's data and recipe, the slice, the
model, the thresholds), so asking the same question twice reads the answer back
instead of computing it again.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa

from core import drift, jsonutil, store
from core.errors import NotFoundError

__all__ = ["KIND", "report_key", "compare_and_store", "load_result", "to_json", "to_html"]

KIND = "drift"


def report_key(reference: dict, current: dict, config: drift.DriftConfig, **extra) -> str:
    """What a comparison was computed from, as one sha (the Report's ``key``)."""
    return jsonutil.canonical_sha({"version": drift.RESULT_VERSION, "reference": reference, "current": current,
                                   "config": config.to_dict(), **extra})


def compare_and_store(
    engine: sa.Engine,
    project_id: int,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    key: str,
    dataset_id: int | None = None,
    model_id: int | None = None,
    progress: Callable[[float, str], None] | None = None,
    **compare_kwargs,
) -> int:
    """Compare (unless a report with ``key`` exists) and store the result; returns the report id."""
    with store.read_session(engine) as s:
        found = store.find_report(s, project_id, KIND, key)
        if found is not None:
            return found.id
    result = drift.compare(reference, current, progress=progress, **compare_kwargs)
    title = f"{result.reference['name']} → {result.current['name']}"
    with store.write_session(engine) as s:
        return store.save_report(s, project_id, kind=KIND, key=key, title=title, data=result.to_dict(),
                                 dataset_id=dataset_id, model_id=model_id).id


def load_result(engine: sa.Engine, report_id: int, project_id: int) -> drift.DriftResult:
    with store.read_session(engine) as s:
        report = store.get_report(s, report_id, project_id)
        if report.kind != KIND:
            raise NotFoundError(f"Report {report_id} is not a drift report.", hint="Pick a drift report.")
        return drift.DriftResult.from_dict(report.data)


def to_json(result: drift.DriftResult) -> str:
    return jsonutil.dumps(result.to_dict(), indent=2)


# --------------------------------------------------------------------------- HTML

_COLOURS = {"drift": "#c62828", "warning": "#b26a00", "stable": "#2e7d32", "not tested": "#666"}
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
.verdict{padding:1rem 1.25rem;border-radius:8px;color:#fff;font-size:1.15rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}th{cursor:pointer;background:#f5f5f5;user-select:none}td.num{text-align:right}
td:nth-child(5){min-width:22rem}
.status{font-weight:600}.muted{color:#666;font-size:.9rem}
"""
# Sorts the table by a header click; reads only our own data-sort attributes, never user text.
_SORT_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
    var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
      var nx = parseFloat(x), ny = parseFloat(y);
      if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
      return dir * String(x).localeCompare(String(y));
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _table(frame: pd.DataFrame, sort_keys: dict[str, list] | None = None) -> str:
    sort_keys = sort_keys or {}
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for col, value in zip(frame.columns, row):
            key = sort_keys.get(col, [None] * len(frame))[i]
            missing = value is None or (isinstance(value, float) and pd.isna(value))
            sort = _e(key if key is not None else ("" if missing else value))
            shown = "" if missing else f"{value:.3g}" if isinstance(value, float) else value
            css = ' class="num"' if isinstance(value, (int, float)) else ""
            if col == "Status":
                css = f' class="status" style="color:{_COLOURS.get(str(value), "#222")}"'
            cells.append(f'<td{css} data-sort="{sort}">{_e(shown)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div style="overflow-x:auto"><table class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def to_html(result: drift.DriftResult) -> str:
    """A standalone page: verdict, schema changes, the sortable column table, the charts.

    Every user string (table and column names, labels) is escaped; charts get them as
    data. plotly.js is embedded once, so the file opens offline.
    """
    from core.charts import drift as charts

    table = charts.column_table(result)
    severity = [charts.SEVERITY[s] for s in table["Status"]]
    parts = [
        f"<h1>Drift report</h1><p class='muted'>Reference <b>{_e(result.reference['name'])}</b> "
        f"({result.reference['rows']:,} rows) · current <b>{_e(result.current['name'])}</b> "
        f"({result.current['rows']:,} rows) · {_e(result.created_at)}</p>",
        f"<div class='verdict' style='background:{_COLOURS[result.status]}'>{_e(result.headline)}</div>",
    ]
    lines = result.schema.lines()
    if lines:
        parts.append("<h2>Schema changes</h2><ul>" + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ul>")
    if result.model:
        parts.append("<h2>Model</h2>" + "".join(f"<p>{_e(x)}</p>" for x in charts.model_lines(result)))
    parts.append("<h2>Columns</h2><p class='muted'>Click a header to sort.</p>"
                 + _table(table, {"Status": severity}))
    figures = [charts.distribution_figure(result, p) for p in result.predictions]
    figures.append(charts.effect_figure(result))
    if result.domain.top:
        figures.append(charts.domain_figure(result))
    figures += [charts.distribution_figure(result, c.name) for c in charts.columns_by_severity(result)
                if c.test != "none" and c.details]
    first = True
    for fig in figures:
        parts.append(fig.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False}))
        first = False
    parts.append(f"<h2>Thresholds</h2><pre>{_e(jsonutil.dumps(result.config, indent=2))}</pre>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Drift: {_e(result.reference['name'])} → {_e(result.current['name'])}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(parts)}<script>{_SORT_SCRIPT}</script></body></html>")
