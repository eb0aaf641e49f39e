"""Charts and tables of a drift result: built from the stored ``DriftResult`` alone.

Plotly renders a few HTML tags in titles, legends and tick labels, so every user
string (column names, category labels, table names) is escaped before it goes in.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from core.drift import ColumnDrift, DriftResult

__all__ = ["SEVERITY", "columns_by_severity", "score", "column_table", "effect_figure", "domain_figure",
           "distribution_figure", "model_lines"]

SEVERITY = {"drift": 0, "warning": 1, "stable": 2, "not tested": 3}
COLOURS = {"drift": "#d32f2f", "warning": "#f9a825", "stable": "#43a047", "not tested": "#9e9e9e"}
REFERENCE_COLOUR, CURRENT_COLOUR = "#1f77b4", "#ff7f0e"


def _t(text) -> str:
    return html.escape(str(text), quote=False)


def score(column: ColumnDrift, config: dict) -> float | None:
    """The column's largest effect size as a share of its drift threshold (1.0 = at the threshold)."""
    if column.test == "none":
        return None
    ratios = [abs(column.missing_change) / config["missing_drift"]]
    if column.psi is not None:
        ratios.append(column.psi / config["psi_drift"])
    if column.wasserstein is not None:
        ratios.append(column.wasserstein / config["wasserstein_drift"])
    if column.js is not None:
        ratios.append(column.js / config["js_drift"])
    return max(ratios)


def columns_by_severity(result: DriftResult) -> list[ColumnDrift]:
    """Drifted columns first, then warnings, stable and untested; the largest effect first within each."""
    return sorted(result.columns, key=lambda c: (SEVERITY[c.status], -(score(c, result.config) or 0.0), c.name))


def column_table(result: DriftResult) -> pd.DataFrame:
    """One row per column, most serious first: the sortable table of the page and the HTML report."""
    rows = []
    for c in columns_by_severity(result):
        rows.append({
            "Column": c.name, "Status": c.status, "Score": score(c, result.config),
            **({"Importance": c.importance} if result.model else {}),
            "Why": "; ".join(c.reasons),
            "PSI": c.psi, "Wasserstein (std)": c.wasserstein, "Jensen-Shannon": c.js,
            "p (BH)": c.p_adjusted,
            "Missing before": c.missing_ref, "Missing now": c.missing_cur, "Kind": c.kind,
        })
    frame = pd.DataFrame(rows)
    for col in ("Score", "PSI", "Wasserstein (std)", "Jensen-Shannon", "p (BH)", "Missing before", "Missing now"):
        frame[col] = pd.to_numeric(frame[col]).round(4)
    return frame


def effect_figure(result: DriftResult, limit: int = 30) -> go.Figure:
    """Each tested column's score against the drift threshold (the dashed line at 1)."""
    columns = [c for c in columns_by_severity(result) if c.test != "none"][:limit]
    columns.reverse()  # plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(
        x=[score(c, result.config) for c in columns], y=[_t(c.name) for c in columns], orientation="h",
        marker_color=[COLOURS[c.status] for c in columns],
        customdata=[[c.status] for c in columns], hovertemplate="%{y}: %{x:.2f} × the drift threshold"
        " (%{customdata[0]})<extra></extra>",
    ))
    fig.add_vline(x=1.0, line_dash="dash", line_color="#555",
                  annotation_text="drift threshold", annotation_position="top")
    if max(((score(c, result.config) or 0) for c in columns), default=0) > 5:
        fig.update_xaxes(type="log")  # keep the threshold readable next to huge scores
    fig.update_layout(title="Largest effect size, as a share of its drift threshold",
                      xaxis_title="effect / drift threshold (drift needs ≥ 1 and p < alpha)",
                      height=max(260, 26 * len(columns) + 120), margin=dict(l=10, r=10, t=60, b=40))
    return fig


def domain_figure(result: DriftResult) -> go.Figure:
    top = list(reversed(result.domain.top))
    fig = go.Figure(go.Bar(x=[t["importance"] for t in top], y=[_t(t["column"]) for t in top], orientation="h",
                           marker_color="#7e57c2", hovertemplate="%{y}: AUC drops by %{x:.3f}<extra></extra>"))
    fig.update_layout(title=f"What tells the tables apart (classifier ROC-AUC {result.domain.auc:.2f})",
                      xaxis_title="drop in ROC-AUC when the column is shuffled",
                      height=max(220, 30 * len(top) + 120), margin=dict(l=10, r=10, t=60, b=40))
    return fig


def distribution_figure(result: DriftResult, column: str | ColumnDrift) -> go.Figure:
    """The reference's and the current table's distributions of one column (or of the
    model's predictions, given as a ``ColumnDrift``), overlaid."""
    c = result.column(column) if isinstance(column, str) else column
    name = c.name
    ref_name, cur_name = _t(result.reference["name"]), _t(result.current["name"])
    fig = go.Figure()
    if c.test == "numeric" and "histogram" in c.details:
        h = c.details["histogram"]
        edges = h["edges"]
        centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
        widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
        for label, shares, colour in ((ref_name, h["ref"], REFERENCE_COLOUR), (cur_name, h["cur"], CURRENT_COLOUR)):
            fig.add_trace(go.Bar(x=centres, y=shares, width=widths, name=label, marker_color=colour, opacity=0.55,
                                 hovertemplate="%{x:.4g}: %{y:.1%}<extra>" + label + "</extra>"))
        fig.update_layout(barmode="overlay", xaxis_title=_t(name) + " (values beyond the 0.5–99.5% range sit in "
                          "the end bins)")
    elif c.test == "categorical" and "bars" in c.details:
        b = c.details["bars"]
        labels = [_t(x) for x in b["labels"]]
        for label, shares, colour in ((ref_name, b["ref"], REFERENCE_COLOUR), (cur_name, b["cur"], CURRENT_COLOUR)):
            fig.add_trace(go.Bar(x=labels, y=shares, name=label, marker_color=colour,
                                 hovertemplate="%{x}: %{y:.1%}<extra>" + label + "</extra>"))
        fig.update_layout(barmode="group", xaxis_title=_t(name), xaxis_type="category")
    fig.update_layout(title=f"{_t(name)}: {c.status}", yaxis_title="share of rows", yaxis_tickformat=".0%",
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
                      height=360, margin=dict(l=10, r=10, t=60, b=40))
    return fig


def model_lines(result: DriftResult) -> list[str]:
    """The model section as sentences (empty without a model)."""
    model = result.model or {}
    return [line for line in model.get("lines", []) if line]
