"""Charts of a profile: a column's distribution, correlation heatmaps, target associations,
missing values. Each builder takes the profile's plain data and returns a plotly Figure.

plotly draws a few HTML-like tags in text (``<b>``, ``<a href>``) and silently drops
others, so every user string (column names, labels) goes through :func:`text`, which
escapes it: ``<img src=x>`` is shown as those characters, never interpreted.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from core.profile import ColumnProfile

__all__ = ["text", "column_chart", "heatmap", "mutual_information_chart", "missing_share_chart",
           "missing_matrix_chart"]

ACCENT = "#4C78A8"
LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), font=dict(size=12))


def text(value: object) -> str:
    """A user string as plotly text: HTML-escaped (plotly shows entities as characters)."""
    return html.escape(str(value), quote=False)


def _title(s: str) -> dict:
    return dict(text=s, x=0, xanchor="left", font=dict(size=14))


def column_chart(col: ColumnProfile, *, height: int = 300) -> go.Figure:
    """A histogram (numbers, dates) or a bar per label (labels, small integer sets)."""
    chart = col.chart
    fig = go.Figure()
    if chart.get("type") == "histogram" and chart.get("counts"):
        edges, counts = chart["edges"], chart["counts"]
        mids = [edges[i] if isinstance(edges[i], str) else (edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        widths = None if isinstance(edges[0], str) else [edges[i + 1] - edges[i] for i in range(len(counts))]
        fig.add_bar(x=mids, y=counts, width=widths, marker_color=ACCENT, marker_line_width=0,
                    hovertemplate="%{x}<br>%{y:,} rows<extra></extra>")
    elif chart.get("type") == "bar":
        labels = [text(v) for v in chart["labels"]]
        counts = list(chart["counts"])
        if chart.get("other"):
            labels.append("(all other values)")
            counts.append(chart["other"])
        fig.add_bar(x=counts[::-1], y=labels[::-1], orientation="h", marker_color=ACCENT,
                    hovertemplate="%{y}<br>%{x:,} rows<extra></extra>")
        fig.update_yaxes(type="category")
        height = max(height, 22 * len(labels) + 60)
    fig.update_layout(**LAYOUT, height=height, title=_title(text(col.name)), bargap=0.05, showlegend=False)
    return fig


def heatmap(names: list[str], matrix: list[list[float | None]], *, title: str, signed: bool = True,
            height: int | None = None) -> go.Figure:
    """A correlation or association matrix: -1..1 (signed) or 0..1, empty cells for none."""
    shown = [text(n) for n in names]
    fig = go.Figure(go.Heatmap(
        z=matrix, x=shown, y=shown, zmin=-1 if signed else 0, zmax=1,
        colorscale="RdBu" if signed else "Blues", reversescale=signed,
        hovertemplate="%{y} × %{x}<br>%{z:.3f}<extra></extra>", xgap=1, ygap=1,
    ))
    size = height or min(900, max(320, 26 * len(names) + 140))
    fig.update_layout(**LAYOUT, height=size, title=_title(title))
    fig.update_xaxes(type="category", tickangle=-45)
    fig.update_yaxes(type="category", autorange="reversed")
    return fig


def mutual_information_chart(target: dict, *, limit: int = 25) -> go.Figure:
    scores = target.get("mutual_information", [])[:limit]
    fig = go.Figure(go.Bar(
        x=[s["mutual_information"] for s in scores][::-1], y=[text(s["column"]) for s in scores][::-1],
        orientation="h", marker_color=ACCENT, hovertemplate="%{y}<br>%{x:.3f} nats<extra></extra>",
    ))
    fig.update_layout(**LAYOUT, height=max(260, 24 * len(scores) + 80),
                      title=_title(f"What tells most about {text(target['column'])} (mutual information, nats)"))
    fig.update_yaxes(type="category")
    return fig


def missing_share_chart(missing: dict) -> go.Figure:
    cols = missing.get("columns", [])[:40]
    fig = go.Figure(go.Bar(
        x=[c["share"] for c in cols][::-1], y=[text(c["column"]) for c in cols][::-1], orientation="h",
        marker_color="#E45756", customdata=[c["missing"] for c in cols][::-1],
        hovertemplate="%{y}<br>%{x:.1%} missing (%{customdata:,} rows)<extra></extra>",
    ))
    fig.update_layout(**LAYOUT, height=max(220, 24 * len(cols) + 80), title=_title("Share missing"))
    fig.update_xaxes(tickformat=".0%", range=[0, min(1.0, max([0.05, *(c["share"] * 1.15 for c in cols)]))])
    fig.update_yaxes(type="category")
    return fig


def missing_matrix_chart(missing: dict) -> go.Figure | None:
    """Where in the table values are missing: one column per table column, rows in bands."""
    matrix = missing.get("matrix")
    if not matrix:
        return None
    bands = matrix["bands"]
    z = [list(row) for row in zip(*matrix["shares"])]  # bands x columns
    fig = go.Figure(go.Heatmap(
        z=z, x=[text(c) for c in matrix["columns"]], y=list(range(1, bands + 1)), zmin=0, zmax=1,
        colorscale=[[0, "#F2F2F2"], [1, "#E45756"]],
        hovertemplate="%{x}<br>rows band %{y} of " + str(bands) + ": %{z:.0%} missing<extra></extra>",
        colorbar=dict(tickformat=".0%", title="missing"),
    ))
    fig.update_layout(**LAYOUT, height=420, title=_title("Where the gaps are (top: first rows)"))
    fig.update_xaxes(type="category", tickangle=-45)
    fig.update_yaxes(autorange="reversed", title="row band", showticklabels=False)
    return fig
