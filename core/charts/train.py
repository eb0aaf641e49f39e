"""Charts of a training run: the search over time, and the chosen model on the holdout.

Every builder takes the stored run data (trial records, the evaluation dict of
:mod:`core.train.evaluation`, the importance dict of a bundle) and returns a plotly
figure. Labels and column names go to plotly as data, never as HTML.
"""

from __future__ import annotations

import plotly.graph_objects as go

from core.train.zoo import FAMILY_LABELS

__all__ = [
    "score_over_trials", "confusion_matrix", "roc_curves", "pr_curves", "calibration", "predicted_vs_actual",
    "residuals", "feature_importance",
]

_COLORS = {"catboost": "#636EFA", "hgb": "#EF553B", "rf": "#00CC96", "et": "#AB63FA", "linear": "#FFA15A"}
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=380, template="plotly_white",
               legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0))


def _figure(title: str, x: str, y: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=dict(text=title, font=dict(size=15)), xaxis_title=x, yaxis_title=y, **_LAYOUT)
    return fig


def score_over_trials(records: list[dict], metric_label: str, greater_is_better: bool) -> go.Figure:
    """Each finished trial's CV score by when it finished, coloured by family, with the best so far."""
    fig = _figure(f"Cross-validated {metric_label} by trial", "trial", metric_label)
    done = sorted((r for r in records if r.get("cv_mean") is not None and r.get("number") is not None),
                  key=lambda r: r["number"])
    for family in dict.fromkeys(r["family"] for r in done):
        mine = [r for r in done if r["family"] == family]
        fig.add_trace(go.Scatter(
            x=[r["number"] + 1 for r in mine], y=[r["cv_mean"] for r in mine], mode="markers",
            name=FAMILY_LABELS.get(family, family), marker=dict(size=9, color=_COLORS.get(family)),
            error_y=dict(type="data", array=[r.get("cv_std") or 0 for r in mine], thickness=1, width=0),
            hovertemplate="trial %{x}<br>%{y:.4f}<extra>" + FAMILY_LABELS.get(family, family) + "</extra>",
        ))
    best, xs, ys = None, [], []
    for r in done:
        if best is None or (r["cv_mean"] > best if greater_is_better else r["cv_mean"] < best):
            best = r["cv_mean"]
        xs.append(r["number"] + 1)
        ys.append(best)
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="best so far", line=dict(shape="hv", color="#444")))
    fig.update_xaxes(tickformat="d", dtick=1 if len(done) <= 15 else None)
    return fig


def confusion_matrix(evaluation: dict) -> go.Figure:
    labels = evaluation["labels"]
    matrix = evaluation["confusion"]
    totals = [max(sum(row), 1) for row in matrix]
    share = [[v / t for v in row] for row, t in zip(matrix, totals)]
    text = [[f"{v:,}<br>{s:.0%}" for v, s in zip(row, srow)] for row, srow in zip(matrix, share)]
    fig = _figure("Confusion matrix (holdout)", "predicted", "actual")
    fig.add_trace(go.Heatmap(z=share, x=labels, y=labels, text=text, texttemplate="%{text}", colorscale="Blues",
                             zmin=0, zmax=1, showscale=False,
                             hovertemplate="actual %{y}<br>predicted %{x}<br>%{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def roc_curves(evaluation: dict) -> go.Figure:
    fig = _figure("ROC curve (holdout)", "false positive rate", "true positive rate")
    for curve in evaluation.get("roc", []):
        fig.add_trace(go.Scatter(x=curve["fpr"], y=curve["tpr"], mode="lines",
                                 name=f"{curve['label']} (AUC {curve['auc']:.3f})"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(dash="dot", color="#999")))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def pr_curves(evaluation: dict) -> go.Figure:
    fig = _figure("Precision-recall curve (holdout)", "recall", "precision")
    for curve in evaluation.get("pr", []):
        fig.add_trace(go.Scatter(x=curve["recall"], y=curve["precision"], mode="lines",
                                 name=f"{curve['label']} (AP {curve['ap']:.3f})"))
        fig.add_trace(go.Scatter(x=[0, 1], y=[curve["prevalence"]] * 2, mode="lines", showlegend=False,
                                 line=dict(dash="dot", color="#999"), hoverinfo="skip"))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def calibration(evaluation: dict) -> go.Figure:
    fig = _figure("Calibration (holdout): predicted probability vs observed share", "mean predicted probability",
                  "observed share")
    for curve in evaluation.get("calibration", []):
        fig.add_trace(go.Scatter(x=curve["predicted"], y=curve["observed"], mode="lines+markers", name=curve["label"],
                                 customdata=curve["count"],
                                 hovertemplate="predicted %{x:.2f}<br>observed %{y:.2f}<br>%{customdata} rows"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line=dict(dash="dot", color="#999")))
    fig.update_xaxes(range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    return fig


def predicted_vs_actual(evaluation: dict, target: str) -> go.Figure:
    actual, predicted = evaluation.get("actual", []), evaluation.get("predicted", [])
    fig = _figure(f"Predicted vs actual {target} (holdout)", f"actual {target}", f"predicted {target}")
    fig.add_trace(go.Scattergl(x=actual, y=predicted, mode="markers", name="rows",
                               marker=dict(size=5, opacity=0.5, color="#636EFA")))
    if actual:
        lo, hi = min(min(actual), min(predicted)), max(max(actual), max(predicted))
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect",
                                 line=dict(dash="dot", color="#999")))
    return fig


def residuals(evaluation: dict, target: str) -> go.Figure:
    actual, predicted = evaluation.get("actual", []), evaluation.get("predicted", [])
    errors = [a - p for a, p in zip(actual, predicted)]
    fig = _figure("Residuals (holdout): actual − predicted", f"predicted {target}", "residual")
    fig.add_trace(go.Scattergl(x=predicted, y=errors, mode="markers", name="rows",
                               marker=dict(size=5, opacity=0.5, color="#EF553B")))
    fig.add_hline(y=0, line=dict(dash="dot", color="#999"))
    return fig


def feature_importance(importance: dict[str, float], top: int = 20) -> go.Figure:
    items = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    fig = _figure(f"Feature importance (top {min(top, len(importance))})", "share of importance", "")
    fig.add_trace(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h",
                         marker_color="#636EFA", hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_layout(height=max(260, 24 * len(items) + 80))
    fig.update_xaxes(tickformat=".0%")
    return fig
