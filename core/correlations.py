"""How columns go together: correlations between every kind of column, and with the target.

- numbers with numbers: Pearson (linear) and Spearman (monotone, on average ranks);
- labels with labels: Cramér's V (0: independent, 1: one determines the other);
- numbers with labels: the correlation ratio η (how much of the number's variance the
  label explains, as a square root);
- every column with the target: mutual information in nats, on binned values, less the
  Miller-Madow bias ((r-1)(c-1)/2n for r x c bins), so that a column unrelated to the
  target scores about 0 whatever its number of labels.

All of them run on the same seeded sample of rows (see :mod:`core.profile`). Spearman
ranks each column once over its own non-missing values; with missing values it is
then the Pearson correlation of those ranks on the rows both columns have, which can
differ slightly from ranking each pair's common rows again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Sampled", "associations", "target_analysis", "cramers_v", "correlation_ratio", "average_ranks"]

MAX_LABELS = 100     # label columns with more distinct values are left out of Cramér's V and η
MAX_MATRIX = 50      # columns shown in a heatmap
TOP_PAIRS = 30
MI_BINS = 20
MI_LABELS = 50


@dataclass
class Sampled:
    """One column's values on the sample: numbers (float, NaN missing) or label codes
    (int, -1 missing). ``numeric`` tells which; ``kind`` is the Assay kind."""

    name: str
    kind: str
    numeric: bool
    values: np.ndarray
    distinct: int

    @classmethod
    def of(cls, col, values, sample: np.ndarray | None) -> Sampled | None:
        """The sampled view of a profiled column, or None when no association applies
        (identifiers, free text, constant columns)."""
        if col.kind in ("id", "text") or col.distinct < 2:
            return None
        take = (lambda a: a) if sample is None else (lambda a: a[sample])
        as_number = col.dates is not None or (col.numbers is not None and col.kind in ("integer", "float"))
        if as_number:
            return cls(col.name, col.kind, True, take(np.asarray(values, dtype=np.float64)), col.distinct)
        if col.numbers is not None:  # numbers used as labels (a 0/1 flag kept as boolean kind)
            labels, _ = pd.factorize(take(np.asarray(values)), use_na_sentinel=True)
            return cls(col.name, col.kind, False, labels.astype(np.int64), col.distinct)
        return cls(col.name, col.kind, False, take(np.asarray(values)).astype(np.int64), col.distinct)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties sharing their average rank (as scipy's ``rankdata``); NaN stays NaN."""
    out = np.full(len(x), np.nan)
    ok = ~np.isnan(x)
    values = x[ok]
    ordered = np.sort(values)  # a sort and a binary search: faster than an argsort
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, len(ordered)])
    average = np.cumsum(counts) - (counts - 1) / 2.0
    out[ok] = average[np.searchsorted(ordered[starts], values)]
    return out


def _correlation(X: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns of ``X`` (n x p, Fortran order). Without
    missing values ``X`` is standardised in place (no copy) and multiplied once;
    with them, each pair uses the rows both have (pandas)."""
    p = X.shape[1]
    if np.isnan(X).any():
        return pd.DataFrame(X).corr(method="pearson", min_periods=3).to_numpy()
    X -= X.mean(axis=0)
    norms = np.sqrt((X * X).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        X /= np.where(norms > 0, norms, np.nan)
    out = X.T @ X
    np.fill_diagonal(out, 1.0)
    return np.clip(out, -1.0, 1.0).reshape(p, p)


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramér's V between two label-code arrays (-1 = missing, left out), without
    bias correction (as ``scipy.stats.contingency.association(..., method="cramer")``)."""
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    if len(a) == 0:
        return float("nan")
    r, c = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * c + b, minlength=r * c).reshape(r, c).astype(np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]  # labels never seen here
    r, c = table.shape
    if min(r, c) < 2:
        return float("nan")
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / (n * (min(r, c) - 1))))


def correlation_ratio(labels: np.ndarray, y: np.ndarray) -> float:
    """η: the square root of the share of ``y``'s variance explained by the label means."""
    ok = (labels >= 0) & np.isfinite(y)
    labels, y = labels[ok], y[ok]
    if len(y) < 2:
        return float("nan")
    n = np.bincount(labels)
    seen = n > 0
    means = np.bincount(labels, y)[seen] / n[seen]
    n = n[seen]
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return float("nan")
    between = float((n * (means - y.mean()) ** 2).sum())
    return float(np.sqrt(min(between / total, 1.0)))


def associations(sampled: dict[str, Sampled | None]) -> dict:
    """Pearson/Spearman between numbers, Cramér's V between labels, η between the two;
    a mixed matrix for the heatmap and the strongest pairs."""
    cols = [c for c in sampled.values() if c is not None]
    numeric = [c for c in cols if c.numeric]
    labels = [c for c in cols if not c.numeric and c.distinct <= MAX_LABELS]
    out: dict = {"numeric": [c.name for c in numeric], "categorical": [c.name for c in labels],
                 "pearson": None, "spearman": None, "cramers_v": None, "pairs": [], "mixed": None}
    pairs: list[dict] = []
    if len(numeric) >= 2:
        X = np.empty((len(numeric[0].values), len(numeric)), order="F")  # one column-major matrix, reused
        for j, c in enumerate(numeric):
            X[:, j] = np.where(np.isfinite(c.values), c.values, np.nan)
        pearson = _correlation(X)
        for j, c in enumerate(numeric):
            X[:, j] = average_ranks(np.where(np.isfinite(c.values), c.values, np.nan))
        spearman = _correlation(X)
        del X
        out["pearson"], out["spearman"] = _rounded(pearson), _rounded(spearman)
        for i in range(len(numeric)):
            for j in range(i + 1, len(numeric)):
                pairs.append({"a": numeric[i].name, "b": numeric[j].name, "method": "spearman",
                              "value": spearman[i, j], "pearson": pearson[i, j]})
    if len(labels) >= 2:
        v = np.eye(len(labels))
        for i in range(len(labels)):
            for j in range(i + 1, len(labels)):
                v[i, j] = v[j, i] = cramers_v(labels[i].values, labels[j].values)
                pairs.append({"a": labels[i].name, "b": labels[j].name, "method": "cramers_v", "value": v[i, j]})
        out["cramers_v"] = _rounded(v)
    for lab in labels:
        for num in numeric:
            pairs.append({"a": lab.name, "b": num.name, "method": "correlation_ratio",
                          "value": correlation_ratio(lab.values, num.values)})
    pairs = [p for p in pairs if p["value"] is not None and np.isfinite(p["value"])]
    pairs.sort(key=lambda p: -abs(p["value"]))
    out["pairs"] = [{k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v) for k, v in p.items()}
                    for p in pairs[:TOP_PAIRS]]
    out["mixed"] = _mixed_matrix(numeric + labels, pairs)
    return out


def _mixed_matrix(cols: list[Sampled], pairs: list[dict]) -> dict | None:
    """One matrix over numbers and labels (Spearman, Cramér's V or η by pair), limited to
    the MAX_MATRIX columns with the strongest associations."""
    if len(cols) < 2:
        return None
    strength: dict[str, float] = {c.name: 0.0 for c in cols}
    value: dict[tuple[str, str], float] = {}
    for p in pairs:
        value[(p["a"], p["b"])] = value[(p["b"], p["a"])] = float(p["value"])
        for side in ("a", "b"):
            strength[p[side]] = max(strength[p[side]], abs(float(p["value"])))
    names = [c.name for c in cols]
    if len(names) > MAX_MATRIX:
        keep = set(sorted(names, key=lambda n: -strength[n])[:MAX_MATRIX])
        names = [n for n in names if n in keep]
    matrix = [[1.0 if a == b else (round(value[(a, b)], 4) if (a, b) in value else None) for b in names]
              for a in names]
    return {"columns": names, "matrix": matrix, "shown": len(names), "of": len(cols)}


def _rounded(m: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(v) else round(float(v), 4) for v in row] for row in m]


# --------------------------------------------------------------------------- target


def _bins(col: Sampled) -> np.ndarray:
    """Integer bins for mutual information: quantile bins for numbers, the most common
    labels for labels; missing values get a bin of their own."""
    if col.numeric:
        x = col.values
        ok = np.isfinite(x)
        ordered = np.sort(x[ok])  # quantile edges read off a sorted copy (a SIMD sort beats partitions)
        at = (np.arange(1, MI_BINS) * (len(ordered) - 1)) // MI_BINS
        edges = np.unique(ordered[at]) if len(ordered) else np.array([])
        out = np.searchsorted(edges, np.where(ok, x, 0.0), side="right")
        return np.where(ok, out, len(edges) + 1)
    codes = col.values
    counts = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(1, int)
    top = np.argsort(-counts, kind="stable")[:MI_LABELS]
    remap = np.full(len(counts) + 1, MI_LABELS)  # "other"
    remap[top] = np.arange(len(top))
    remap[-1] = MI_LABELS + 1  # missing (code -1)
    return remap[codes]


def _mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    """MI of two arrays of small non-negative bins, as scikit-learn's ``mutual_info_score``
    computes it (tested against it; written out because importing scikit-learn takes a
    second), less the Miller-Madow bias: binned MI of independent columns is about
    (r-1)(c-1)/2n above zero."""
    c = int(y.max()) + 1
    table = np.bincount(x * c + y, minlength=(int(x.max()) + 1) * c).reshape(-1, c).astype(np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, c = table.shape
    n = table.sum()
    joint = table[table > 0] / n
    rows, cols = np.nonzero(table)
    px, py = table.sum(axis=1) / n, table.sum(axis=0) / n
    mi = float((joint * (np.log(joint) - np.log(px[rows]) - np.log(py[cols]))).sum())
    return max(mi - (r - 1) * (c - 1) / (2 * n), 0.0)


def target_analysis(sampled: dict[str, Sampled | None], target: str, task: str) -> dict:
    """Each column's mutual information with the target (nats, binned, on the sample), ranked."""
    goal = sampled.get(target)
    result = {"column": target, "task": task, "mutual_information": [], "target_entropy": None}
    if goal is None:
        return result
    if task == "regression" or goal.numeric and task != "classification":
        y = _bins(goal)
    elif goal.numeric:
        y, _ = pd.factorize(goal.values, use_na_sentinel=True)
        y = np.where(y < 0, y.max() + 1, y)
    else:
        y = np.where(goal.values < 0, goal.values.max() + 1, goal.values)
    counts = np.bincount(y)
    p = counts[counts > 0] / counts.sum()
    result["target_entropy"] = round(float(-(p * np.log(p)).sum()), 4)
    scores = []
    for col in sampled.values():
        if col is None or col.name == target:
            continue
        scores.append({"column": col.name, "mutual_information": round(_mutual_information(_bins(col), y), 4)})
    scores.sort(key=lambda s: -s["mutual_information"])
    result["mutual_information"] = scores
    return result
