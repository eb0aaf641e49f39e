"""A training run's settings: one validated, JSON-able value stored with the run."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.errors import ValidationError, param_error
from core.train.tasks import TASKS, THRESHOLD_METRICS, metrics_for
from core.train.zoo import FAMILIES

__all__ = ["TrainConfig", "DEFAULT_BUDGET"]

DEFAULT_BUDGET = 60.0
MAX_BUDGET = 24 * 3600.0


@dataclass(frozen=True)
class TrainConfig:
    """What to train and how.

    ``task`` and ``metric`` default to what the target suggests; ``folds`` to what
    the table size and budget allow; ``time``/``group``/``id`` name role columns
    (validation follows time or groups; role columns are never features).
    ``threshold_metric`` is what a binary decision threshold is tuned for (default:
    the metric when it depends on a threshold, else F1).
    """

    target: str
    task: str | None = None
    metric: str | None = None
    time_budget: float = DEFAULT_BUDGET
    seed: int = 0
    folds: int | None = None
    holdout_share: float = 0.2
    time: str | None = None
    group: str | None = None
    id: str | None = None
    class_weights: bool = False
    threshold_metric: str | None = None
    positive_class: str | None = None
    families: tuple[str, ...] = FAMILIES
    threads: int | None = None
    workers: int = 1
    keep_suspected_leaks: bool = False
    refit_all: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.families, list):
            object.__setattr__(self, "families", tuple(self.families))
        if not isinstance(self.target, str) or not self.target:
            raise ValidationError("Choose the target column: the one the model should predict.")
        budget = self.time_budget
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not math.isfinite(budget) \
                or budget <= 0:
            raise ValidationError(f"The time budget must be more than 0 seconds. Got {budget!r} instead.",
                                  hint="Give the search some time, for example 60 seconds.")
        if budget > MAX_BUDGET:
            raise ValidationError(f"The time budget can be at most {MAX_BUDGET:,.0f} seconds (a day). "
                                  f"Got {budget:,.0f} instead.")
        if self.task is not None and self.task not in TASKS:
            raise param_error("training", "task", list(TASKS), self.task)
        if self.metric is not None:
            allowed = metrics_for(self.task) if self.task else list(dict.fromkeys(m for t in TASKS
                                                                                   for m in metrics_for(t)))
            if self.metric not in allowed:
                raise param_error("training", "metric", allowed, self.metric)
        if self.folds is not None and (isinstance(self.folds, bool) or not isinstance(self.folds, int)
                                       or not 1 <= self.folds <= 20):
            raise param_error("training", "folds", "an integer from 1 to 20 (or None for automatic)", self.folds)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**31:
            raise param_error("training", "seed", "an integer from 0 to 2147483647", self.seed)
        if not isinstance(self.holdout_share, (int, float)) or not 0.05 <= self.holdout_share <= 0.5:
            raise param_error("training", "holdout_share", "a number from 0.05 to 0.5", self.holdout_share)
        if self.threshold_metric is not None and self.threshold_metric not in THRESHOLD_METRICS:
            raise param_error("training", "threshold_metric", list(THRESHOLD_METRICS), self.threshold_metric)
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown or not self.families:
            raise param_error("training", "families", f"a non-empty list from {list(FAMILIES)}",
                              list(self.families))
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise param_error("training", "threads", "a positive integer (or None for all cores)", self.threads)
        if not isinstance(self.workers, int) or not 1 <= self.workers <= 64:
            raise param_error("training", "workers", "an integer from 1 to 64", self.workers)
        roles = [r for r in (self.time, self.group, self.id) if r]
        if self.target in roles:
            raise ValidationError(f"The target {self.target!r} cannot also be the time, group or id column.")

    @property
    def n_threads(self) -> int:
        return self.threads or max(os.cpu_count() or 1, 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["families"] = list(self.families)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"Unknown training setting {unknown[0]!r}.", hint=f"Settings are {sorted(known)}.")
        return cls(**data)
