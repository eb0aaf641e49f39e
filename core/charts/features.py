"""Charts of a feature preview: a new column's distribution, and the target across it.

Built from a ``ColumnPreview`` alone. Plotly renders a few HTML tags in titles, legends
and tick labels, so every user string (column names, category labels, class names) is
escaped before it goes in.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from core.feature_preview import ColumnPreview

__all__ = ["distribution_figure", "target_figure"]

ACCENT = "#4C78A8"
LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=40, b=10), font=dict(size=12))
PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D"]


def _t(value: object) -> str:
    return html.escape(str(value), quote=False)


def _title(s: str) -> dict:
    return dict(text=s, x=0, xanchor="left", font=dict(size=14))


def distribution_figure(col: ColumnPreview, *, height: int = 280) -> go.Figure:
    """Rows per bin (numbers) or per value (the most common ones), missing values last."""
    d = col.distribution
    labels = [_t(v) for v in d["labels"]]
    fig = go.Figure(go.Bar(x=labels, y=d["counts"], marker_color=ACCENT, marker_line_width=0,
                           hovertemplate="%{x}<br>%{y:,} rows<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_layout(**LAYOUT, height=height, bargap=0.08, showlegend=False,
                      title=_title(f"Distribution of {_t(col.name)}"))
    return fig


def target_figure(col: ColumnPreview, *, height: int = 280) -> go.Figure | None:
    """The mean target (regression) or each class's share (classification) per bin."""
    t = col.by_target
    if not t:
        return None
    labels = [_t(v) for v in t["labels"]]
    hover = [f"{n:,} rows" for n in t["counts"]]
    fig = go.Figure()
    if t["task"] == "regression":
        (name, values), = t["series"].items()
        fig.add_bar(x=labels, y=values, marker_color=PALETTE[1], customdata=hover,
                    hovertemplate="%{x}<br>%{y:,.4g}<br>%{customdata}<extra></extra>")
        title = f"Mean {_t(t['target'])} by {_t(col.name)}"
        fig.update_layout(showlegend=False)
    else:
        for i, (name, values) in enumerate(t["series"].items()):
            fig.add_bar(x=labels, y=values, name=_t(name), marker_color=PALETTE[i % len(PALETTE)], customdata=hover,
                        hovertemplate=f"%{{x}}<br>{_t(name)}: %{{y:.1%}}<br>%{{customdata}}<extra></extra>")
        fig.update_layout(barmode="stack", legend=dict(orientation="h", x=1, xanchor="right", y=1.02,
                                                       yanchor="bottom"))
        fig.update_yaxes(tickformat=".0%", range=[0, 1])
        title = f"Share of each {_t(t['target'])} by {_t(col.name)}"
    fig.update_xaxes(type="category")
    fig.update_layout(**LAYOUT, height=height, bargap=0.08, title=_title(title))
    return fig
