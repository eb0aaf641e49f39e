"""The model card: what a model predicts, from what, how it was validated, how well it does, its limits.

:func:`card_for_model` gathers a :class:`ModelCard` from stored data only (the model's
bundle, its training run, its dataset, drift reports that used it);
:func:`build_card` does the same from the parts, so a bundle file alone (no store)
still gets a card. The card is plain JSON-able data; :mod:`core.model_card_html`
draws it as a one-page HTML report.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from core.scoring import family_of

__all__ = ["ModelCard", "build_card", "card_for_model", "CARD_VERSION"]

CARD_VERSION = 1
_TOP_FEATURES = 15
_LEADERBOARD_ROWS = 10
_SMALL_HOLDOUT = 200
_RARE_CLASS = 0.05


@dataclass
class ModelCard:
    title: str
    facts: dict  # project, dataset, model and run ids, created, target, task, classes
    summary: str  # one paragraph in plain words
    tiles: list[dict] = field(default_factory=list)  # {"label", "value", "note"}
    data: dict = field(default_factory=dict)
    columns: list[dict] = field(default_factory=list)  # the columns the model reads: name, kind, what training saw
    recipe: list[dict] = field(default_factory=list)  # {"stage", "number", "text", "scoring"}
    validation: dict = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)  # {"name", "label", "value", "baseline", "chosen"}
    evaluation: dict = field(default_factory=dict)  # chart data of core.train.evaluation
    leaderboard: list[dict] = field(default_factory=list)
    features: list[tuple[str, float]] = field(default_factory=list)
    holdout_importance: list[tuple[str, float]] = field(default_factory=list)  # (column, mean drop in the metric)
    holdout_note: str = ""  # how it was measured, or why there is none
    limitations: list[str] = field(default_factory=list)
    reproduce: dict = field(default_factory=dict)
    version: int = CARD_VERSION

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- helpers


def _num(value, digits: int = 4) -> str:
    """A figure for people: 0.8379, 704.5, 18,780, 1.2e-05."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if not isinstance(value, float):
        return f"{value:,}"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _metric_label(task: str, name: str | None) -> str:
    from core.train.tasks import get_metric

    try:
        return get_metric(task, name).label
    except Exception:  # noqa: BLE001 - an old run may name a metric this version does not know
        return str(name)


def _greater_is_better(task: str, name: str | None) -> bool:
    from core.train.tasks import get_metric

    try:
        return get_metric(task, name).greater_is_better
    except Exception:  # noqa: BLE001
        return True


def _column_profile(series: pd.Series, kind: str) -> str:
    """What training saw in a column, in a few words (from the bundle's reference sample)."""
    values = series.dropna()
    missing = 1 - len(values) / len(series) if len(series) else 0.0
    note = f"; {missing:.0%} missing" if missing >= 0.005 else ""
    if values.empty:
        return "no values" + note
    family = family_of(kind)
    if family == "numbers" and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return f"{_num(float(values.min()))} to {_num(float(values.max()))}" + note
    if family == "dates" and pd.api.types.is_datetime64_any_dtype(values):
        return f"{values.min():%Y-%m-%d} to {values.max():%Y-%m-%d}" + note
    counts = values.astype(str).value_counts()
    top = ", ".join(f"{label!r}" for label in counts.index[:3])
    more = f" and {len(counts) - 3:,} more" if len(counts) > 3 else ""
    return f"{top}{more}" + note


def _recipe_lines(bundle) -> list[dict]:
    recipe = bundle.fitted_recipe.recipe
    lines = []
    for stage, steps in (("Cleaning", recipe.clean), ("Feature", recipe.features)):
        for number, step in enumerate(steps, start=1):
            lines.append({"stage": stage, "number": number, "text": step.describe(),
                          "scoring": "skipped when scoring (training rows only)" if step.training_only
                          else "replayed on new rows"})
    return lines


def _leaderboard(run: dict, greater_is_better: bool) -> list[dict]:
    records = run.get("leaderboard") or []
    if not records:
        return []
    from core.train import board

    table = board.leaderboard_table(records, greater_is_better)
    keep = [c for c in ("Rank", "Model", "Settings", "CV mean", "CV ±", "Holdout", "Fit s", "Status")
            if c in table.columns]
    chosen = table["Status"].astype(str).eq("chosen") if "Status" in table.columns else pd.Series(False, table.index)
    shown = (pd.Series(range(len(table)), index=table.index) < _LEADERBOARD_ROWS) | chosen  # the chosen one always
    table = table.loc[shown, keep]
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
            for row in table.astype(object).where(table.notna(), None).to_dict("records")]


def _drift_lines(drift: list[dict]) -> list[str]:
    out = []
    for report in drift:
        status = report.get("status")
        if status in ("drift", "warning"):
            when = str(report.get("created_at") or "")[:10]
            title = report.get("title") or "new data"
            word = "Drift" if status == "drift" else "Possible drift"
            out.append(f"{word} found on {title}" + (f" ({when})" if when else "") + f": {report.get('headline', '')}")
    return out


# --------------------------------------------------------------------------- the card


def build_card(bundle, *, name: str, bundle_sha: str = "", run: dict | None = None, dataset: dict | None = None,
               project: str | None = None, model_id: int | None = None, drift: list[dict] | None = None) -> ModelCard:
    """A card from a bundle and (when known) its run, dataset and drift reports, all plain data.

    ``run``: ``leaderboard``, ``metrics`` (``summary``, ``evaluation``, ``preflight``), ``split``,
    ``config``, ``id``; ``dataset``: ``name``, ``file_name``, ``n_rows``, ``n_cols``, ``roles``;
    ``drift``: ``title``, ``status``, ``headline``, ``created_at`` of drift reports on this model.
    """
    run, dataset, drift = run or {}, dataset or {}, drift or []
    metrics_json = run.get("metrics") or {}
    summary = metrics_json.get("summary") or {}
    evaluation = metrics_json.get("evaluation") or {}
    preflight = metrics_json.get("preflight") or {}
    meta = bundle.metadata or {}
    task, target = bundle.task, bundle.target
    metric = summary.get("metric") or meta.get("metric")
    label = summary.get("metric_label") or _metric_label(task, metric)
    higher = summary.get("greater_is_better", _greater_is_better(task, metric))
    holdout = summary.get("holdout", meta.get("holdout"))
    baseline = summary.get("holdout_baseline", meta.get("holdout_baseline"))
    cv = summary.get("cv") or {"mean": meta.get("cv_mean"), "std": meta.get("cv_std")}
    rows = summary.get("rows") or meta.get("rows") or {}
    classes = bundle.classes or []
    reference = bundle.reference_frame()

    what = f"one of {len(classes)} classes" if task == "multiclass" else "a number"
    if task == "binary":
        what = f"whether it is {bundle.positive_class!r} rather than {classes[0]!r}"
    text = [f"This model predicts {target!r} ({what}) from {len(bundle.input_schema)} column(s)"]
    if dataset.get("name"):
        text.append(f" of the dataset {dataset['name']!r}")
    text.append(".")
    if holdout is not None:
        text.append(f" On {_num(rows.get('holdout', evaluation.get('rows')))} rows it never saw while training, "
                    f"it scores {label} {_num(holdout)}")
        trivial = "the training average" if task == "regression" else "the class shares seen in training"
        text.append(f", where always predicting {trivial} scores {_num(baseline)}." if baseline is not None else ".")
        text.append(f" ({'Higher' if higher else 'Lower'} is better.)")
    facts = {"project": project, "dataset": dataset.get("name"), "model_id": model_id, "run_id": run.get("id"),
             "target": target, "task": task, "classes": classes, "created": meta.get("created"),
             "threshold": bundle.threshold, "positive_class": bundle.positive_class}

    tiles = [{"label": f"Holdout {label}", "value": _num(holdout), "note": f"trivial model: {_num(baseline)}"}]
    one_part = (summary.get("folds") or (run.get("split") or {}).get("folds")) == 1  # no spread across folds
    if cv.get("mean") is not None:
        tiles.append({"label": f"{'Validation' if one_part else 'Cross-validated'} {label}",
                      "value": _num(cv.get("mean")),
                      "note": "one validation part" if one_part else f"± {_num(cv.get('std'), 2)} across folds"})
    tiles.append({"label": "Training rows", "value": _num(rows.get("used") or dataset.get("n_rows")),
                  "note": f"{_num(rows.get('holdout'))} held out" if rows.get("holdout") is not None else ""})
    if summary.get("n_trials"):
        chosen = summary.get("chosen") or {}
        tiles.append({"label": "Models tried", "value": _num(summary["n_trials"]),
                      "note": "chosen: an ensemble" if chosen.get("kind") == "ensemble"
                      else f"chosen: {chosen.get('best_family', '')}"})

    data = {"dataset": dataset.get("name"), "file": dataset.get("file_name"), "rows": dataset.get("n_rows"),
            "columns": dataset.get("n_cols"), "rows_used": rows.get("used"),
            "dropped_missing_target": preflight.get("dropped_missing_target"),
            "left_out": dict(summary.get("left_out") or {}), "reference_rows": int(len(reference)),
            "task_reason": preflight.get("task_reason")}
    if task != "regression" and target in reference and len(reference):
        shares = reference[target].astype(str).value_counts(normalize=True)
        data["target_shares"] = [(str(k), float(v)) for k, v in shares.items()]
    elif target in reference and len(reference):
        values = pd.to_numeric(reference[target], errors="coerce").dropna()
        if len(values):
            data["target_range"] = [float(values.min()), float(values.median()), float(values.max())]
    columns = [{"name": c, "kind": k,
                "seen": _column_profile(reference[c], k) if c in reference and len(reference) else ""}
               for c, k in bundle.input_schema.items()]

    split = run.get("split") or {}
    validation = {"method": summary.get("validation") or split.get("method") or meta.get("validation"),
                  "scheme": split.get("scheme"), "folds": summary.get("folds") or split.get("folds"),
                  "holdout_rows": rows.get("holdout") or split.get("holdout_rows"),
                  "search_rows": rows.get("search") or split.get("search_rows"),
                  "refit": summary.get("refit") or meta.get("refit"), "seed": summary.get("seed", meta.get("seed")),
                  "metric": label, "threshold": bundle.threshold,
                  "threshold_metric": summary.get("threshold_metric") or meta.get("threshold_metric"),
                  "time_budget": summary.get("time_budget") or meta.get("time_budget"),
                  "notes": list(split.get("notes") or [])}

    metrics = []
    scores, base_scores = evaluation.get("scores") or {}, evaluation.get("baseline_scores") or {}
    for key, value in scores.items():
        metrics.append({"name": key, "label": _metric_label(task, key), "value": value,
                        "baseline": base_scores.get(key), "chosen": key == metric,
                        "higher_is_better": _greater_is_better(task, key)})

    importance = bundle.feature_importance()
    features = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)[:_TOP_FEATURES]
    from core.explain.importance import holdout_importance

    held, holdout_note = holdout_importance(meta)
    held_features = []
    if held is not None:
        held_features = sorted(zip(held.features, held.mean), key=lambda kv: kv[1], reverse=True)[:_TOP_FEATURES]
        holdout_note = (f"How much worse the model's {held.metric_label} gets when one column's values are shuffled: "
                        f"measured {held.note}.")

    limitations = list(summary.get("warnings") or preflight.get("warnings") or [])
    for leak in preflight.get("leaks") or []:
        sentence = leak.get("sentence") if isinstance(leak, dict) else str(leak)
        if sentence and sentence not in limitations:
            limitations.append(sentence)
    limitations += _drift_lines(drift)
    n_holdout = rows.get("holdout") or evaluation.get("rows")
    if n_holdout is not None and n_holdout < _SMALL_HOLDOUT:
        limitations.append(f"The holdout has only {n_holdout:,} rows, so its score is a rough estimate.")
    if holdout is not None and cv.get("mean") is not None and cv.get("std") is not None:
        gap = abs(holdout - cv["mean"])
        if gap > max(3 * cv["std"], 0.02 * abs(cv["mean"])):
            limitations.append(f"The holdout score ({_num(holdout)}) differs from the "
                               f"{'validation' if one_part else 'cross-validated'} one ({_num(cv['mean'])}) by more "
                               f"than {'2%' if one_part else 'the folds varied'}: expect scores on new data to move "
                               "as much.")
    if holdout is not None and baseline is not None and baseline != 0:
        gain = (holdout - baseline) if higher else (baseline - holdout)
        if gain < 0.05 * abs(baseline):
            limitations.append(f"The model barely beats a trivial one ({label} {_num(holdout)} against "
                               f"{_num(baseline)}): it may not be worth using.")
    for label_, share in data.get("target_shares", []):
        if share < _RARE_CLASS:
            limitations.append(f"The class {label_!r} is rare ({share:.1%} of training rows): its predictions are "
                               "less reliable than the overall score suggests.")
    if validation["scheme"] == "time":
        limitations.append("Validated forward in time; the further new rows lie beyond the training period, the "
                           "less the scores above apply.")
    elif validation["scheme"] is not None:
        limitations.append("Rows were validated in random order: if the data changes over time, scores on future "
                           "rows can be lower.")
    limitations.append("Values outside what training saw (see 'Columns the model reads') are extrapolated, and "
                       "labels it never saw count as unknown.")

    reproduce = {"seed": validation["seed"], "run_id": run.get("id"), "bundle_sha256": bundle_sha,
                 "libraries": dict(meta.get("libraries") or {}), "created": meta.get("created"),
                 "time_budget": validation["time_budget"]}
    return ModelCard(title=f"Model card: {name}", facts=facts, summary="".join(text), tiles=tiles, data=data,
                     columns=columns, recipe=_recipe_lines(bundle), validation=validation, metrics=metrics,
                     evaluation=evaluation, leaderboard=_leaderboard(run, higher), features=features,
                     holdout_importance=held_features, holdout_note=holdout_note,
                     limitations=limitations, reproduce=reproduce)


def card_for_model(session, model_id: int, project_id: int) -> ModelCard:
    """The card of a stored model, from stored data only (the caller checked the project's access)."""
    import sqlalchemy as sa

    from core import store
    from core.bundle import ModelBundle
    from core.errors import NotFoundError

    model = session.get(store.Model, model_id)
    if model is None or model.project_id != project_id:
        raise NotFoundError(f"Model {model_id} does not exist in this project.", hint="Pick another model.")
    data = store.get_blob(session, model.blob_sha)
    bundle = ModelBundle.from_bytes(data)
    run_row = session.get(store.Run, model.run_id)
    run = {"id": run_row.id, "leaderboard": run_row.leaderboard, "metrics": run_row.metrics, "split": run_row.split,
           "config": run_row.config} if run_row is not None else None
    dataset_row = session.get(store.Dataset, run_row.dataset_id) if run_row is not None else None
    dataset = {"name": dataset_row.name, "file_name": dataset_row.file_name, "n_rows": dataset_row.n_rows,
               "n_cols": dataset_row.n_cols, "roles": dataset_row.roles} if dataset_row is not None else None
    reports = session.scalars(sa.select(store.Report).where(store.Report.model_id == model_id,
                                                            store.Report.kind == "drift")
                              .order_by(store.Report.id.desc()).limit(5)).all()
    drift = [{"title": r.title, "status": (r.data or {}).get("status"), "headline": (r.data or {}).get("headline"),
              "created_at": r.created_at.isoformat()} for r in reports]
    project = store.get_project(session, project_id).name
    return build_card(bundle, name=model.name, bundle_sha=hashlib.sha256(data).hexdigest(), run=run,
                      dataset=dataset, project=project, model_id=model.id, drift=drift)
