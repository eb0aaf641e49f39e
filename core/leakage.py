"""Suspected target leakage: columns that give the target away.

A strong predictor is not a leak. ``carat`` explains most of a diamond's price, but
not all of it; a column that *is* the target in disguise (a copy, a recoding, the
parts it is summed from) explains all of it. :func:`leakage_check` looks for the
second kind with two honest tests, both scored on rows the model did not see:

1. **One column alone.** For each column, a flexible one-feature model (piecewise
   linear over 64 quantile bins for numbers, a value per category for labels,
   missing values as their own bin) is cross-validated (3 folds). A column is
   suspect when its held-out R² (regression) or balanced accuracy (classification)
   reaches ``SINGLE_BAR`` (0.99). Row numbers, IDs and free text cannot pass by
   memorising: a value never seen in training predicts only the average.
2. **A few columns together, exactly.** For a numeric target, is it an exact linear
   combination of a few numeric columns (``bikers = casual + registered``), or of
   their logarithms (``revenue = units * price``)? Columns are chosen greedily (at
   most ``MAX_TERMS``), fitted on one half of the rows and scored on the other;
   held-out R² must reach ``EXACT_BAR`` (0.9999), which noise and ordinary strong
   predictors do not reach.

Everything runs on a seeded sample of at most 20,000 rows, so a million-row table
takes about as long as a small one.

>>> import pandas as pd
>>> frame = pd.DataFrame({"a": range(100), "b": [i * 37 % 100 for i in range(100)]})
>>> frame["total"] = frame["a"] + frame["b"]
>>> [s.columns for s in leakage_check(frame, "total")]
[('a', 'b')]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ValidationError, param_error

__all__ = ["LeakSuspect", "leakage_check", "detect_task", "SINGLE_BAR", "EXACT_BAR", "MAX_TERMS", "SAMPLE_ROWS"]

SINGLE_BAR = 0.99
EXACT_BAR = 0.9999
MAX_TERMS = 5
SAMPLE_ROWS = 20_000
TASKS = ("regression", "classification", "binary", "multiclass")
_FOLDS = 3
_CELLS = 2_000_000  # fewer rows for very wide tables
_MAX_COMBINE = 300  # numeric columns considered for the exact-combination test


@dataclass(frozen=True)
class LeakSuspect:
    """A column (or a few together) suspected of giving the target away.

    ``score`` is held-out R² (``metric="r2"``) or balanced accuracy
    (``metric="balanced_accuracy"``); ``test`` is ``"single"`` or ``"combination"``.
    """

    columns: tuple[str, ...]
    score: float
    metric: str
    test: str
    sentence: str

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "score": self.score, "metric": self.metric,
                "test": self.test, "sentence": self.sentence}

    @classmethod
    def from_dict(cls, d: dict) -> LeakSuspect:
        return cls(tuple(d["columns"]), float(d["score"]), d["metric"], d["test"], d["sentence"])


def detect_task(target: pd.Series) -> str:
    """``"regression"`` for a numeric target with more than 10 distinct values, else ``"classification"``."""
    if pd.api.types.is_bool_dtype(target) or not pd.api.types.is_numeric_dtype(target):
        return "classification"
    return "regression" if target.nunique(dropna=True) > 10 else "classification"


def leakage_check(
    frame: pd.DataFrame,
    target: str,
    task: str | None = None,
    columns: list[str] | None = None,
    seed: int = 0,
    *,
    sample_rows: int = SAMPLE_ROWS,
    scores: dict | None = None,
) -> list[LeakSuspect]:
    """Columns of ``frame`` suspected of leaking ``target``, strongest first.

    Parameters
    ----------
    frame : the table, including the target column. It is not modified.
    target : the target column's name.
    task : ``"regression"``, ``"classification"`` (``"binary"``/``"multiclass"`` are
        read as classification), or None to decide from the target (:func:`detect_task`).
    columns : the columns to test (default: every other column). Both tests only
        look at these columns.
    seed : the sample, the folds and the halves depend only on it.
    sample_rows : rows looked at (a seeded random sample when the table is larger).
    scores : when a dict is given, every tested column's held-out score alone is put in
        it, strong or not, as ``{column: (score, metric)}`` (the Features page shows it as
        the column's association with the target).

    Returns an empty list when the target has fewer than two distinct values or too
    few rows to judge (under 30).
    """
    if target not in frame.columns:
        raise ValidationError(f"The target column {target!r} is not in the table.",
                              hint="Pick one of the table's columns as the target.")
    if task is not None and task not in TASKS:
        raise param_error("leakage_check", "task", list(TASKS), task)
    candidates = [c for c in (frame.columns if columns is None else columns) if c != target]
    missing = [c for c in candidates if c not in frame.columns]
    if missing:
        raise ValidationError(f"The column {missing[0]!r} is not in the table.",
                              hint="Pass only columns of the table in 'columns'.")
    if frame.columns.duplicated().any():
        raise ValidationError("The table has duplicated column names, so columns cannot be told apart.",
                              hint="Rename the duplicated columns first.")

    y_all = frame[target]
    keep = y_all.notna().to_numpy()
    if _is_numeric(y_all) and not pd.api.types.is_bool_dtype(y_all):
        keep &= ~np.isnan(_as_float(y_all))  # inf is no target value either
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(keep)
    sample_rows = min(sample_rows, max(5_000, _CELLS // max(len(candidates), 1)))
    if len(rows) > sample_rows:
        rows = np.sort(rng.choice(rows, size=sample_rows, replace=False))
    if len(rows) < 30:
        return []
    sample = frame.iloc[rows]
    y = sample[target]
    if y.nunique() < 2:
        return []
    task = "regression" if (task or detect_task(y)) == "regression" else "classification"
    if task == "regression" and not _is_numeric(y):
        raise ValidationError(f"The target {target!r} is not numeric, so it cannot be a regression target.",
                              hint="Use task='classification' or leave task unset.")

    folds = rng.permutation(len(rows)) % _FOLDS
    suspects: dict[tuple[str, ...], LeakSuspect] = {}
    if task == "regression":
        yv = _as_float(y)
        for col in candidates:
            score = _r2(yv, _oof_regression(sample[col], yv, folds))
            if scores is not None:
                scores[col] = (score, "r2")
            if score >= SINGLE_BAR:
                suspects[(col,)] = LeakSuspect(
                    (col,), score, "r2", "single",
                    f"On its own, '{col}' predicts '{target}' almost perfectly (held-out R² {score:.4f}): "
                    "it is probably derived from the target or only known after it.")
        for found in _exact_combinations(sample, candidates, yv, target, rng):
            if found.columns not in suspects:
                suspects[found.columns] = found
    else:
        codes, _ = pd.factorize(y.astype(str) if y.dtype == object else y)
        for col in candidates:
            score = _balanced_accuracy(codes, _oof_classes(sample[col], codes, folds))
            if scores is not None:
                scores[col] = (score, "balanced_accuracy")
            if score >= SINGLE_BAR:
                suspects[(col,)] = LeakSuspect(
                    (col,), score, "balanced_accuracy", "single",
                    f"On its own, '{col}' predicts '{target}' almost perfectly (held-out balanced accuracy "
                    f"{score:.4f}): it is probably derived from the target or only known after it.")
    return sorted(suspects.values(), key=lambda s: (-s.score, s.columns))


# --------------------------------------------------------------------------- one column


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s) \
        or pd.api.types.is_timedelta64_dtype(s)


def _as_float(s: pd.Series) -> np.ndarray:
    """Numbers (dates as seconds, booleans as 0/1) as float64; missing and inf as NaN."""
    if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert(None)
        nat = s.isna().to_numpy()
        out = s.to_numpy().view("int64").astype("float64") / 1e9
        out[nat] = np.nan
        return out
    out = s.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


def _encode(x: pd.Series) -> tuple[np.ndarray, bool]:
    """The column as float numbers (NaN = missing) or as category codes (-1 = missing)."""
    if _is_numeric(x) and not pd.api.types.is_bool_dtype(x):
        return _as_float(x), True
    codes, _ = pd.factorize(x.astype(str) if x.dtype == object else x, use_na_sentinel=True)
    return codes.astype(np.int64), False


def _groups(values: np.ndarray, numeric: bool, train: np.ndarray):
    """Distinct training values, each training row's group, and the test rows' groups.

    Missing values form one more group. For numbers, a test value falls between two
    training values (``lo``, ``hi`` and the weight of ``hi``); for labels, a label never
    seen in training has no group (-1).
    """
    missing = np.isnan(values) if numeric else values < 0
    present = train & ~missing
    uniq, inv = np.unique(values[present], return_inverse=True)
    m = len(uniq)  # group m: missing values
    group = np.full(len(values), m, dtype=np.int64)
    group[present] = inv
    test = ~train
    if not numeric:
        pos = np.searchsorted(uniq, values[test])
        pos = np.minimum(pos, max(m - 1, 0))
        seen = uniq[pos] == values[test] if m else np.zeros(int(test.sum()), dtype=bool)
        return m, group[train], np.where(missing[test], m, np.where(seen, pos, -1))
    xt = values[test]
    hi = np.clip(np.searchsorted(uniq, xt), 1, max(m - 1, 1))
    lo = hi - 1
    if m >= 2:
        weight = (np.nan_to_num(xt) - uniq[lo]) / (uniq[hi] - uniq[lo])
    else:
        lo = hi = np.zeros(len(xt), dtype=np.int64)
        weight = np.zeros(len(xt))
    lo = np.where(missing[test], m, lo)
    hi = np.where(missing[test], m, hi)
    weight = np.where(missing[test], 0.0, weight)
    return m, group[train], (lo, hi, weight)


def _oof_regression(x: pd.Series, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold predictions of ``y`` from ``x`` alone.

    Numbers: the mean target of each distinct value, joined by straight lines (and
    extended along the end segments). Labels: the mean target of each label.
    """
    values, numeric = _encode(x)
    pred = np.empty_like(y)
    for k in range(_FOLDS):
        test, train = folds == k, folds != k
        m, g_train, g_test = _groups(values, numeric, train)
        yt = y[train]
        n = np.bincount(g_train, minlength=m + 1)
        means = np.where(n > 0, np.bincount(g_train, yt, minlength=m + 1) / np.maximum(n, 1), yt.mean())
        if numeric:
            lo, hi, w = g_test
            pred[test] = means[lo] * (1 - w) + means[hi] * w
        else:
            pred[test] = np.where(g_test >= 0, means[np.maximum(g_test, 0)], yt.mean())
    return pred


def _oof_classes(x: pd.Series, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Out-of-fold class predictions from ``x`` alone: the majority class of the value
    (for numbers, of the nearest training value)."""
    values, numeric = _encode(x)
    pred = np.empty_like(y)
    for k in range(_FOLDS):
        test, train = folds == k, folds != k
        m, g_train, g_test = _groups(values, numeric, train)
        yt = y[train]
        # majority class per group without an (groups x classes) table
        pair, counts = np.unique(g_train * (int(y.max()) + 1) + yt, return_counts=True)
        grp, cls = np.divmod(pair, int(y.max()) + 1)
        order = np.lexsort((-counts, grp))
        first = np.r_[True, grp[order][1:] != grp[order][:-1]]
        best = np.full(m + 1, np.bincount(yt).argmax())
        best[grp[order][first]] = cls[order][first]
        if numeric:
            lo, hi, w = g_test
            pred[test] = np.where(w >= 0.5, best[hi], best[lo])
        else:
            pred[test] = np.where(g_test >= 0, best[np.maximum(g_test, 0)], np.bincount(yt).argmax())
    return pred


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    total = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / total if total > 0 else 0.0


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    recalls = [float((pred[y == c] == c).mean()) for c in np.unique(y)]
    return float(np.mean(recalls))


# --------------------------------------------------------------------------- exact combinations


def _exact_combinations(sample: pd.DataFrame, candidates: list[str], y: np.ndarray, target: str,
                        rng: np.random.Generator) -> list[LeakSuspect]:
    numeric = [c for c in candidates if _is_numeric(sample[c])][:_MAX_COMBINE]
    if not numeric:
        return []
    X = np.column_stack([_as_float(sample[c]) for c in numeric])
    usable = np.isnan(X).mean(axis=0) <= 0.05
    X, names = X[:, usable], [c for c, u in zip(numeric, usable) if u]
    varying = np.nanstd(X, axis=0) > 0
    X, names = X[:, varying], [c for c, v in zip(names, varying) if v]
    rows = ~np.isnan(X).any(axis=1)
    X, yv = X[rows], y[rows]
    if not names or len(yv) < max(30, 4 * (len(names) + 1)) or np.std(yv) == 0:
        return []
    half = rng.permutation(len(yv)) % 2 == 0
    found = []
    spaces = [("linear", X, yv)]
    positive = (X > 0).all(axis=0)
    if (yv > 0).all() and positive.any():
        spaces.append(("log", np.log(X[:, positive]), np.log(yv)))
    for space, Xs, ys in spaces:
        cols = names if space == "linear" else [n for n, p in zip(names, positive) if p]
        chosen = _greedy_exact(Xs, ys, half)
        if chosen is None:
            continue
        picked = tuple(cols[i] for i in chosen)
        score = _holdout_r2(Xs[:, chosen], ys, half)
        found.append(LeakSuspect(picked, score, "r2", "combination",
                                 _formula_sentence(target, picked, Xs[:, chosen], ys, space, score)))
        break  # a linear identity explains the log one too
    return found


def _holdout_r2(X: np.ndarray, y: np.ndarray, half: np.ndarray) -> float:
    """R² on the rows outside ``half`` of a least-squares fit on ``half`` (with intercept).

    Solved through the (small) Gram matrix of standardised columns: a wide table stays fast.
    """
    mu, sd = X[half].mean(axis=0), X[half].std(axis=0)
    sd[sd == 0] = 1.0
    Z = (X - mu) / sd
    Zh, yh = Z[half], y[half] - y[half].mean()
    coef, *_ = np.linalg.lstsq(Zh.T @ Zh, Zh.T @ yh, rcond=None)
    return _r2(y[~half], Z[~half] @ coef + y[half].mean())


def _greedy_exact(X: np.ndarray, y: np.ndarray, half: np.ndarray) -> list[int] | None:
    """The fewest columns (at most MAX_TERMS) whose linear combination is y on held-out rows."""
    if _holdout_r2(X, y, half) < EXACT_BAR:  # not even all of them together: nothing to find
        return None
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    chosen: list[int] = []
    residual = y - y.mean()
    for _ in range(min(MAX_TERMS, X.shape[1])):
        norm = np.linalg.norm(residual)
        if norm == 0:
            break
        corr = np.abs(Z.T @ residual) / norm
        corr[chosen] = -1
        chosen.append(int(corr.argmax()))
        A = np.column_stack([X[:, chosen], np.ones(len(y))])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        residual = y - A @ coef
        if _holdout_r2(X[:, chosen], y, half) >= EXACT_BAR:
            for i in list(chosen):  # drop any column the others do not need
                rest = [j for j in chosen if j != i]
                if rest and _holdout_r2(X[:, rest], y, half) >= EXACT_BAR:
                    chosen = rest
            return sorted(chosen)
    return None


def _formula_sentence(target: str, cols: tuple[str, ...], X: np.ndarray, y: np.ndarray, space: str,
                      score: float) -> str:
    A = np.column_stack([X, np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    pairs = sorted(zip(cols, (float(f"{c:.4g}") for c in coef[:-1])), key=lambda t: -t[1])
    formula = ""
    for i, (name, c) in enumerate(pairs):
        if space == "log":
            term = f"'{name}'" if c == 1 else f"'{name}'^{c:g}"
            formula += term if i == 0 else f" × {term}"
        else:
            term = f"'{name}'" if abs(c) == 1 else f"{abs(c):g} × '{name}'"
            sign = ("−" if c < 0 else "") if i == 0 else (" − " if c < 0 else " + ")
            formula += sign + term
    intercept = float(f"{coef[-1]:.4g}")
    if space == "log" and abs(intercept) > 1e-6:
        formula = f"{np.exp(intercept):.4g} × {formula}"
    elif space == "linear" and abs(intercept) > 1e-6 * max(1.0, float(np.abs(y).max())):
        formula += f" {'+' if intercept > 0 else '−'} {abs(intercept):g}"
    which = ("this column is probably the target in other units, or computed from it" if len(cols) == 1
             else "these columns are probably parts of the target, or computed from it")
    return f"'{target}' is exactly {formula} on held-out rows (R² {score:.4f}): {which}."
