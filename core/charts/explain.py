"""Charts of an explanation, built from a stored :class:`core.explain.Explanation` alone.

Plotly renders a few HTML tags in titles, tick labels and hover text, so every user
string (feature names, labels, values) is escaped before it goes in.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.explain import Explanation, Importance
from core.explain.views import numeric_view, to_probability

__all__ = ["unit", "importance_figure", "permutation_figure", "beeswarm_figure", "dependence_figure",
           "waterfall_figure", "short_value", "number", "row_table", "probability_of"]

UP, DOWN, NEUTRAL = "#d62728", "#1f77b4", "#9e9e9e"
SCALE = [[0.0, "#1f77b4"], [0.5, "#b39ddb"], [1.0, "#d62728"]]  # low values blue, high values red
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]
_BEESWARM_POINTS = 2_000


def _t(text) -> str:
    return html.escape(str(text), quote=False)


def unit(expl: Explanation, k: int = 0) -> str:
    """What one unit of a SHAP value is, in words (for axis titles and captions)."""
    output = expl.outputs[k]
    return {"value": f"{output}", "log-odds": f"log-odds of {output}", "class score": f"score of {output}",
            "probability": f"probability of {output}"}[expl.space]


def _fmt(expl: Explanation) -> str:
    """d3 format of values in hover templates."""
    return ".1%" if expl.space == "probability" else ",.4~g"


def number(value: float, space: str = "value", sign: bool = False) -> str:
    """A value as people read it: 17,815 rather than 1.781e+04; probabilities as percentages."""
    value = float(value)
    plus = "+" if sign and value > 0 else ""
    if space == "probability":
        return f"{plus}{value:.1%}"
    if space in ("log-odds", "class score"):
        return f"{plus}{value:.2f}"
    if abs(value) >= 1000:
        return f"{plus}{value:,.0f}"
    return f"{plus}{value:.4g}"


def short_value(value) -> str:
    """A model-input value as a short label (numbers readable, long labels cut)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return number(value)
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=60, b=40), showlegend=False)
    return fig


def importance_figure(expl: Explanation, k: int = 0, limit: int = 20) -> go.Figure:
    """Mean |SHAP| per feature, largest on top: how far each column moves predictions on average."""
    ranked = expl.mean_abs(k).head(limit)[::-1]
    fig = go.Figure(go.Bar(
        x=ranked.to_numpy(), y=[_t(f) for f in ranked.index], orientation="h", marker_color=UP,
        hovertemplate=f"%{{y}} moves the prediction by %{{x:{_fmt(expl)}}} on average (up or down)<extra></extra>",
    ))
    fig.update_xaxes(title=f"average effect on the prediction ({_t(unit(expl, k))})",
                     tickformat=".0%" if expl.space == "probability" else None)
    return _layout(fig, "Which columns move the predictions most", max(260, 24 * len(ranked) + 120))


def permutation_figure(importance: Importance, order: list[str] | None = None, limit: int = 20,
                       title: str = "What the model needs to score well") -> go.Figure:
    """How much worse the model scores when each column is shuffled (error bars: spread over the repeats).

    Bars follow ``order`` when given (the SHAP ranking), else the largest loss on top.
    """
    frame = pd.DataFrame({"mean": importance.mean, "std": importance.std}, index=importance.features)
    frame = frame.reindex(order).dropna() if order else frame.sort_values("mean", ascending=False)
    frame = frame.head(limit)[::-1]
    label = _t(importance.metric_label)
    fig = go.Figure(go.Bar(
        x=frame["mean"], y=[_t(f) for f in frame.index], orientation="h", marker_color="#7e57c2",
        error_x=dict(type="data", array=frame["std"], visible=True),
        hovertemplate=f"shuffling %{{y}} makes {label} worse by %{{x:.4g}}<extra></extra>",
    ))
    fig.update_xaxes(title=f"how much worse {label} gets when the column is shuffled")
    return _layout(fig, _t(title), max(260, 24 * len(frame) + 120))


def _low_high(values: pd.Series) -> np.ndarray:
    """Colour positions 0..1 by rank among the distinct values (a yes/no column is blue and red; missing: NaN)."""
    ranks = values.rank(method="dense")
    top = ranks.max()
    return ((ranks - 1) / (top - 1) if top and top > 1 else ranks * 0 + 0.5).to_numpy(dtype=float)


def _swarm(values: np.ndarray, width: float = 0.4) -> np.ndarray:
    """Vertical offsets that spread points with close values (a beeswarm, as shap draws it)."""
    if len(values) == 0:
        return values
    span = values.max() - values.min()
    bins = np.round(100 * (values - values.min()) / (span + 1e-12)).astype(int)
    order = np.lexsort((values, bins))
    layer = pd.Series(bins[order]).groupby(bins[order]).cumcount().to_numpy()
    offsets = np.empty(len(values))
    offsets[order] = np.ceil(layer / 2) * np.where(layer % 2, 1, -1)
    top = np.abs(offsets).max()
    return offsets * (width / top) if top > 0 else offsets


def beeswarm_figure(expl: Explanation, k: int = 0, limit: int = 15, seed: int = 0) -> go.Figure:
    """Every row's SHAP value per feature, coloured by the feature's value in that row.

    Numbers: blue for low values, red for high (by rank within the column). Labels have
    no low or high: their dots are grey (so are missing numbers), and hovering one shows its label.
    """
    features = list(expl.mean_abs(k).head(limit).index)[::-1]
    rows = np.arange(expl.n)
    if expl.n > _BEESWARM_POINTS:
        rows = np.sort(np.random.default_rng(seed).choice(expl.n, _BEESWARM_POINTS, replace=False))
    numbers = numeric_view(expl).iloc[rows]
    xs, ys, colours, texts = [], [], [], []
    for position, feature in enumerate(features):
        j = expl.features.index(feature)
        shap_values = expl.values[rows, k, j]
        xs.append(shap_values)
        ys.append(position + _swarm(shap_values))
        if feature in expl.categorical:
            colours.append(np.full(len(rows), np.nan))
        else:
            colours.append(_low_high(numbers[feature]))
        shown = expl.X[feature].iloc[rows].map(short_value)
        texts.append([f"{_t(feature)} = {_t(v)}" for v in shown])
    x, y, colour = np.concatenate(xs), np.concatenate(ys), np.concatenate(colours)
    text = [t for part in texts for t in part]
    known = ~np.isnan(colour)
    fig = go.Figure()
    fig.add_trace(go.Scattergl(
        x=x[~known], y=y[~known], mode="markers", marker=dict(color=NEUTRAL, size=5, opacity=0.7),
        text=[t for t, keep in zip(text, ~known) if keep],
        hovertemplate=f"%{{text}}<br>effect %{{x:+{_fmt(expl)}}}<extra></extra>",
    ))
    fig.add_trace(go.Scattergl(
        x=x[known], y=y[known], mode="markers",
        marker=dict(color=colour[known], colorscale=SCALE, cmin=0, cmax=1, size=5, opacity=0.8,
                    colorbar=dict(title="value", tickvals=[0, 1], ticktext=["low", "high"], len=0.5)),
        text=[t for t, keep in zip(text, known) if keep],
        hovertemplate=f"%{{text}}<br>effect %{{x:+{_fmt(expl)}}}<extra></extra>",
    ))
    fig.add_vline(x=0, line_color="#555", line_width=1)
    fig.update_yaxes(tickvals=list(range(len(features))), ticktext=[_t(f) for f in features], range=[-0.7,
                     len(features) - 0.3])
    fig.update_xaxes(title=f"effect on this row's prediction ({_t(unit(expl, k))})",
                     tickformat=".0%" if expl.space == "probability" else None)
    return _layout(fig, f"Each dot is a row ({len(rows):,} shown)", max(320, 34 * len(features) + 140))


def dependence_figure(expl: Explanation, feature: str, k: int = 0, colour_by: str | None = None) -> go.Figure:
    """The feature's value against its SHAP value, coloured by another feature (its strongest interaction)."""
    j = expl.features.index(feature)
    y = expl.values[:, k, j]
    values = expl.X[feature]
    categorical = feature in expl.categorical
    if categorical:
        labels = values.map(short_value)
        order = pd.Series(y, index=labels.to_numpy()).groupby(level=0).mean().sort_values().index.tolist()
        x = labels.map({v: i for i, v in enumerate(order)}).to_numpy(float) + \
            np.random.default_rng(0).uniform(-0.25, 0.25, len(y))  # jitter: the labels are the x positions
    else:
        x = pd.to_numeric(values, errors="coerce").to_numpy(float)
    hover = [f"{_t(feature)} = {_t(short_value(v))}" for v in values]
    template = f"%{{text}}<br>effect %{{y:+{_fmt(expl)}}}<extra></extra>"
    fig = go.Figure()
    if colour_by is None:
        fig.add_trace(go.Scattergl(x=x, y=y, mode="markers", marker=dict(color=UP, size=5, opacity=0.6),
                                   text=hover, hovertemplate=template))
    elif colour_by in expl.categorical:
        groups = expl.X[colour_by].map(short_value)
        top = groups.value_counts().index[:len(PALETTE) - 1].tolist()
        groups = groups.where(groups.isin(top), "other")
        for i, group in enumerate(sorted(groups.unique(), key=lambda g: (g == "other", g))):
            mask = (groups == group).to_numpy()
            fig.add_trace(go.Scattergl(
                x=x[mask], y=y[mask], mode="markers", name=_t(group),
                marker=dict(color=PALETTE[i % len(PALETTE)], size=5, opacity=0.7),
                text=[f"{h}<br>{_t(colour_by)} = {_t(group)}" for h, keep in zip(hover, mask) if keep],
                hovertemplate=template))
    else:
        other = pd.to_numeric(expl.X[colour_by], errors="coerce")
        fig.add_trace(go.Scattergl(
            x=x, y=y, mode="markers",
            marker=dict(color=_low_high(other), colorscale=SCALE, cmin=0, cmax=1, size=5,
                        opacity=0.75, colorbar=dict(title=_t(colour_by), tickvals=[0, 1], ticktext=["low", "high"])),
            text=[f"{h}<br>{_t(colour_by)} = {_t(short_value(v))}" for h, v in zip(hover, other)],
            hovertemplate=template))
    fig.add_hline(y=0, line_color="#555", line_width=1)
    if categorical:
        fig.update_xaxes(tickvals=list(range(len(order))), ticktext=[_t(v) for v in order])
    fig.update_xaxes(title=_t(feature))
    fig.update_yaxes(title=f"effect on the prediction ({_t(unit(expl, k))})",
                     tickformat=".0%" if expl.space == "probability" else None)
    fig = _layout(fig, f"How {_t(feature)} changes the prediction", 460)
    fig.update_layout(showlegend=colour_by in expl.categorical, legend_title_text=_t(colour_by or ""))
    return fig


def row_table(expl: Explanation, label, k: int = 0) -> pd.DataFrame:
    """The row's values beside its waterfall: feature, value, effect (largest effect first), as text."""
    row = expl.row(label, k)
    return pd.DataFrame({"column": row["feature"], "value": row["value"].map(short_value),
                         "effect": [number(v, expl.space, sign=True) for v in row["shap"]]})


def probability_of(expl: Explanation, position: int, k: int) -> float | None:
    """The predicted probability of output ``k`` for a row (None for regression)."""
    if expl.task == "regression":
        return None
    column = [c for c in expl.predictions.columns if c == f"proba:{expl.outputs[k]}"]
    return float(expl.predictions[column[0]].iloc[position]) if column else None


def waterfall_figure(expl: Explanation, label, k: int = 0, limit: int = 12) -> go.Figure:
    """From the base value to this row's prediction, one step per feature (largest first; the rest summed)."""
    row = expl.row(label, k)
    shown, rest = row.head(limit), row.iloc[limit:]
    names = ["typical prediction (base)"] + [f"{_t(f)} = {_t(short_value(v))}" for f, v in
                                             zip(shown["feature"], shown["value"])]
    steps = [float(expl.base[k])] + shown["shap"].tolist()
    if len(rest):
        names.append(f"{len(rest)} other column{'s' if len(rest) > 1 else ''}")
        steps.append(float(rest["shap"].sum()))
    position = expl.X.index.get_loc(label)
    final = float(expl.output(k)[position])
    names.append("this row's prediction")
    cumulative = np.cumsum(steps)
    probabilities = to_probability(expl, k, cumulative)
    text = [number(steps[0], expl.space)] + [number(s, expl.space, sign=True) for s in steps[1:]] + \
        [number(final, expl.space)]
    hover = [f"{n}<br>{_t(unit(expl, k))} after this step: {number(c, expl.space)}" for n, c in zip(names, cumulative)]
    hover.append(f"this row's prediction: {number(final, expl.space)}")
    if probabilities is not None and expl.space == "log-odds":
        hover = [f"{h}<br>probability: {p:.1%}" for h, p in zip(hover, [*probabilities, probabilities[-1]])]
    fig = go.Figure(go.Waterfall(
        orientation="h", measure=["absolute"] + ["relative"] * (len(steps) - 1) + ["total"],
        y=names, x=steps + [final], text=text, textposition="outside", hovertext=hover, hoverinfo="text",
        increasing=dict(marker_color=UP), decreasing=dict(marker_color=DOWN), totals=dict(marker_color="#455a64"),
        connector=dict(line=dict(color="#999", width=1)),
    ))
    ends = np.r_[cumulative, final]
    low, high = float(ends.min()), float(ends.max())
    pad = 0.25 * (high - low) or 0.1 * abs(high) or 1.0  # room for the labels; the base bar is cut, not drawn from 0
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=_t(unit(expl, k)), range=[low - pad, high + pad],
                     tickformat=".0%" if expl.space == "probability" else None)
    gets = number(final, expl.space)
    if expl.space == "log-odds":
        gets = f"{probabilities[-1]:.1%} (log-odds {final:+.2f})"
    return _layout(fig, f"Why row {_t(label)} gets {gets}", max(320, 30 * len(names) + 120))
