"""The search: Optuna TPE across families, inside a strict wall-clock budget.

- The first trials come from a small zero-shot portfolio (:func:`core.train.zoo.portfolio`),
  then TPE (multivariate, grouped by family) refines what works.
- Each fold's score is reported to Optuna, and a median pruner stops trials that are
  hopeless against the others on the same folds.
- A cost model estimates each trial from the ones before it (a short CatBoost probe
  calibrates the first); a trial that cannot finish before the search deadline is not
  started, and one whose folds run slower than expected stops at the deadline.
- The deadline leaves room for what comes after the search: refitting the best model
  on all rows (twice: without and with the holdout) and saving it.

Trials live in an Optuna storage: in memory for one local worker, or a database
shared by several workers (see :mod:`core.train.job`). Each trial's facts for the
leaderboard ride along as Optuna user attributes, so every worker sees every trial.
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.train import zoo
from core.train.tasks import Metric, tune_threshold

__all__ = ["SearchSetup", "Search", "Clock", "TrainingCancelled", "record_of", "worker_name", "create_study"]

_OOF_KEPT = 25  # trials whose out-of-fold predictions stay in memory (the ensemble library)
_FOLD_MODELS_KEPT = 6  # trials whose fold models stay in memory (they score the holdout)
_FOREST_NODES_KEPT = 20_000_000  # larger forests are refitted for the holdout instead of kept
_PROBE_LR, _PROBE_MAX, _PROBE_SHARE = 0.3, 300, 0.06
_MIN_ITERS_LR = 15.0
_ITERS_TIMES_LR = 60.0  # CatBoost: iterations to converge ~ this / learning rate (updated as trials finish)
_MIN_LR, _MAX_LR = 0.03, 0.3
_FIRST_TRIAL_SHARE = 0.35
_FIRST_RESERVE = 0.15  # share of the budget kept for refit and saving when no trial has finished yet  # the budget share the first CatBoost trial (with its refits) may take


class TrainingCancelled(Exception):
    """The run was cancelled by the user."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Clock:
    """The run's wall clock: ``budget`` seconds from ``start`` (``time.monotonic``)."""

    budget: float
    start: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        return self.start + self.budget

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return self.deadline - time.monotonic()


@dataclass
class SearchSetup:
    """Everything a trial needs: the folds, the target, the metric and the model context."""

    folds: list[zoo.FoldData]
    valid_positions: list[np.ndarray]  # search-row positions of each fold's validation rows
    y: np.ndarray  # target of the search rows
    metric: Metric
    ctx: zoo.ZooContext
    n_search: int
    n_all: int
    threshold_metric: str | None = None
    families: tuple[str, ...] = zoo.FAMILIES

    @property
    def covered(self) -> np.ndarray:
        return np.unique(np.concatenate(self.valid_positions))

    @property
    def fold_train_rows(self) -> float:
        return float(np.mean([len(f.y_train) for f in self.folds]))


def create_study(metric: Metric | None, *, storage=None, study_name: str | None = None, seed: int = 0,
                 n_folds: int = 5, load: bool = False):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # ``group`` is stable in use
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True,
                                             n_startup_trials=len(zoo.FAMILIES) + 3)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1 if n_folds >= 4 else 0)
    if load:
        return optuna.load_study(study_name=study_name, storage=storage, sampler=sampler, pruner=pruner)
    return optuna.create_study(storage=storage, study_name=study_name, direction=metric.direction,
                               sampler=sampler, pruner=pruner)


# --------------------------------------------------------------------------- cost model


class CostModel:
    """Seconds per fit for a configuration, learned from the trials so far.

    A fit's *work* is iterations (boosting) or trees (forests) times a size factor;
    its seconds are ``fixed + unit * work``, where ``unit`` starts from a prior relative
    to the CatBoost probe and becomes the median of what the family's trials measured.
    Boosting iterations to convergence are predicted as ``K / learning_rate``, with
    ``K`` learned from the early-stopped trials.
    """

    _PRIOR = {"catboost": 1.0, "hgb": 0.5, "rf": 8.0, "et": 4.0, "linear": 20.0}

    def __init__(self, setup: SearchSetup):
        self.setup = setup
        self.t_iter = 0.002  # CatBoost depth-6 seconds per iteration on a fold's rows (probe)
        self.t_fixed = 0.05
        self.iters_lr = {"catboost": _ITERS_TIMES_LR, "hgb": 30.0}
        self.unit: dict[str, list[float]] = {}

    def probe(self, budget: float, cancelled: Callable[[], bool] | None = None) -> None:
        """Calibrate on the first fold with two quick CatBoost fits at a high learning rate.

        A 5-iteration fit measures the fixed cost; an early-stopped one (at most
        ``_PROBE_MAX`` iterations, a few percent of the budget) measures the cost per
        iteration and how many iterations this table needs (``K = iterations * lr``).
        """
        fold = self.setup.folds[0]
        params = {"family": "catboost", "depth": 6, "l2_leaf_reg": 3.0, "random_strength": 1.0,
                  "bagging_temperature": 1.0, "one_hot_max_size": 2, "lr_scale": 1.0}
        saved = self.setup.ctx.base_lr
        self.setup.ctx.base_lr = _PROBE_LR
        try:
            train, valid = zoo.catboost_pools(fold, self.setup.ctx)
            start = time.monotonic()
            zoo._catboost(params, self.setup.ctx, 5).fit(train, callbacks=[zoo._Clock(math.inf, cancelled)])
            fixed = time.monotonic() - start
            model = zoo._catboost(params, self.setup.ctx, _PROBE_MAX)
            clock = zoo._Clock(time.monotonic() + _PROBE_SHARE * budget, cancelled)
            start = time.monotonic()
            model.fit(train, eval_set=valid, early_stopping_rounds=20, use_best_model=False, callbacks=[clock])
            spent = time.monotonic() - start
        finally:
            self.setup.ctx.base_lr = saved
        ran = int(model.tree_count_)
        self.t_iter = max((spent - fixed) / max(ran - 5, 1), 1e-5)
        self.t_fixed = max(fixed - 5 * self.t_iter, 0.0)
        best = model.get_best_iteration()
        converged = best is not None and ran < _PROBE_MAX and not clock.stopped
        k = (best + 1) * _PROBE_LR if converged else max(ran * _PROBE_LR, _ITERS_TIMES_LR)
        # At low learning rates boosting needs more than 1/lr times the iterations it needs at
        # a high one; the floor keeps small tables from being planned at too few iterations.
        self.iters_lr = {"catboost": max(k, _MIN_ITERS_LR), "hgb": max(k, _MIN_ITERS_LR)}

    def _lr(self, params: dict) -> float:
        if params["family"] == "catboost":
            return self.setup.ctx.base_lr * params.get("lr_scale", 1.0)
        return params["learning_rate"]

    def _size(self, params: dict) -> float:
        family = params["family"]
        if family == "catboost":
            return 2 ** (0.6 * (params["depth"] - 6))
        if family == "hgb":
            return math.sqrt(params["max_leaf_nodes"] / 31)
        if family in ("rf", "et"):
            return params["max_features"]
        return max(1.0, len(self.setup.ctx.spec.feature_names) / 10)

    def work(self, params: dict, rows: float | None = None, iterations: float | None = None) -> float:
        """Relative cost of one fit on ``rows`` rows (default: a fold's training rows)."""
        family = params["family"]
        rows = rows or self.setup.fold_train_rows
        scale = rows / self.setup.fold_train_rows
        if family in ("rf", "et"):
            scale *= math.log2(max(rows, 2)) / math.log2(max(self.setup.fold_train_rows, 2))
        if iterations is None:
            if family in self.iters_lr:
                iterations = self.iters_lr[family] / self._lr(params)
            elif family in ("rf", "et"):
                iterations = params["n_estimators"]
            else:
                iterations = 1.0
        return scale * iterations * self._size(params)

    def seconds(self, params: dict, rows: float | None = None, iterations: float | None = None) -> float:
        family = params["family"]
        observed = self.unit.get(family)
        unit = statistics.median(observed) if observed else self._PRIOR[family] * self.t_iter
        return self.t_fixed + unit * self.work(params, rows, iterations)

    def seconds_per_iteration(self, params: dict) -> float:
        return max(self.seconds(params, iterations=1.0) - self.t_fixed, 1e-6)

    def observe(self, params: dict, fit_seconds: list[float], iterations: list[int | None]) -> None:
        family = params["family"]
        done = [i for i in iterations if i]
        mean_iter = float(np.mean(done)) if done and family != "linear" else None
        if family in self.iters_lr and mean_iter:
            seen = self.unit.get(family)
            measured = mean_iter * self._lr(params)
            self.iters_lr[family] = measured if not seen else 0.5 * self.iters_lr[family] + 0.5 * measured
        work = self.work(params, iterations=mean_iter)
        per_fit = max(float(np.mean(fit_seconds)) - self.t_fixed, 1e-6)
        self.unit.setdefault(family, []).append(per_fit / max(work, 1e-9))

    def trial_seconds(self, params: dict) -> float:
        return self.seconds(params) * len(self.setup.folds)

    def refit_seconds(self, params: dict, iterations: float | None) -> float:
        """The final fit on every row, plus one on the search rows when the fold models
        are not kept to score the holdout (large forests)."""
        s = self.setup
        extra = 0.0 if keeps_fold_models(params, s.fold_train_rows) else self.seconds(params, s.n_search, iterations)
        return self.seconds(params, s.n_all, iterations) + extra

    def base_learning_rate(self, budget: float) -> float:
        """A CatBoost learning rate whose first trial (and its refit) fits a share of the budget."""
        s = self.setup
        fits = len(s.folds) + s.n_all / s.fold_train_rows
        usable = _FIRST_TRIAL_SHARE * budget - fits * self.t_fixed
        if usable <= 0:
            return _MAX_LR
        return float(np.clip(self.iters_lr["catboost"] * self.t_iter * fits / usable, _MIN_LR, _MAX_LR))


# --------------------------------------------------------------------------- records


def record_of(trial) -> dict:
    """A leaderboard row from an Optuna trial (any worker's)."""
    attrs = trial.user_attrs
    state = trial.state.name.lower()
    status = {"complete": "complete", "pruned": "pruned", "fail": "failed"}.get(state, state)
    if attrs.get("skipped"):
        status = "skipped"
    folds = [s for s in attrs.get("fold_scores", []) if s is not None]
    finished = status == "complete" and folds
    return {
        "number": trial.number,
        "family": attrs.get("family") or trial.params.get("family", ""),
        "params": attrs.get("params", {}),
        "status": status,
        "cv_mean": float(np.mean(folds)) if finished else None,
        "cv_std": float(np.std(folds)) if finished and len(folds) > 1 else (0.0 if finished else None),
        "fold_scores": folds,
        "oof_score": attrs.get("oof_score"),
        "threshold": attrs.get("threshold"),
        "fit_s": attrs.get("fit_s"),
        "predict_s": attrs.get("predict_s"),
        "predict_ms_per_1k": attrs.get("predict_ms_per_1k"),
        "iterations": attrs.get("iterations"),
        "capped": bool(attrs.get("capped", False)),
        "worker": attrs.get("worker", ""),
        "started_s": attrs.get("started_s"),
        "note": attrs.get("note", ""),
    }


# --------------------------------------------------------------------------- search


class Search:
    """Runs trials on a study until the search deadline; keeps the best trials' OOF predictions."""

    def __init__(self, setup: SearchSetup, study, clock: Clock, *, worker: str | None = None,
                 cancelled: Callable[[], bool] | None = None, on_trial: Callable[[dict, np.ndarray | None], None] | None = None,
                 cost: CostModel | None = None, run_start_epoch: float | None = None):
        self.setup = setup
        self.study = study
        self.clock = clock
        self.worker = worker or worker_name()
        self.cancelled = cancelled or (lambda: False)
        self.on_trial = on_trial
        self.cost = cost or CostModel(setup)
        self.oof: dict[int, np.ndarray] = {}
        self.fold_models: dict[int, list] = {}  # the best trials' fold models: they score the holdout
        self.params: dict[int, dict] = {}
        self.started_epoch = run_start_epoch or time.time()
        self.finished = 0  # trials this worker completed

    # -- budget ------------------------------------------------------------------

    def complete_records(self) -> list[dict]:
        """Finished trials, best first."""
        done = [record_of(t) for t in self.study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        done = [r for r in done if r["cv_mean"] is not None]
        return sorted(done, key=lambda r: r["cv_mean"], reverse=self.setup.metric.greater_is_better)

    def reserve(self, overhead: float, refits: int = 1) -> float:
        """Seconds to keep for after the search: refitting the best trial and, within a
        fifth of the budget, the next two (likely ensemble members); plus saving."""
        def cost(record: dict) -> float:
            params = {"family": record["family"], **record["params"]}
            return self.cost.refit_seconds(params, _mean_iterations(record)) if refits else 0.0

        ranked = self.complete_records()
        if not ranked:
            first = zoo.from_trial_params(zoo.portfolio(self.setup.ctx)[0])
            return (self.cost.refit_seconds(first, None) if refits else 0.0) + overhead
        others = sum(cost(r) for r in ranked[1:3])
        return 1.2 * cost(ranked[0]) + min(others, 0.2 * self.clock.budget) + overhead

    # -- loop --------------------------------------------------------------------

    def enqueue_portfolio(self) -> None:
        allowed = set(self.setup.families)
        for params in zoo.portfolio(self.setup.ctx):
            if params["family"] in allowed:
                self.study.enqueue_trial(params, skip_if_exists=True)

    def run(self, search_deadline: Callable[[], float], *, max_trials: int | None = None) -> None:
        """Run trials until ``search_deadline()`` (a monotonic time, re-evaluated) is near.

        Until one trial has finished, the deadline is relaxed to most of the budget:
        a run always ends with a model, even when the estimates say nothing fits.
        """
        import optuna

        given = search_deadline

        def search_deadline() -> float:
            if self.complete_records():
                return given()
            return max(given(), self.clock.deadline - _FIRST_RESERVE * self.clock.budget)

        skipped_in_a_row = 0
        trials = 0
        while max_trials is None or trials < max_trials:
            if self.cancelled():
                raise TrainingCancelled()
            left = search_deadline() - time.monotonic()
            cheapest = min((self.cost.trial_seconds(p) for p in self._cheap_configs()), default=0.0)
            if left <= max(cheapest, 0.05) and self.complete_records():
                break
            trial = self.study.ask()
            params = zoo.suggest(trial, self.setup.ctx)
            if params["family"] not in self.setup.families:
                self._skip(trial, params, "family not selected for this run")
                continue
            estimate = self.cost.trial_seconds(params)
            if estimate > left and self.complete_records():  # the first trial always runs (time-capped)
                self._skip(trial, params, f"would take about {estimate:.0f} s; {max(left, 0):.0f} s were left")
                cheaper = shrunk(params)
                if cheaper is not None and self.cost.trial_seconds(zoo.from_trial_params(cheaper)) <= left:
                    self.study.enqueue_trial(cheaper, skip_if_exists=True)  # try its cheaper neighbour next
                skipped_in_a_row += 1
                if skipped_in_a_row >= 10:
                    break
                continue
            skipped_in_a_row = 0
            trials += 1
            self._run_trial(trial, params, search_deadline, optuna)

    def _cheap_configs(self):
        return [zoo.from_trial_params(p) for p in zoo.portfolio(self.setup.ctx)
                if p["family"] in self.setup.families]

    def _skip(self, trial, params: dict, why: str) -> None:
        import optuna

        trial.set_user_attr("skipped", True)
        trial.set_user_attr("family", params["family"])
        trial.set_user_attr("params", _public(params))
        trial.set_user_attr("worker", self.worker)
        trial.set_user_attr("note", f"not started: {why}")
        self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)

    def _run_trial(self, trial, params: dict, search_deadline: Callable[[], float], optuna) -> None:
        s = self.setup
        m = s.metric
        started = time.monotonic()
        trial.set_user_attr("family", params["family"])
        trial.set_user_attr("params", _public(params))
        trial.set_user_attr("worker", self.worker)
        trial.set_user_attr("started_s", round(time.time() - self.started_epoch, 2))
        first = not self.cost.unit.get(params["family"])
        cap = (0.45 if first else 0.3) * self.clock.budget
        trial_deadline = min(search_deadline(), started + cap)
        if not self.complete_records():  # the run's first model gets some time whatever the estimates say
            trial_deadline = max(trial_deadline, started + _FIRST_RESERVE * self.clock.budget)
        oof = np.full((s.n_search, s.ctx.n_classes) if s.ctx.task == "multiclass" else s.n_search, np.nan)
        fold_scores, fit_s, predict_s, iterations, capped, models = [], [], [], [], False, []
        predicted_rows = 0
        note = ""
        for i, (fold, positions) in enumerate(zip(s.folds, s.valid_positions)):
            folds_left = len(s.folds) - i
            fold_deadline = time.monotonic() + (trial_deadline - time.monotonic()) / folds_left
            per_iter = self.cost.seconds_per_iteration(params) if params["family"] == "hgb" else None
            try:
                fit = zoo.fit_fold(params, fold, s.ctx, fold_deadline, self.cancelled, per_iter)
            except (ValueError, RuntimeError, MemoryError) as exc:  # a configuration that cannot fit this data
                trial.set_user_attr("note", f"failed: {type(exc).__name__}: {str(exc)[:200]}")
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                return
            if self.cancelled():
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise TrainingCancelled()
            oof[positions] = fit.prediction
            score = m(fold.y_valid, fit.prediction)
            fold_scores.append(score)
            fit_s.append(fit.fit_s)
            predict_s.append(fit.predict_s)
            predicted_rows += len(positions)
            iterations.append(fit.iterations)
            models.append(fit.model)
            capped = capped or fit.capped
            if math.isfinite(score):
                trial.report(score, i)
            if i + 1 < len(s.folds):
                if trial.should_prune():
                    note = f"pruned after fold {i + 1}: behind the other trials"
                    break
                slow = np.mean(np.array(fit_s) + np.array(predict_s)) * (folds_left - 1)
                if time.monotonic() + slow > search_deadline() and self.complete_records():
                    note = f"stopped after fold {i + 1}: the rest would not finish in time"
                    break
        trial.set_user_attr("fit_s", round(float(np.sum(fit_s)), 3))
        trial.set_user_attr("predict_s", round(float(np.sum(predict_s)), 4))
        trial.set_user_attr("predict_ms_per_1k", round(1e6 * float(np.sum(predict_s)) / max(predicted_rows, 1), 3))
        trial.set_user_attr("iterations", iterations)
        trial.set_user_attr("capped", capped)
        if len(fold_scores) == len(s.folds):
            self.cost.observe(params, fit_s, iterations)
        if note:
            trial.set_user_attr("fold_scores", [_finite(x, m) for x in fold_scores])
            trial.set_user_attr("note", note)
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            self._notify(trial.number, None)
            return
        threshold = None
        if s.threshold_metric and s.ctx.task == "binary":
            covered = s.covered
            threshold, _ = tune_threshold(s.y[covered], oof[covered], s.threshold_metric)
            if m.uses_threshold:
                fold_scores = [m(f.y_valid, oof[p], threshold) for f, p in zip(s.folds, s.valid_positions)]
        covered = s.covered
        oof_score = m(s.y[covered], oof[covered], threshold if threshold is not None else 0.5)
        trial.set_user_attr("fold_scores", [_finite(x, m) for x in fold_scores])
        trial.set_user_attr("oof_score", _finite(oof_score, m))
        trial.set_user_attr("threshold", threshold)
        if capped:
            trial.set_user_attr("note", "cut short by the time limit")
        value = float(np.mean(fold_scores))
        if not math.isfinite(value):
            trial.set_user_attr("note", "the score is undefined on these folds")
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        self.study.tell(trial, value)
        self.finished += 1
        self.params[trial.number] = params
        self.oof[trial.number] = oof.astype(np.float32)
        if keeps_fold_models(params, s.fold_train_rows):
            self.fold_models[trial.number] = models
        self._evict(self.oof, _OOF_KEPT)
        self._evict(self.fold_models, _FOLD_MODELS_KEPT)
        self._notify(trial.number, self.oof.get(trial.number))

    def _evict(self, kept: dict, limit: int) -> None:
        """Keep the ``limit`` best trials' entries of ``kept`` (memory stays bounded)."""
        if len(kept) <= limit:
            return
        sign = 1 if self.setup.metric.greater_is_better else -1
        values = {t.number: t.value for t in self.study.get_trials(deepcopy=False)
                  if t.number in kept and t.value is not None}
        for number in sorted(kept, key=lambda n: sign * values.get(n, -math.inf * sign))[:len(kept) - limit]:
            del kept[number]

    def _notify(self, number: int, oof) -> None:
        if self.on_trial is not None:
            trial = next(t for t in self.study.get_trials(deepcopy=False) if t.number == number)
            self.on_trial(record_of(trial), oof)


def keeps_fold_models(params: dict, rows: float) -> bool:
    """Whether a trial's fold models are small enough to keep until the end of the run."""
    if params["family"] not in ("rf", "et"):
        return True
    return rows * params["n_estimators"] / params["min_samples_leaf"] <= _FOREST_NODES_KEPT


def shrunk(params: dict) -> dict | None:
    """A cheaper neighbour of a configuration (Optuna's names), or None when there is none."""
    family = params["family"]
    p = {k: v for k, v in params.items() if k != "family"}
    if family == "catboost":
        p.update(lr_scale=min(2.0, p["lr_scale"] * 2), depth=max(4, p["depth"] - 2))
    elif family == "hgb":
        p.update(learning_rate=min(0.3, p["learning_rate"] * 2), max_leaf_nodes=max(8, p["max_leaf_nodes"] // 2))
    elif family in ("rf", "et") and p["n_estimators"] > 100:
        p.update(n_estimators=max(100, p["n_estimators"] // 100 * 50))
    else:
        return None
    cheaper = {"family": family, **p}
    return None if cheaper == params else {"family": family, **{f"{family}.{k}": v for k, v in p.items()}}


def _public(params: dict) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in params.items() if k != "family"}


def _finite(score: float, metric: Metric) -> float | None:
    return float(score) if score is not None and math.isfinite(score) else None


def _mean_iterations(record: dict) -> int | None:
    values = [v for v in (record.get("iterations") or []) if v]
    return int(round(float(np.mean(values)))) if values else None
