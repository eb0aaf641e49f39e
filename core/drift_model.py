"""Drift as a model sees it: its predictions, its performance, and which drifted columns it leans on.

Given a model bundle (:class:`core.bundle.ModelBundle`), :func:`model_drift` scores
a bounded sample of each table, compares the two sets of predictions with the
same tests and thresholds as any column, measures the model's metrics on both
tables when they hold the target, and ranks columns by the model's feature
importance, so drift in a feature the model leans on comes first.

Performance drift: the metric the model was chosen on (else ROC-AUC for binary,
accuracy for multiclass, RMSE for regression) is ``warning`` when it is 5% worse
(relative) on the current rows than its baseline and ``drift`` when 10% worse. The
baseline is the model's holdout score from training when the bundle has one (the
training rows themselves would flatter it: the model saw them), else the score on
the reference rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from core import store
from core.drift import ColumnDrift, DriftConfig, compare_series, format_number, judge
from core.errors import AssayError, NotFoundError

__all__ = ["model_drift", "list_models", "load_bundle", "MAIN_METRIC", "PERFORMANCE_WARNING",
           "PERFORMANCE_DRIFT"]

SAMPLE_ROWS = 20_000  # scored per side: predictions are the slow part
MIN_LABELLED = 30  # current rows with a target before performance is measured
PERFORMANCE_WARNING, PERFORMANCE_DRIFT = 0.05, 0.10
MAIN_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}


def list_models(session, project_id: int) -> list[store.Model]:
    """The project's trained models, newest first."""
    return list(session.scalars(sa.select(store.Model).where(store.Model.project_id == project_id)
                                .order_by(store.Model.id.desc())))


def load_bundle(session, model_id: int, project_id: int | None = None):
    from core.bundle import ModelBundle

    model = session.get(store.Model, model_id)
    if model is None or (project_id is not None and model.project_id != project_id):
        raise NotFoundError(f"Model {model_id} does not exist in this project.", hint="Pick a trained model.")
    return ModelBundle.from_bytes(store.get_blob(session, model.blob_sha))


def _sample(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.sample(SAMPLE_ROWS, random_state=seed).sort_index() if len(frame) > SAMPLE_ROWS else frame


def _prediction_columns(bundle, ref_pred: pd.DataFrame, cur_pred: pd.DataFrame, config: DriftConfig) -> list[ColumnDrift]:
    if bundle.task == "regression":
        pairs = [("prediction", "float")]
    else:
        pairs = [("prediction", "categorical")]
        if bundle.task == "binary":
            pairs.append((f"proba:{bundle.positive_class}", "float"))
    out = [compare_series(ref_pred[name], cur_pred[name], name, config, kind) for name, kind in pairs]
    judge(out, config)
    return out


def _scores(bundle, rows: pd.DataFrame, pred: pd.DataFrame) -> tuple[dict[str, float], int, int]:
    """Every metric of the task on the rows that have a known target; (scores, rows used, unknown labels)."""
    from core.train.tasks import encode_target, get_metric, metrics_for

    y = rows[bundle.target]
    keep = y.notna()
    unknown = 0
    if bundle.task != "regression":
        known = y.map(lambda v: str(v) in {str(c) for c in bundle.classes})
        unknown = int((keep & ~known).sum())
        keep &= known
    if keep.sum() < MIN_LABELLED:
        return {}, int(keep.sum()), unknown
    codes = encode_target(y[keep], bundle.task, bundle.classes)
    if bundle.task == "regression":
        p = pred.loc[keep, "prediction"].to_numpy(dtype=float)
    elif bundle.task == "binary":
        p = pred.loc[keep, f"proba:{bundle.positive_class}"].to_numpy(dtype=float)
    else:
        p = pred.loc[keep, [f"proba:{c}" for c in bundle.classes]].to_numpy(dtype=float)
    threshold = bundle.threshold if bundle.threshold is not None else 0.5
    scores = {}
    for name in metrics_for(bundle.task):
        metric = get_metric(bundle.task, name)
        scores[name] = metric(codes, p, threshold)
    return scores, int(keep.sum()), unknown


def _performance(bundle, ref_rows, cur_rows, ref_pred, cur_pred) -> dict | None:
    """The main metric on the current rows against a baseline: the model's holdout score from
    training when the bundle has one (an honest estimate on unseen rows), else the reference rows."""
    if bundle.target not in cur_rows.columns:
        return None
    from core.train.tasks import get_metric, metrics_for

    meta = bundle.metadata or {}
    main = meta.get("metric") if meta.get("metric") in metrics_for(bundle.task) else MAIN_METRIC[bundle.task]
    metric = get_metric(bundle.task, main)
    cur_scores, cur_n, unknown = _scores(bundle, cur_rows, cur_pred)
    ref_scores, ref_n, _ = _scores(bundle, ref_rows, ref_pred) if bundle.target in ref_rows.columns else ({}, 0, 0)
    holdout = meta.get("holdout") if meta.get("metric") == main else None
    holdout = float(holdout) if isinstance(holdout, (int, float)) and np.isfinite(holdout) else None
    out = {"metric": main, "label": metric.label, "greater_is_better": metric.greater_is_better,
           "rows": [ref_n, cur_n], "unknown_labels": unknown, "status": "not tested",
           "reference": ref_scores.get(main), "holdout": holdout, "current": cur_scores.get(main),
           "baseline_from": "the holdout at training" if holdout is not None else "the reference rows",
           "all": {get_metric(bundle.task, k).label: [ref_scores.get(k), v] for k, v in cur_scores.items()}}
    before = holdout if holdout is not None else out["reference"]
    after = out["current"]
    if not cur_scores:
        out["note"] = f"Too few current rows with a known {bundle.target!r} to measure performance " \
                      f"(at least {MIN_LABELLED})."
        return out
    if before is None or after is None or not np.isfinite(before) or not np.isfinite(after) or before == 0:
        out["note"] = f"{metric.label} has no baseline to compare with (no holdout score, no labelled reference rows)."
        return out
    worse = (before - after) / abs(before) if metric.greater_is_better else (after - before) / abs(before)
    out.update(baseline=before, worse_by=float(worse),
               status="drift" if worse >= PERFORMANCE_DRIFT else "warning" if worse >= PERFORMANCE_WARNING
               else "stable")
    return out


def _column_importance(bundle, names: list[str]) -> dict[str, float]:
    """The model's importance shares summed per raw column (date parts ``col.part`` go to ``col``)."""
    columns = set(names)
    out: dict[str, float] = {}
    for feature, share in bundle.feature_importance().items():
        column = feature if feature in columns else feature.rsplit(".", 1)[0]
        if column in columns:
            out[column] = out.get(column, 0.0) + float(share)
    return out


def model_drift(bundle, reference: pd.DataFrame, current: pd.DataFrame, columns: list[ColumnDrift],
                config: DriftConfig) -> dict:
    """The ``model`` section of a drift result (also sets each column's ``importance``)."""
    importance = _column_importance(bundle, [c.name for c in columns])
    for c in columns:
        c.importance = importance.get(c.name)
    order = sorted(importance, key=lambda n: -importance[n])
    drifted = [c.name for c in columns if c.status == "drift"]
    section = {
        "task": bundle.task, "target": bundle.target, "status": "stable", "summary": "", "lines": [],
        "importance": importance, "importance_order": order,
        "drifted_importance": float(sum(importance.get(n, 0.0) for n in drifted)),
        "missing_inputs": [c for c in bundle.input_schema if c not in current.columns],
        "predictions": [], "performance": None, "rows": [0, 0], "note": "",
    }
    if section["missing_inputs"]:
        shown = ", ".join(repr(c) for c in section["missing_inputs"][:5])
        section.update(status="drift", summary=f"The model cannot score the current rows: they lack {shown}.")
        section["lines"] = [section["summary"]]
        return section
    ref_rows, cur_rows = _sample(reference, config.seed), _sample(current, config.seed)
    try:
        ref_pred, cur_pred = bundle.predict(ref_rows), bundle.predict(cur_rows)
    except AssayError as exc:
        section.update(status="drift", summary=f"The model cannot score the rows: {exc.message}")
        section["lines"] = [section["summary"]]
        return section
    section["rows"] = [len(ref_rows), len(cur_rows)]
    predictions = _prediction_columns(bundle, ref_pred, cur_pred, config)
    section["predictions"] = [vars(p) for p in predictions]
    performance = _performance(bundle, ref_rows, cur_rows, ref_pred, cur_pred)
    section["performance"] = performance
    statuses = [p.status for p in predictions] + ([performance["status"]] if performance else [])
    section["status"] = "drift" if "drift" in statuses else "warning" if "warning" in statuses else "stable"
    section["summary"], section["lines"] = _describe(section, predictions, performance, columns)
    return section


def _describe(section: dict, predictions: list[ColumnDrift], performance: dict | None,
              columns: list[ColumnDrift]) -> tuple[str, list[str]]:
    main = predictions[0]
    moved = main.status in ("drift", "warning")
    lines = [f"Predictions ({section['rows'][0]:,} reference and {section['rows'][1]:,} current rows scored): "
             f"{main.status}" + (f": {'; '.join(main.reasons)}." if main.reasons else ".")]
    for extra in predictions[1:]:
        lines.append(f"{extra.name}: {extra.status}" + (f": {'; '.join(extra.reasons)}." if extra.reasons else "."))
    summary = ["The model's predictions moved." if moved else "The model's predictions look the same."]
    if performance and "worse_by" in performance:
        verb = "worse" if performance["worse_by"] > 0 else "better"
        text = (f"{performance['label']} {format_number(performance['baseline'])} → "
                f"{format_number(performance['current'])} "
                f"({abs(performance['worse_by']):.0%} {verb}) on {performance['rows'][1]:,} labelled current rows")
        ref_text = f"; {format_number(performance['reference'])} on the reference rows" \
            if performance["holdout"] is not None and performance["reference"] is not None else ""
        lines.append(f"Performance: {performance['status']}: {text} (baseline: {performance['baseline_from']}"
                     f"{ref_text}).")
        summary.append(f"Its {text}.")
        if performance["unknown_labels"]:
            lines.append(f"{performance['unknown_labels']:,} current rows have a {section['target']!r} the model "
                         "never saw; they are left out of the scores.")
    elif performance and performance.get("note"):
        lines.append(performance["note"])
    ranked = [c for c in columns if c.status == "drift" and c.importance]
    ranked.sort(key=lambda c: -c.importance)
    if ranked:
        names = ", ".join(f"{c.name} ({c.importance:.0%})" for c in ranked[:5])
        lines.append(f"Drifted columns carry {section['drifted_importance']:.0%} of the model's importance: {names}.")
        summary.append(f"Drifted columns carry {section['drifted_importance']:.0%} of its importance.")
    return " ".join(summary), lines
