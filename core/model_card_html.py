"""The model card as one standalone HTML page: readable by a manager, printable, and inert.

Every value from the project (names, labels, column names, step descriptions) is
escaped, charts are static SVG (:mod:`core.charts.svg`), and the page carries a
Content-Security-Policy that allows no script at all, so even a mistake in escaping
could not run anything.
"""

from __future__ import annotations

import html
import math

from core.charts import svg
from core.model_card import ModelCard

__all__ = ["to_html", "CSP"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1f;max-width:980px;margin:1.5rem auto;
padding:0 1.2rem;line-height:1.45;font-size:14px}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:2px solid #e5e5e5;
padding-bottom:.2rem}.muted{color:#666;font-size:.85rem}.summary{background:#f3f6fb;border-left:4px solid #1f77b4;
padding:.8rem 1rem;font-size:1.02rem;margin:1rem 0}.tiles{display:flex;gap:.7rem;flex-wrap:wrap;margin:.8rem 0}
.tile{border:1px solid #ddd;border-radius:8px;padding:.55rem .8rem;min-width:170px;flex:1}.tile b{display:block;
font-size:1.35rem}.tile span{color:#666;font-size:.8rem}table{border-collapse:collapse;width:100%;font-size:.85rem;
margin:.3rem 0}th,td{padding:.3rem .45rem;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top}
th{background:#fafafa}td.num{text-align:right;font-variant-numeric:tabular-nums}.charts{display:flex;gap:1rem;
flex-wrap:wrap;align-items:flex-start}.limits li{margin:.25rem 0}.tag{font-size:.75rem;color:#8a5a00}
.cm td{text-align:center}.chosen{font-weight:600}@media print{body{margin:0;max-width:none}h2{break-after:avoid}
.charts,table{break-inside:avoid}}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _n(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 10 ** digits else f"{value:.{digits}g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(rows: list[dict], columns: list[str], numeric: set[str] = frozenset(), css: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            cls = ' class="num"' if c in numeric else ""
            cells.append(f"<td{cls}>{_e(_n(value) if isinstance(value, (int, float)) else value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table{css}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _confusion(evaluation: dict) -> str:
    labels, matrix = evaluation.get("labels") or [], evaluation.get("confusion") or []
    if not matrix:
        return ""
    cells = ["<tr><th>actual ↓ / predicted →</th>" + "".join(f"<th>{_e(l)}</th>" for l in labels) + "</tr>"]
    for label, row in zip(labels, matrix):
        total = max(sum(row), 1)
        tds = []
        for value in row:
            share = value / total
            tone = int(255 - 150 * share)
            tds.append(f'<td style="background:rgb({tone},{tone + 20 if tone < 235 else 255},255)">'
                       f"{value:,}<br><span class='muted'>{share:.0%}</span></td>")
        cells.append(f"<tr><th>{_e(label)}</th>{''.join(tds)}</tr>")
    return ("<div><p class='muted'>Confusion matrix: holdout rows by actual and predicted class "
            "(share of each actual class).</p><table class='cm'>" + "".join(cells) + "</table></div>")


def _charts(card: ModelCard) -> str:
    ev, target = card.evaluation, card.facts.get("target", "")
    parts = []
    if ev.get("roc"):
        parts.append(svg.line_chart([{"name": f"{c['label']} (AUC {c['auc']:.3f})", "x": c["fpr"], "y": c["tpr"]}
                                     for c in ev["roc"]], title="ROC curve", x_label="false positive rate",
                                    y_label="true positive rate", diagonal=True, legend="bottom-right"))
    if ev.get("pr") and card.facts.get("task") == "binary":
        parts.append(svg.line_chart([{"name": f"{c['label']} (AP {c['ap']:.3f})", "x": c["recall"],
                                      "y": c["precision"]} for c in ev["pr"]], title="Precision and recall",
                                    x_label="recall", y_label="precision", legend="bottom-left"))
    if ev.get("calibration"):
        parts.append(svg.line_chart([{"name": c["label"], "x": c["predicted"], "y": c["observed"]}
                                     for c in ev["calibration"]], title="Calibration",
                                    x_label="predicted probability", y_label="observed share", diagonal=True,
                                    legend="top-left"))
    if ev.get("actual"):
        parts.append(svg.scatter_chart(ev["actual"], ev["predicted"], title=f"Predicted vs actual {target}",
                                       x_label=f"actual {target}", y_label=f"predicted {target}"))
    out = "<div class='charts'>" + "".join(parts) + _confusion(ev) + "</div>" if parts or ev.get("confusion") else ""
    residual = ev.get("residual_summary") or {}
    if residual.get("median_abs") is not None:
        out += (f"<p>Half of the holdout predictions are within <b>{_e(_n(residual['median_abs']))}</b> of the actual "
                f"value; nine in ten within <b>{_e(_n(residual['p90_abs']))}</b>.</p>")
    return out


def _section_data(card: ModelCard) -> str:
    d = card.data
    lines = []
    if d.get("dataset"):
        lines.append(f"Trained on the dataset <b>{_e(d['dataset'])}</b>"
                     + (f" (file {_e(d['file'])})" if d.get("file") else "")
                     + (f": {_n(d['rows'])} rows × {_n(d['columns'])} columns" if d.get("rows") else "") + ".")
    if d.get("rows_used") is not None:
        dropped = d.get("dropped_missing_target") or 0
        lines.append(f"{_n(d['rows_used'])} rows had a value of the target and were used"
                     + (f"; {_n(dropped)} without one were left out" if dropped else "") + ".")
    if d.get("task_reason"):
        lines.append(f"The task was read from the target: {_e(d['task_reason'])}.")
    out = "".join(f"<p>{line}</p>" for line in lines)
    if d.get("target_shares"):
        shares = ", ".join(f"{_e(k)} {v:.1%}" for k, v in d["target_shares"][:12])
        out += f"<p>Classes in training: {shares}.</p>"
    if d.get("target_range"):
        lo, mid, hi = d["target_range"]
        out += f"<p>The target ranged from {_n(lo)} to {_n(hi)} in training (median {_n(mid)}).</p>"
    rows = [{"Column": c["name"], "Kind": c["kind"], "In training": c["seen"]} for c in card.columns]
    out += ("<p class='muted'>Columns the model reads (new data must have them; what training saw, from a sample of "
            f"{_n(d.get('reference_rows'))} rows):</p>" + _table(rows, ["Column", "Kind", "In training"]))
    if d.get("left_out"):
        left = "; ".join(f"{_e(k)}: {_e(v)}" for k, v in list(d["left_out"].items())[:20])
        out += f"<p class='muted'>Left out of the model: {left}.</p>"
    return out


def _section_validation(card: ModelCard) -> str:
    v = card.validation
    items = []
    if v.get("method"):
        items.append(f"Scheme: <b>{_e(v['method'])}</b> on {_n(v.get('search_rows'))} rows, and a final holdout of "
                     f"{_n(v.get('holdout_rows'))} rows that the search never saw.")
    if v.get("refit"):
        items.append(f"The chosen model was refitted on {_e(v['refit'])} for delivery.")
    if v.get("threshold") is not None:
        items.append(f"Decision threshold {v['threshold']:.3f} on the probability of "
                     f"{_e(card.facts.get('positive_class'))}, tuned for {_e(v.get('threshold_metric'))}.")
    items.append(f"Optimised for {_e(v.get('metric'))}; seed {_e(v.get('seed'))}"
                 + (f"; time budget {_n(v['time_budget'])} s." if v.get("time_budget") else "."))
    items += [_e(note) for note in v.get("notes") or []]
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _section_metrics(card: ModelCard) -> str:
    if not card.metrics:
        return "<p class='muted'>No holdout evaluation is stored with this model.</p>"
    rows = [{"Metric": m["label"] + (" (optimised)" if m["chosen"] else ""), "Model": m["value"],
             "Trivial model": m["baseline"], "Better when": "higher" if m["higher_is_better"] else "lower"}
            for m in card.metrics]
    return _table(rows, ["Metric", "Model", "Trivial model", "Better when"], {"Model", "Trivial model"}) + _charts(card)


def to_html(card: ModelCard) -> str:
    """The card as a standalone page (UTF-8 text)."""
    f = card.facts
    sub = " · ".join(_e(x) for x in [
        f.get("project") and f"project {f['project']}", f.get("model_id") and f"model #{f['model_id']}",
        f.get("run_id") and f"run #{f['run_id']}", f.get("created") and f"trained {f['created']}",
    ] if x)
    tiles = "".join(f"<div class='tile'>{_e(t['label'])}<b>{_e(t['value'])}</b><span>{_e(t['note'])}</span></div>"
                    for t in card.tiles)
    parts = [f"<h1>{_e(card.title)}</h1><p class='muted'>{sub}</p>",
             f"<div class='summary'>{_e(card.summary)}</div><div class='tiles'>{tiles}</div>",
             "<h2>Known limitations</h2><ul class='limits'>"
             + "".join(f"<li>{_e(x)}</li>" for x in card.limitations) + "</ul>",
             "<h2>How well it does on held-out rows</h2>" + _section_metrics(card),
             "<h2>What drives its predictions</h2>"]
    if card.features:
        parts.append(svg.bar_chart(card.features, title="Share of the model's importance (top features)"))
    if card.holdout_importance:
        parts.append(svg.bar_chart(card.holdout_importance, value_format="{:.3g}",
                                   title="Drop in the score when a column is shuffled (holdout)"))
    if card.holdout_note:
        parts.append(f"<p class='muted'>{_e(card.holdout_note)}</p>")
    parts += ["<h2>The data</h2>" + _section_data(card), "<h2>How it was validated</h2>" + _section_validation(card)]
    if card.leaderboard:
        columns = list(card.leaderboard[0])
        parts.append("<h2>Models tried (best first)</h2>"
                     + _table(card.leaderboard, columns, {"CV mean", "CV ±", "Holdout", "Fit s", "Rank"}))
    if card.recipe:
        rows = [{"Step": f"{r['stage']} {r['number']}", "What it does": r["text"], "On new rows": r["scoring"]}
                for r in card.recipe]
        parts.append("<h2>The recipe</h2>" + _table(rows, ["Step", "What it does", "On new rows"]))
    else:
        parts.append("<h2>The recipe</h2><p>No cleaning or feature steps: the model reads the columns as they are.</p>")
    r = card.reproduce
    libraries = ", ".join(f"{_e(k)} {_e(v)}" for k, v in (r.get("libraries") or {}).items())
    parts.append("<h2>Reproduce</h2><p class='muted'>"
                 + f"Seed {_e(r.get('seed'))}; run #{_e(r.get('run_id'))}; model file sha256 "
                 + f"<code>{_e(r.get('bundle_sha256'))}</code>; {libraries}.</p>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{_e(card.title)}</title><style>{_STYLE}</style></head><body>{''.join(parts)}"
            "<p class='muted'>Made by Assay from the stored model, its training run and its reports.</p>"
            "</body></html>")
