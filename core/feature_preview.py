"""What a proposed feature step would add, before it is added.

:func:`preview` fits the recipe's feature steps and then the proposed step on a
seeded sample of the table (as training would, so out-of-fold steps give their
out-of-fold values), and describes each column the step adds or changes: its
distribution, how the target varies with it, and its held-out score alone. The
leakage check (``core.leakage``) runs on the result: a new column that alone (or
with a few others, exactly) predicts the target is reported before it is added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.leakage import LeakSuspect, detect_task, leakage_check
from core.recipe import Recipe, run_feature_step
from core.steps import FitContext, Step

__all__ = ["ColumnPreview", "FeaturePreview", "preview", "featured_sample", "SAMPLE_ROWS", "MAX_COLUMNS"]

SAMPLE_ROWS = 5_000
MAX_COLUMNS = 30  # columns described in full; a step that adds more is summarised
BINS = 10
METRICS = {"r2": "held-out R²", "balanced_accuracy": "held-out balanced accuracy"}


@dataclass(frozen=True)
class ColumnPreview:
    """One added or changed column on the sample.

    ``distribution`` is ``{"labels", "counts"}`` (bins of numbers or the most common
    values, missing last); ``by_target`` is ``{"labels", "counts", "series": {name:
    values}}``: per bin, the mean target (regression) or each class's share.
    """

    name: str
    status: str  # "added" or "changed"
    numeric: bool
    missing: int
    distinct: int
    summary: dict
    distribution: dict
    by_target: dict | None = None
    score: float | None = None  # held-out score of this column alone (see FeaturePreview.metric)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FeaturePreview:
    """The proposed step's effect on a sample of ``rows`` of ``total_rows`` rows."""

    step: dict
    rows: int
    total_rows: int
    added: list[str]
    changed: list[str]
    removed: list[str]
    columns: list[ColumnPreview]
    state: dict
    task: str | None
    metric: str | None
    leaks: list[LeakSuspect] = field(default_factory=list)
    sample: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def leaking(self) -> bool:
        return bool(self.leaks)

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "sample"}
        out["columns"] = [c.to_dict() for c in self.columns]
        out["leaks"] = [s.to_dict() for s in self.leaks]
        return out

    def removed_table(self) -> pd.DataFrame:
        """The dropped columns and why (from what a selection step learned)."""
        st = self.state
        pairs = {drop: (keep, r) for keep, drop, r in st.get("pairs", [])}
        ranked = sorted(st.get("scores", {}), key=lambda c: -st["scores"][c])
        rows = []
        for c in self.removed:
            if c in st.get("shares", {}):
                why = f"{st['shares'][c]:.1%} of rows have one value"
            elif c in pairs:
                why = f"correlation {pairs[c][1]:.3f} with {pairs[c][0]!r}, which is kept"
            elif c in st.get("scores", {}):
                why = f"mutual information {st['scores'][c]:.4f} (rank {ranked.index(c) + 1} of {len(ranked)})"
            else:
                why = "replaced by the new columns"
            rows.append({"column": c, "why": why})
        return pd.DataFrame(rows, columns=["column", "why"])

    def table(self) -> pd.DataFrame:
        """One row per described column: what the page lists."""
        return pd.DataFrame([{
            "column": c.name, "status": c.status, "missing": c.missing, "distinct": c.distinct,
            "score alone": c.score, "possible leak": any(c.name in s.columns for s in self.leaks),
        } for c in self.columns])


def preview(frame: pd.DataFrame, recipe: Recipe, step: Step, context: FitContext, *,
            sample_rows: int = SAMPLE_ROWS) -> FeaturePreview:
    """Fit ``recipe``'s feature steps, then ``step``, on a sample of ``frame`` (cleaned rows)
    and describe what ``step`` adds, changes or removes.

    Raises the step's own :class:`~core.errors.ValidationError` (wrong column kind, no
    target ...) exactly as training would, numbered as the recipe's next feature step.
    """
    if step.stage != "feature":
        raise ValidationError(f"{step.describe()} is a cleaning step, not a feature.",
                              hint="Add it on the Clean page.")
    before = featured_sample(frame, recipe, context, sample_rows=sample_rows)[0]
    after, state = run_feature_step(step, before, len(recipe.features) + 1, context)
    added = [c for c in after.columns if c not in before.columns]
    removed = [c for c in before.columns if c not in after.columns]
    changed = [c for c in after.columns if c in before.columns and not after[c].equals(before[c])]
    target = context.target if context.target in after.columns else None
    y = after[target] if target else None
    task = detect_task(y.dropna()) if y is not None and y.notna().any() else None

    scores: dict = {}
    leaks: list[LeakSuspect] = []
    new = added + changed
    if task is not None and new:
        roles = {context.time, context.id, context.group} - {None}
        candidates = [c for c in after.columns if c != target and c not in roles]
        suspects = leakage_check(after, target, task=task, columns=candidates, seed=context.seed, scores=scores)
        leaks = [s for s in suspects if set(s.columns) & set(new)]
    described = [_column(after[c], c, "added" if c in added else "changed", y, task, scores.get(c))
                 for c in new[:MAX_COLUMNS]]
    metric = next((m for _, m in scores.values()), None) if scores else None
    return FeaturePreview(
        step=step.to_dict(), rows=len(before), total_rows=len(frame), added=added, changed=changed,
        removed=removed, columns=described, state=state, task=task, metric=METRICS.get(metric, metric),
        leaks=leaks, sample=after[[*([target] if target else []), *new[:MAX_COLUMNS]]].head(200),
    )


def featured_sample(frame: pd.DataFrame, recipe: Recipe, context: FitContext, *,
                    sample_rows: int = SAMPLE_ROWS) -> tuple[pd.DataFrame, list[dict]]:
    """The seeded sample of ``frame`` after the recipe's feature steps fitted on it (the
    columns a next feature step can use), and what the steps learned."""
    return recipe.fit_features(_sample(frame, sample_rows, context.seed), context)


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), n, replace=False))
    return frame.iloc[rows]


def _bins(s: pd.Series, numeric: bool) -> tuple[np.ndarray, list[str]]:
    """Bin codes (len(labels) - 1 = missing) and bin labels for a column."""
    if numeric:
        x = s.to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(x)
        edges = np.unique(np.quantile(x[ok], np.linspace(0, 1, BINS + 1))) if ok.any() else np.array([0.0])
        if len(edges) <= BINS:  # few distinct values: one bin each
            values = np.unique(x[ok])
            if len(values) <= BINS:
                codes = np.where(ok, np.searchsorted(values, np.where(ok, x, 0.0)), len(values))
                return codes, [f"{v:g}" for v in values] + ["missing"]
        inner = edges[1:-1]
        codes = np.where(ok, np.searchsorted(inner, np.where(ok, x, 0.0), side="right"), len(inner) + 1)
        bounds = [f"{a:.3g}–{b:.3g}" for a, b in zip(edges[:-1], edges[1:])]
        return codes, bounds + ["missing"]
    text = s.astype("string")
    top = text.value_counts().index[:BINS].tolist()
    codes = pd.Index(top).get_indexer(text.fillna("\x00"))
    other = codes < 0
    codes = np.where(text.isna().to_numpy(), len(top) + 1, np.where(other, len(top), codes))
    return codes, [*map(str, top), "other", "missing"]


def _column(s: pd.Series, name: str, status: str, y: pd.Series | None, task: str | None,
            score: tuple | None) -> ColumnPreview:
    numeric = (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)) and \
        not isinstance(s.dtype, pd.CategoricalDtype)
    if numeric:
        x = s.to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(x)
        summary = {k: float(f(x[ok])) if ok.any() else None for k, f in
                   (("min", np.min), ("mean", np.mean), ("median", np.median), ("max", np.max))}
    else:
        top = s.astype("string").value_counts()
        summary = {"most common": str(top.index[0]) if len(top) else None,
                   "share": float(top.iloc[0] / len(s)) if len(top) else None}
    codes, labels = _bins(s, numeric)
    counts = np.bincount(codes, minlength=len(labels))
    keep = [i for i, n in enumerate(counts) if n > 0 or labels[i] not in ("missing", "other")]
    distribution = {"labels": [labels[i] for i in keep], "counts": [int(counts[i]) for i in keep]}
    by_target = None
    if y is not None and task is not None:
        by_target = _by_target(codes, labels, keep, y, task)
    return ColumnPreview(name=name, status=status, numeric=numeric, missing=int(s.isna().sum()),
                         distinct=int(s.nunique(dropna=True)), summary=summary, distribution=distribution,
                         by_target=by_target, score=None if score is None else float(score[0]))


def _by_target(codes: np.ndarray, labels: list[str], keep: list[int], y: pd.Series, task: str) -> dict:
    known = y.notna().to_numpy()
    codes = codes[known]
    n = np.bincount(codes, minlength=len(labels)).astype(float)
    if task == "regression":
        sums = np.bincount(codes, weights=y[known].to_numpy(dtype="float64"), minlength=len(labels))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(n > 0, sums / n, np.nan)
        series = {f"mean {y.name}": [None if np.isnan(means[i]) else float(means[i]) for i in keep]}
    else:
        classes = y[known].astype("string")
        top = classes.value_counts().index[:8].tolist()
        series = {}
        for cls in top:
            hits = np.bincount(codes, weights=(classes == cls).to_numpy(dtype="float64"), minlength=len(labels))
            series[str(cls)] = [float(hits[i] / n[i]) if n[i] else None for i in keep]
    return {"labels": [labels[i] for i in keep], "counts": [int(n[i]) for i in keep], "series": series,
            "task": task, "target": str(y.name)}
