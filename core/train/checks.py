"""Before training: refuse what cannot work, say what was changed, flag what looks wrong.

Refused (a :class:`ValidationError` that says what to do): a missing or single-valued
target, fewer than 20 usable rows, a task the target cannot support. Changed and
counted: rows whose target is missing or infinite are dropped; infinite feature
values become missing. Flagged: columns suspected of leaking the target
(:mod:`core.leakage`), which are left out unless the analyst keeps them; 1,000 or
more columns (slow); classes so rare that fewer folds are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.train.config import TrainConfig
from core.train.tasks import check_task, class_order, default_metric, detect_task, get_metric

__all__ = ["Preflight", "preflight", "MIN_ROWS", "WIDE_COLUMNS"]

MIN_ROWS = 20
WIDE_COLUMNS = 1_000


@dataclass
class Preflight:
    """What the checks found; ``frame`` is the table to train on (target present, inf cleared)."""

    frame: pd.DataFrame
    task: str
    task_reason: str
    metric: str
    classes: list | None
    rows_in: int
    dropped_missing_target: int = 0
    infinite_cells: int = 0
    leaks: list[dict] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "task": self.task, "task_reason": self.task_reason, "metric": self.metric, "classes": self.classes,
            "rows_in": self.rows_in, "rows_used": int(len(self.frame)),
            "dropped_missing_target": self.dropped_missing_target, "infinite_cells": self.infinite_cells,
            "leaks": self.leaks, "excluded": self.excluded, "warnings": self.warnings,
        }


def preflight(frame: pd.DataFrame, config: TrainConfig, *, seed: int | None = None) -> Preflight:
    """Check a cleaned table against a config (nothing is modified in ``frame``)."""
    target = config.target
    if target not in frame.columns:
        raise ValidationError(f"The target column {target!r} is not in the data (after the cleaning steps).",
                              hint="Pick one of the table's columns, or check that no cleaning step drops it.")
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise ValidationError(f"The column name {dup!r} appears twice.", hint="Rename one of them in a cleaning step.")
    for role in ("time", "group", "id"):
        column = getattr(config, role)
        if column and column not in frame.columns:
            raise ValidationError(f"The {role} column {column!r} is not in the data.",
                                  hint=f"Pick another {role} column, or clear it.")
    warnings: list[str] = []
    rows_in = len(frame)
    y = frame[target]
    if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
        y = y.where(np.isfinite(y.astype(float)))
    keep = y.notna()
    dropped = int((~keep).sum())
    if dropped:
        frame = frame.loc[keep]
        warnings.append(f"{dropped:,} row(s) with no target value (missing or infinite) were left out.")
    if len(frame) < MIN_ROWS:
        raise ValidationError(
            f"Training needs at least {MIN_ROWS} rows with a target value; this table has {len(frame):,}.",
            hint="Add rows, or check the cleaning steps and the target column.",
        )
    guess = detect_task(frame[target])
    task = config.task or guess.task
    check_task(frame[target], task)
    get_metric(task, config.metric)  # a metric of another task is refused here
    classes = class_order(frame[target], task, config.positive_class) if task != "regression" else None

    numeric = [c for c in frame.columns if c != target and pd.api.types.is_float_dtype(frame[c])]
    infinite = 0
    if numeric:
        values = frame[numeric].to_numpy(dtype=float, na_value=np.nan)
        infinite = int(np.isinf(values).sum())
    if infinite:
        frame = frame.copy()
        for c in numeric:
            frame[c] = frame[c].where(~np.isinf(frame[c].astype(float)))
        warnings.append(f"{infinite:,} infinite value(s) in feature columns are treated as missing.")

    n_columns = frame.shape[1] - 1
    if n_columns >= WIDE_COLUMNS:
        warnings.append(
            f"The table has {n_columns:,} columns: each model takes longer to fit, so fewer fit in the time "
            "budget. Give a longer budget, or drop columns you know are useless."
        )
    leaks, excluded = _leaks(frame, config, task, seed if seed is not None else config.seed)
    for leak in leaks:
        action = "kept, as you asked" if config.keep_suspected_leaks else "left out of the model"
        warnings.append(f"Suspected leak ({action}): {leak['sentence']}")
    return Preflight(frame=frame, task=task, task_reason=guess.reason if not config.task else "chosen",
                     metric=config.metric or default_metric(task),
                     classes=classes, rows_in=rows_in, dropped_missing_target=dropped,
                     infinite_cells=infinite, leaks=leaks, excluded=excluded, warnings=warnings)


def _leaks(frame: pd.DataFrame, config: TrainConfig, task: str, seed: int) -> tuple[list[dict], dict[str, str]]:
    from core.leakage import leakage_check

    roles = {c for c in (config.time, config.group, config.id) if c}
    columns = [c for c in frame.columns if c != config.target and c not in roles]
    found = leakage_check(frame, config.target, task=task, columns=columns, seed=seed)
    leaks = [s.to_dict() for s in found]
    excluded: dict[str, str] = {}
    if not config.keep_suspected_leaks:
        for suspect in found:
            for column in suspect.columns:
                excluded.setdefault(column, "suspected leak of the target")
    return leaks, excluded
