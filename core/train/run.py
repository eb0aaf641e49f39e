"""A whole training run: raw table + recipe + config -> a model bundle and its leaderboard.

1. The recipe's cleaning steps run on the whole table; the checks refuse or flag.
2. The holdout is set aside; the folds are cut from the other (search) rows.
3. Feature steps are fitted per fold on that fold's training rows only and replayed
   on its validation rows; the model-input table is decided on the search rows.
4. The search (:mod:`core.train.search`) runs trials until its deadline, which
   leaves time for what follows.
5. Ensemble selection over out-of-fold predictions; a binary threshold tuned on them.
6. The chosen model (or ensemble) is scored on the holdout by models that never saw
   it (its fold models, or a refit on the search rows with the iteration counts found
   in cross-validation); the same models measure permutation importance of the input
   columns on the holdout (:mod:`core.train.importance`), within the time left. Then,
   when time allows, the model is refitted once more on every row (holdout included)
   for delivery.

Every random choice follows ``config.seed``; the same table, recipe, config and seed
give the same splits and, with one worker, the same model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from core.bundle import Member, ModelBundle, library_versions, utc_now_iso
from core.recipe import FittedRecipe, Recipe
from core.steps import FitContext
from core.train import ensemble, evaluation, zoo
from core.train.checks import Preflight, preflight
from core.train.config import TrainConfig
from core.train.prep import InputSpec, infer_spec
from core.train.search import Clock, CostModel, Search, SearchSetup, TrainingCancelled, create_study, record_of
from core.train.split import Split, auto_folds, make_split
from core.train.tasks import encode_target, get_metric

__all__ = ["TrainResult", "Prepared", "prepare", "train", "search_only", "TrainingCancelled"]

log = logging.getLogger("assay.train")

_OVERHEAD_S = 1.0  # ensemble selection, holdout scoring, bundle and store writes (plus a share of the budget)
_OVERHEAD_SHARE = 0.03
_IMPORTANCE_SHARE = 0.05  # permutation importance on the holdout (it stops at the time it is given)


@dataclass
class Prepared:
    """The run's data, split and folds: identical in every worker that takes part."""

    config: TrainConfig
    pre: Preflight
    frame: pd.DataFrame  # cleaned rows with a target; positions are what the split indexes
    clean_states: tuple
    recipe: Recipe
    context: FitContext
    y: np.ndarray
    split: Split
    spec: InputSpec
    setup: SearchSetup
    search_recipe: FittedRecipe  # feature steps fitted on all search rows
    X_search: pd.DataFrame
    dropped: dict[str, str]
    kinds: dict[str, str]


@dataclass
class TrainResult:
    bundle: ModelBundle
    leaderboard: list[dict]
    summary: dict
    evaluation: dict
    split: dict
    preflight: dict
    timings: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- preparation


def prepare(raw: pd.DataFrame, config: TrainConfig, *, recipe: Recipe | None = None,
            kinds: dict[str, str] | None = None, budget_s: float | None = None) -> Prepared:
    """Clean, check, split and fit the feature steps per fold."""
    recipe = recipe or Recipe()
    kinds = {str(k): str(v) for k, v in (kinds or {}).items()}
    context = FitContext(target=config.target, time=config.time, id=config.id, group=config.group,
                         kinds=kinds, seed=config.seed)
    cleaned, clean_states = recipe.apply_clean(raw, context)
    pre = preflight(cleaned, config)
    frame = pre.frame
    metric = get_metric(pre.task, pre.metric)
    y = encode_target(frame[config.target], pre.task, pre.classes)
    roles = {c for c in (config.target, config.time, config.group, config.id) if c}
    n_features_guess = max(frame.shape[1] - len(roles), 1)
    folds = config.folds or auto_folds(len(frame), n_features_guess, budget_s or config.time_budget)
    split = make_split(
        y, pre.task, folds=folds, seed=config.seed, holdout_share=config.holdout_share,
        time=frame[config.time] if config.time else None, groups=frame[config.group] if config.group else None,
        class_names=pre.classes,
    )
    pre.warnings.extend(split.notes)
    search_rows = frame.iloc[split.search]
    search_fitted, search_features = _fit_features(recipe, clean_states, search_rows, context)
    exclude = roles | set(pre.excluded)
    spec, dropped = infer_spec(search_features.drop(columns=[config.target], errors="ignore"), kinds,
                               exclude=exclude)
    for column, why in pre.excluded.items():
        dropped.setdefault(column, why)
    X_search = spec.transform(search_features)
    y_search = y[split.search]
    fold_data, valid_positions = [], []
    for train_pos, valid_pos in split.folds:
        if recipe.features:
            fitted, train_frame = _fit_features(recipe, clean_states, search_rows.iloc[train_pos], context)
            X_train = spec.transform(train_frame, lenient=True)
            X_valid = spec.transform(fitted.transform_features(search_rows.iloc[valid_pos]), lenient=True)
        else:
            fitted, X_train, X_valid = None, X_search.iloc[train_pos], X_search.iloc[valid_pos]
        fold_data.append(zoo.FoldData(X_train, y_search[train_pos], X_valid, y_search[valid_pos],
                                      fitted=fitted if recipe.features else None))
        valid_positions.append(np.asarray(valid_pos))
    threshold_metric = None
    if pre.task == "binary":
        threshold_metric = config.threshold_metric or (pre.metric if metric.uses_threshold else "f1")
    ctx = zoo.ZooContext(task=pre.task, n_classes=len(pre.classes or []), spec=spec, threads=config.n_threads,
                         seed=config.seed, class_weights=config.class_weights)
    setup = SearchSetup(folds=fold_data, valid_positions=valid_positions, y=y_search, metric=metric, ctx=ctx,
                        n_search=len(split.search), n_all=len(frame), threshold_metric=threshold_metric,
                        families=tuple(config.families))
    return Prepared(config, pre, frame, tuple(clean_states), recipe, context, y, split, spec, setup,
                    search_fitted, X_search, dropped, kinds)


def _fit_features(recipe: Recipe, clean_states, rows: pd.DataFrame, context: FitContext):
    if not recipe.features:
        return FittedRecipe(recipe, tuple(clean_states), ()), rows
    transformed, states = recipe.fit_features(rows, context)
    return FittedRecipe(recipe, tuple(clean_states), tuple(states)), transformed


# --------------------------------------------------------------------------- the run


def train(
    raw: pd.DataFrame, config: TrainConfig, *, recipe: Recipe | None = None, kinds: dict[str, str] | None = None,
    progress: Callable[[float, str, list[dict]], None] | None = None, cancelled: Callable[[], bool] | None = None,
    storage=None, study_name: str | None = None, extra_oof: Callable[[], dict[int, np.ndarray]] | None = None,
    on_study: Callable[[object], None] | None = None, on_prepared: Callable[[Prepared], None] | None = None,
    run_id: int | None = None,
) -> TrainResult:
    """Train the best model ``config.time_budget`` seconds allow (everything included)."""
    clock = Clock(config.time_budget)
    cancelled = cancelled or (lambda: False)
    started_epoch = time.time()
    say = progress or (lambda *_: None)
    say(0.0, "Preparing the data", [])
    prep = prepare(raw, config, recipe=recipe, kinds=kinds)
    if on_prepared is not None:
        on_prepared(prep)
    timings = {"prepare_s": round(clock.elapsed(), 2)}
    setup = prep.setup
    metric = setup.metric
    cost = CostModel(setup)
    if "catboost" in config.families:
        cost.probe(config.time_budget, cancelled)
        setup.ctx.base_lr = cost.base_learning_rate(clock.left())
    study = create_study(metric, storage=storage, study_name=study_name, seed=config.seed,
                         n_folds=len(setup.folds))
    study.set_user_attr("base_lr", setup.ctx.base_lr)
    study.set_user_attr("fingerprint", prep.split.fingerprint())
    study.set_user_attr("deadline_epoch", started_epoch + config.time_budget)
    if on_study is not None:
        on_study(study)
    finish = _OVERHEAD_S + _OVERHEAD_SHARE * config.time_budget  # ensemble, holdout scoring, bundle, store
    overhead = finish + _IMPORTANCE_SHARE * config.time_budget  # and permutation importance on the holdout
    refits = 1 if config.refit_all else 0

    def on_trial(record, _oof):
        records = [record_of(t) for t in study.get_trials(deepcopy=False) if t.state.name != "WAITING"]
        best = _best(records, metric)
        text = f"Trial {record['number'] + 1} done"
        if best is not None:
            text += f" · best {metric.label} {best['cv_mean']:.4f} ({zoo.FAMILY_LABELS[best['family']]})"
        say(min(clock.elapsed() / config.time_budget, 0.99), text, records)

    search = Search(setup, study, clock, cancelled=cancelled, on_trial=on_trial, cost=cost,
                    run_start_epoch=started_epoch)
    search.enqueue_portfolio()
    say(clock.elapsed() / config.time_budget, "Searching", [])
    published = [0.0]

    def search_deadline() -> float:
        """The search's end (monotonic); published to the study so that helpers stop with it."""
        end = clock.deadline - search.reserve(overhead, refits)
        epoch = time.time() + (end - time.monotonic())
        if storage is not None and abs(epoch - published[0]) > 0.5:
            study.set_user_attr("search_end_epoch", epoch)
            published[0] = epoch
        return end

    search.run(search_deadline)
    if storage is not None:
        study.set_user_attr("search_end_epoch", time.time())  # helpers start nothing more
    timings["search_s"] = round(clock.elapsed() - timings["prepare_s"], 2)
    if cancelled():
        raise TrainingCancelled()

    records = [record_of(t) for t in study.get_trials(deepcopy=False) if t.state.name != "WAITING"]
    best = _best(records, metric)
    if best is None:
        raise _nothing_finished(records, config)
    say(min(clock.elapsed() / config.time_budget, 0.99), "Choosing the ensemble", records)
    oof = dict(search.oof)
    if extra_oof is not None:
        oof.update({n: p for n, p in extra_oof().items() if n not in oof})
    params = {r["number"]: {"family": r["family"], **r["params"]} for r in records if r["status"] == "complete"}
    selection = _select(prep, oof, best, params, cost, clock, overhead, refits)
    timings["ensemble_s"] = round(clock.elapsed() - timings["prepare_s"] - timings["search_s"], 2)

    say(min(clock.elapsed() / config.time_budget, 0.99), "Scoring the holdout", records)
    by_number = {r["number"]: r for r in records}
    evaluated, fitted_a, predict_unseen = _score_holdout(prep, search, selection, params, by_number, cancelled)
    estimates = {n: cost.seconds(params[n], setup.n_all, _refit_iterations(by_number[n], setup, setup.n_all))
                 for n in selection.weights}
    bag_ready = not prep.recipe.features and all(n in search.fold_models for n in selection.weights)
    to_refit = _members_to_refit(selection.weights, estimates, clock.left() - overhead, bag_ready) \
        if config.refit_all else set()
    log.info("Refit on every row: %s of %d member(s), about %.1f s of %.1f s left (overhead %.1f s)",
             len(to_refit), len(selection.weights), sum(estimates[n] for n in to_refit), clock.left(), overhead)
    timings["holdout_s"] = round(clock.elapsed() - sum(timings.values()), 2)
    say(min(clock.elapsed() / config.time_budget, 0.99), "Permutation importance on the holdout", records)
    if config.refit_all:
        later = sum(estimates[n] for n in to_refit)
    else:
        later = sum(cost.seconds(params[n], setup.n_search, _refit_iterations(by_number[n], setup, setup.n_search))
                    for n in selection.weights if n not in fitted_a)
    importance = _importance(prep, predict_unseen, selection, evaluated, clock.left() - finish - later)
    log.info("Holdout permutation importance: %s", importance.get("reason") or f"{importance['repeats']} repeats")
    timings["importance_s"] = round(clock.elapsed() - sum(timings.values()), 2)
    if cancelled():
        raise TrainingCancelled()
    if config.refit_all:
        members = []
        if to_refit:
            say(min(clock.elapsed() / config.time_budget, 0.99), "Refitting on every row", records)
            final_recipe, all_rows = _fit_features(prep.recipe, prep.clean_states, prep.frame, prep.context)
            X_final = prep.spec.transform(all_rows, lenient=True)
        else:
            final_recipe, X_final = prep.search_recipe, prep.X_search
        for n, w in selection.weights.items():
            if n in to_refit:
                members.append((n, params[n]["family"], w, zoo.fit_final(
                    params[n], X_final, prep.y, setup.ctx, _refit_iterations(by_number[n], setup, setup.n_all),
                    cancelled=cancelled)))
            else:  # no time to refit it: its cross-validation models, averaged, stand in for it
                family = params[n]["family"]
                members.extend((n, family, w / len(setup.folds), zoo.self_contained(family, model, fold))
                               for model, fold in zip(search.fold_models[n], setup.folds))
        refit_scope = _refit_scope(selection.weights, to_refit)
    else:
        say(min(clock.elapsed() / config.time_budget, 0.99), "Refitting on the search rows", records)
        final_recipe, X_final, refit_scope = prep.search_recipe, prep.X_search, "search rows"
        y_search = prep.y[prep.split.search]
        members = [(n, params[n]["family"], w, fitted_a[n] if n in fitted_a else
                    zoo.fit_final(params[n], prep.X_search, y_search, setup.ctx,
                                  _refit_iterations(by_number[n], setup, setup.n_search), cancelled=cancelled))
                   for n, w in selection.weights.items()]
    if cancelled():
        raise TrainingCancelled()
    timings["refit_s"] = round(clock.elapsed() - sum(timings.values()), 2)

    summary = _summary(prep, records, best, selection, evaluated, refit_scope, config)
    summary["holdout_importance"] = importance
    bundle = _bundle(prep, raw, final_recipe, members, params, summary, X_final, run_id, clock.deadline)
    leaderboard = _leaderboard(records, selection, summary["holdout"])
    timings["total_s"] = round(clock.elapsed(), 2)
    summary["timings"] = timings
    bundle.metadata["timings"] = timings
    say(1.0, "Done", records)
    return TrainResult(bundle=bundle, leaderboard=leaderboard, summary=summary, evaluation=evaluated,
                       split=prep.split.to_dict(), preflight=prep.pre.to_dict(), timings=timings)


def search_only(raw: pd.DataFrame, config: TrainConfig, study, *, recipe: Recipe | None = None,
                kinds: dict[str, str] | None = None, cancelled: Callable[[], bool] | None = None,
                on_trial=None) -> int:
    """Take part in another worker's run: trials on the same study until its deadline.

    Returns how many trials this worker ran. Refuses to run when this worker's split
    differs from the run's (different data or code), so scores stay comparable.
    """
    from core.errors import JobError

    attrs = study.user_attrs
    deadline_epoch = float(attrs["deadline_epoch"])
    left = deadline_epoch - time.time()
    prep = prepare(raw, config, recipe=recipe, kinds=kinds, budget_s=config.time_budget)
    if prep.split.fingerprint() != attrs.get("fingerprint"):
        raise JobError("This worker does not see the same rows and folds as the run it joins, so it stopped.",
                       hint="Run the same Assay version on every worker.")
    prep.setup.ctx.base_lr = float(attrs["base_lr"])
    clock = Clock(max(left, 0.0))
    cost = CostModel(prep.setup)
    if "catboost" in config.families:
        cost.probe(clock.budget, cancelled)

    def search_deadline() -> float:  # the main worker's, as it last published it
        end_epoch = float(study.user_attrs.get("search_end_epoch", deadline_epoch))
        return time.monotonic() + (end_epoch - time.time())

    search = Search(prep.setup, study, clock, cancelled=cancelled, on_trial=on_trial, cost=cost,
                    run_start_epoch=deadline_epoch - config.time_budget)
    try:
        search.run(search_deadline)
    except KeyError:  # the run ended and removed its study while this worker was in a trial
        pass
    return search.finished


# --------------------------------------------------------------------------- helpers


def _best(records: list[dict], metric) -> dict | None:
    done = [r for r in records if r["status"] == "complete" and r["cv_mean"] is not None]
    if not done:
        return None
    return max(done, key=lambda r: r["cv_mean"] if metric.greater_is_better else -r["cv_mean"])


def _nothing_finished(records: list[dict], config: TrainConfig):
    from core.errors import ValidationError

    notes = "; ".join(sorted({r["note"] for r in records if r.get("note")}))[:400]
    return ValidationError(
        f"No model finished within the {config.time_budget:g} s budget" + (f" ({notes})." if notes else "."),
        hint="Give the search more time, or train on fewer rows or columns.",
    )


def _score_holdout(prep: Prepared, search: Search, selection: ensemble.Selection, params: dict, by_number: dict,
                   cancelled) -> tuple[dict, dict, Callable[[pd.DataFrame], np.ndarray]]:
    """Evaluate the chosen model on the holdout with models that never saw it: each member's
    fold models when they were kept (no extra fit), else a refit on the search rows.

    Returns the evaluation, the refits it made (trial number -> estimator) and the
    prediction function that scored the holdout (cleaned rows -> the blend's output),
    which permutation importance reuses.
    """
    setup = prep.setup
    holdout_rows = prep.frame.iloc[prep.split.holdout]
    y_search, y_holdout = prep.y[prep.split.search], prep.y[prep.split.holdout]
    fitted = {}
    for n in selection.weights:
        if n not in search.fold_models:
            fitted[n] = zoo.fit_final(params[n], prep.X_search, y_search, setup.ctx,
                                      _refit_iterations(by_number[n], setup, setup.n_search), cancelled=cancelled)
            if cancelled():
                raise TrainingCancelled()

    def predict(rows: pd.DataFrame) -> np.ndarray:
        """The blend's output on cleaned rows the search never saw, by models that never saw them."""
        X = prep.spec.transform(prep.search_recipe.transform_features(rows), lenient=True)
        # each fold's feature steps and encodings are applied once per call, whatever the number of members
        through_folds: dict[int, pd.DataFrame] = {}
        memos: dict = {}
        out = {}
        for n in selection.weights:
            family = params[n]["family"]
            if n in fitted:
                out[n] = zoo.predict(family, fitted[n], X, setup.ctx)
                continue
            parts = []
            for i, (model, fold) in enumerate(zip(search.fold_models[n], setup.folds)):
                if fold.fitted is not None and i not in through_folds:
                    through_folds[i] = prep.spec.transform(fold.fitted.transform_features(rows), lenient=True)
                seen = i if fold.fitted is not None else None  # the rows as this fold's models see them
                parts.append(zoo.predict_fold(family, model, fold, through_folds.get(i, X), setup.ctx,
                                              memos.setdefault(seen, {})))
            out[n] = np.mean(parts, axis=0)
        return _blend(out, selection.weights)

    baseline = evaluation.baseline_prediction(y_search, len(y_holdout), setup.ctx.task, setup.ctx.n_classes)
    evaluated = evaluation.evaluate(y_holdout, predict(holdout_rows), setup.ctx.task,
                                    prep.pre.classes, threshold=selection.threshold, baseline=baseline,
                                    seed=prep.config.seed)
    evaluated["scored_by"] = ("the cross-validation models" if not fitted else
                              "a refit on the search rows" if len(fitted) == len(selection.weights) else
                              "the cross-validation models and refits on the search rows")
    return evaluated, fitted, predict


def _input_columns(prep: Prepared) -> list:
    """The cleaned columns the model reads, as the user knows them: those the model input takes
    as they are, and those a feature step reads (the target and unused columns left out)."""
    read = {c for step in prep.recipe.features for c in step.columns_in()}
    used = set(prep.spec.source_columns) | read
    return [c for c in prep.frame.columns if c in used and c != prep.config.target]


NO_REFIT = "none (the cross-validation models, averaged)"
_CHEAP_REFITS_S = 0.5  # refits this cheap in all are made even with no time left


def _members_to_refit(weights: dict, estimates: dict, seconds: float, bag_ready: bool) -> set:
    """The ensemble members to refit on every row in ``seconds``, heaviest first.

    Without every member's fold models (or with feature steps, whose fold fits differ)
    all must be refitted, whatever the time. Otherwise each member that fits in what is
    left is refitted, and the others keep their cross-validation models, averaged: the
    heaviest members gain most from the extra rows.
    """
    if not bag_ready:
        return set(weights)
    chosen, left, slack = set(), seconds, _CHEAP_REFITS_S
    for n in sorted(weights, key=weights.get, reverse=True):
        if estimates[n] <= left:
            chosen.add(n)
            left -= estimates[n]
        elif estimates[n] <= slack:  # near-free refits (a linear model) run even when the search used the reserve
            chosen.add(n)
            slack -= estimates[n]
    return chosen


def _refit_scope(weights: dict, refitted: set) -> str:
    if refitted == set(weights):
        return "all rows"
    if not refitted:
        return NO_REFIT
    names = ", ".join(f"trial {n + 1}" for n in weights if n in refitted)
    return f"all rows for {names} (the others: their cross-validation models, averaged)"


def _importance(prep: Prepared, predict, selection: ensemble.Selection, evaluated: dict, seconds: float) -> dict:
    """Permutation importance on the holdout (:mod:`core.train.importance`) within ``seconds`` from now."""
    deadline = time.monotonic() + seconds
    from core.train.importance import holdout_importance

    return holdout_importance(
        predict, prep.frame.iloc[prep.split.holdout], prep.y[prep.split.holdout], _input_columns(prep),
        prep.setup.metric, threshold=selection.threshold, deadline=deadline, seed=prep.config.seed,
        scored_by=evaluated["scored_by"],
    )


def _refit_iterations(record: dict, setup: SearchSetup, rows: int) -> int | None:
    values = [v for v in (record.get("iterations") or []) if v]
    if not values:
        return None
    mean = float(np.mean(values))
    if record["family"] in ("catboost", "hgb"):  # more rows carry a few more useful iterations
        mean *= min(1.2, (rows / setup.fold_train_rows) ** 0.5)
    return max(1, int(round(mean)))


def _select(prep: Prepared, oof: dict, best: dict, params: dict, cost: CostModel, clock: Clock,
            overhead: float, refits: int) -> ensemble.Selection:
    setup = prep.setup
    covered = setup.covered
    library = {n: p[covered] for n, p in oof.items() if n in params and not np.isnan(p[covered]).any()}
    if best["number"] not in library:
        return ensemble.Selection({best["number"]: 1.0}, best.get("oof_score") or best["cv_mean"],
                                  best.get("oof_score") or best["cv_mean"], best["number"], best.get("threshold"))
    left = clock.left() - overhead
    by = {n: p for n, p in params.items()}

    def refit_cost(n):
        return cost.refit_seconds(by[n], None) if refits else cost.seconds(by[n], setup.n_search)

    affordable = {n: p for n, p in library.items() if n == best["number"] or refit_cost(n) < left / 2}
    selection = ensemble.select(affordable, setup.y[covered], setup.metric,
                                threshold_metric=setup.threshold_metric, start=best["number"],
                                time_limit=max(0.5, min(5.0, 0.03 * clock.budget)))
    while len(selection.weights) > 1 and sum(refit_cost(n) for n in selection.weights) > left:
        weakest = min(selection.weights, key=selection.weights.get)
        affordable.pop(weakest, None)
        selection = ensemble.select(affordable, setup.y[covered], setup.metric,
                                    threshold_metric=setup.threshold_metric, start=best["number"], time_limit=1.0)
    return selection


def _blend(predictions: dict[int, np.ndarray], weights: dict[int, float]) -> np.ndarray:
    return sum(predictions[n] * w for n, w in weights.items())


def _summary(prep: Prepared, records, best, selection, evaluated, refit_scope, config) -> dict:
    setup = prep.setup
    metric = setup.metric
    counts = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    chosen_kind = "ensemble" if len(selection.weights) > 1 else "single"
    return {
        "task": setup.ctx.task, "metric": prep.pre.metric, "metric_label": metric.label,
        "greater_is_better": metric.greater_is_better, "classes": prep.pre.classes,
        "positive_class": prep.pre.classes[-1] if setup.ctx.task == "binary" else None,
        "threshold": selection.threshold, "threshold_metric": setup.threshold_metric,
        "chosen": {"kind": chosen_kind, "weights": {str(n): w for n, w in selection.weights.items()},
                   "best_trial": best["number"], "best_family": best["family"]},
        "cv": {"mean": best["cv_mean"], "std": best["cv_std"], "oof": selection.single_score,
               "ensemble_oof": selection.score if chosen_kind == "ensemble" else None},
        "holdout": evaluated["scores"].get(prep.pre.metric),
        "holdout_baseline": (evaluated.get("baseline_scores") or {}).get(prep.pre.metric),
        "refit": refit_scope, "trials": counts, "n_trials": len(records),
        "seed": config.seed, "time_budget": config.time_budget, "folds": len(setup.folds),
        "validation": prep.split.method, "rows": {"used": int(len(prep.frame)), "search": setup.n_search,
                                                  "holdout": int(len(prep.split.holdout))},
        "features": prep.spec.feature_names, "left_out": prep.dropped, "warnings": list(prep.pre.warnings),
        "base_learning_rate": setup.ctx.base_lr, "threads": setup.ctx.threads,
    }


def _input_schema(raw: pd.DataFrame, prep: Prepared) -> dict[str, str]:
    """Raw columns scoring needs: those a recipe step reads or the model uses, with their kinds."""
    from core.schema import infer_column

    recipe = prep.recipe
    referenced = {c for step in (*recipe.clean, *recipe.features) for c in step.columns_in()}
    used = set(prep.spec.source_columns) | referenced
    out = {}
    for column in map(str, raw.columns):
        if column == prep.config.target or column not in used:
            continue
        out[column] = prep.kinds.get(column) or infer_column(raw[column].head(20_000), column).kind.value
    return out


def _bundle(prep: Prepared, raw: pd.DataFrame, fitted_recipe: FittedRecipe, members: list, params: dict,
            summary: dict, X_final: pd.DataFrame, run_id: int | None, deadline: float | None = None) -> ModelBundle:
    metadata = {
        "run_id": run_id, "metric": summary["metric"], "cv_mean": summary["cv"]["mean"],
        "cv_std": summary["cv"]["std"], "holdout": summary["holdout"], "holdout_baseline": summary["holdout_baseline"],
        "seed": prep.config.seed, "refit": summary["refit"], "validation": summary["validation"],
        "libraries": library_versions(), "created": utc_now_iso(), "rows": summary["rows"],
        "time_budget": prep.config.time_budget, "threshold_metric": summary["threshold_metric"],
        "holdout_importance": summary.get("holdout_importance"),
    }
    bundle = ModelBundle(
        task=prep.setup.ctx.task, target=prep.config.target, classes=prep.pre.classes,
        input_schema=_input_schema(raw, prep), feature_names=prep.spec.feature_names,
        fitted_recipe=fitted_recipe, input_spec=prep.spec,
        members=[Member(family, estimator, float(w), dict(params[n]), f"trial {n + 1}")
                 for n, family, w, estimator in members],
        metadata=metadata, threshold=summary["threshold"],
    )
    bundle.learn_importance(X_final, seed=prep.config.seed, deadline=deadline)
    rows = raw.loc[raw.index.intersection(prep.frame.index)] if raw.index.is_unique else prep.frame
    bundle.set_reference(rows, seed=prep.config.seed)
    return bundle


def _leaderboard(records: list[dict], selection: ensemble.Selection, holdout: float | None) -> list[dict]:
    """Every trial, plus the ensemble when it was chosen; the chosen row carries the holdout score."""
    rows = []
    for r in records:
        row = dict(r)
        row["chosen"] = r["number"] in selection.weights
        row["weight"] = selection.weights.get(r["number"])
        rows.append(row)
    if len(selection.weights) > 1:
        rows.append({
            "number": None, "family": "ensemble", "status": "complete",
            "params": {"members": {str(n): round(w, 4) for n, w in selection.weights.items()}},
            "cv_mean": None, "cv_std": None, "oof_score": selection.score, "chosen": True, "weight": 1.0,
            "fit_s": sum((r.get("fit_s") or 0) for r in records if r["number"] in selection.weights),
            "predict_ms_per_1k": sum((r.get("predict_ms_per_1k") or 0) for r in records
                                     if r["number"] in selection.weights),
            "note": f"beats the best single model out of fold ({selection.score:.4f} vs {selection.single_score:.4f})",
        })
    final = rows[-1] if len(selection.weights) > 1 else next(r for r in rows if r.get("chosen"))
    final["holdout"] = holdout
    return rows
