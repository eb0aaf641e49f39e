"""Two-sample statistics behind the drift report, fast on a million rows.

Numbers are compared on their *sorted* values: one sort per side (numpy's SIMD
sort) gives the Kolmogorov-Smirnov statistic, the reference's quantile bins for
PSI, the exact 1-Wasserstein distance and the chart's histogram without a
per-row Python loop. Categories are compared on their counts. p-values come from
scipy's distributions; multiple testing is corrected with scipy's
Benjamini-Hochberg.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

__all__ = [
    "numeric_stats", "categorical_stats", "psi",
    "proportion_p_value", "benjamini_hochberg", "ks_statistic", "wasserstein_sorted", "to_numbers",
]

# Pseudo-count added to every bin before PSI: keeps empty bins finite and makes PSI
# shrink towards 0 on small samples, where a bin's share is noisy anyway.
PSI_PSEUDO_COUNT = 0.5
# scipy's exact KS distribution up to this many rows on the larger side (its own default).
_KS_EXACT_MAX = 10_000
_CHART_BINS = 40
_TOP_CATEGORIES = 30


def to_numbers(series: pd.Series) -> np.ndarray:
    """A column as float64 with NaN for missing (nullable and categorical dtypes included)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = pd.to_numeric(series.astype(object), errors="coerce")
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins.

    >>> round(psi(np.array([50, 50]), np.array([60, 40])), 3)
    0.04
    """
    p = (ref_counts + PSI_PSEUDO_COUNT) / (ref_counts.sum() + PSI_PSEUDO_COUNT * len(ref_counts))
    q = (cur_counts + PSI_PSEUDO_COUNT) / (cur_counts.sum() + PSI_PSEUDO_COUNT * len(cur_counts))
    return float(np.sum((q - p) * np.log(q / p)))


def _last_of_runs(sorted_x: np.ndarray) -> np.ndarray:
    """Index of the last element of each run of equal values (ties in an ECDF)."""
    keep = np.empty(len(sorted_x), dtype=bool)
    np.not_equal(sorted_x[1:], sorted_x[:-1], out=keep[:-1])
    keep[-1] = True
    return np.flatnonzero(keep)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """sup |F_a - F_b| for sorted ``a`` and ``b``.

    Both ECDFs are right-continuous steps that jump only at data points, so the
    supremum is reached at one of them; ties are handled by evaluating each side
    at the last index of its runs.
    """
    n, m = len(a), len(b)
    ia, ib = _last_of_runs(a), _last_of_runs(b)
    d_a = np.abs((ia + 1) / n - np.searchsorted(b, a[ia], side="right") / m).max()
    d_b = np.abs(np.searchsorted(a, b[ib], side="right") / n - (ib + 1) / m).max()
    return float(max(d_a, d_b))


def _ks_p_value(a: np.ndarray, b: np.ndarray, d: float) -> float:
    n, m = len(a), len(b)
    if max(n, m) <= _KS_EXACT_MAX:
        with warnings.catch_warnings():  # scipy falls back to the asymptotic form itself
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(stats.ks_2samp(a, b, method="exact").pvalue)
    # scipy's asymptotic two-sided formula (ks_2samp(method="asymp")), on our statistic
    en = n * m / (n + m)
    return float(min(1.0, stats.kstwo.sf(d, np.round(en))))


def wasserstein_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Exact 1-Wasserstein distance of two sorted samples: the integral of
    |Q_a(p) - Q_b(p)| over p, on the pieces where both quantile functions are constant."""
    n, m = len(a), len(b)
    if n == m:
        return float(np.mean(np.abs(a - b)))
    cuts = np.concatenate([np.arange(1, n) / n, np.arange(1, m) / m])
    cuts.sort(kind="stable")  # two sorted runs: a linear merge
    p = np.concatenate([[0.0], cuts, [1.0]])
    width = np.diff(p)
    mid = (p[:-1] + p[1:]) / 2
    qa = a[np.minimum((mid * n).astype(np.int64), n - 1)]
    qb = b[np.minimum((mid * m).astype(np.int64), m - 1)]
    return float(np.sum(width * np.abs(qa - qb)))


def _counts_in_bins(sorted_x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in (-inf, e1], (e1, e2], ..., (ek, inf) of a sorted array."""
    return np.diff(np.concatenate([[0], np.searchsorted(sorted_x, edges, side="right"), [len(sorted_x)]]))


def _quantile_sorted(sorted_x: np.ndarray, q: np.ndarray) -> np.ndarray:
    return sorted_x[np.minimum((np.asarray(q) * len(sorted_x)).astype(np.int64), len(sorted_x) - 1)]


def _chart_edges(a: np.ndarray, b: np.ndarray, integer: bool) -> np.ndarray:
    """Shared histogram edges over both samples' 0.5%-99.5% range (tails go to the end bins)."""
    lo = float(min(_quantile_sorted(a, [0.005])[0], _quantile_sorted(b, [0.005])[0]))
    hi = float(max(_quantile_sorted(a, [0.995])[0], _quantile_sorted(b, [0.995])[0]))
    if integer and hi - lo <= _CHART_BINS:
        return np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.0, 1.0)
    if hi <= lo:
        return np.array([lo - 0.5, lo + 0.5])
    return np.linspace(lo, hi, _CHART_BINS + 1)


def _summary(sorted_x: np.ndarray) -> dict:
    if len(sorted_x) == 0:
        return {"count": 0}
    q = _quantile_sorted(sorted_x, np.array([0.05, 0.25, 0.5, 0.75, 0.95]))
    return {"count": int(len(sorted_x)), "mean": float(sorted_x.mean()), "std": float(sorted_x.std()),
            "min": float(sorted_x[0]), "max": float(sorted_x[-1]),
            "p05": float(q[0]), "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]), "p95": float(q[4])}


def numeric_stats(ref: np.ndarray, cur: np.ndarray, *, bins: int = 10, integer: bool = False) -> dict:
    """Compare two non-empty samples of finite numbers (missing values already removed).

    Returns ``ks``, ``ks_p``, ``psi`` (on the reference's ``bins`` quantile bins),
    ``wasserstein``, ``wasserstein_norm`` (in reference standard deviations),
    ``outside_share`` (current values outside the reference's range), ``ref``/``cur``
    summaries and a shared ``histogram`` for the chart.
    """
    a = np.sort(np.asarray(ref, dtype=np.float64))
    b = np.sort(np.asarray(cur, dtype=np.float64))
    d = ks_statistic(a, b)
    edges = np.unique(_quantile_sorted(a, np.arange(1, bins) / bins))
    raw_w = wasserstein_sorted(a, b)
    scale = float(a.std())
    if scale == 0.0:  # a constant reference: measure in the current's spread, else in units
        scale = float(b.std()) or 1.0
    chart = _chart_edges(a, b, integer)
    inner = chart[1:-1]
    outside = (np.searchsorted(b, a[0], side="left") + len(b) - np.searchsorted(b, a[-1], side="right")) / len(b)
    return dict(
        ks=d, ks_p=_ks_p_value(a, b, d), psi=psi(_counts_in_bins(a, edges), _counts_in_bins(b, edges)),
        wasserstein=raw_w, wasserstein_norm=raw_w / scale, outside_share=float(outside),
        ref=_summary(a), cur=_summary(b),
        histogram={"edges": chart.tolist(),
                   "ref": (_counts_in_bins(a, inner) / len(a)).tolist(),
                   "cur": (_counts_in_bins(b, inner) / len(b)).tolist()},
    )


def categorical_stats(ref_counts: pd.Series, cur_counts: pd.Series) -> dict:
    """Compare two non-empty label -> count series (missing values already removed).

    Returns ``chi2_p``, ``psi``, ``js`` (Jensen-Shannon distance, base 2, in [0, 1]),
    the ``new`` labels (with their current share) and ``lost`` ones (with their
    reference share), and the top labels' shares as ``bars`` for the chart.
    """
    table = pd.concat([ref_counts.rename("ref"), cur_counts.rename("cur")], axis=1).fillna(0).astype(np.int64)
    table = table.sort_values("ref", ascending=False, kind="stable")
    r, c = table["ref"].to_numpy(), table["cur"].to_numpy()
    n_r, n_c = int(r.sum()), int(c.sum())
    p, q = r / n_r, c / n_c
    new = table.index[(r == 0) & (c > 0)]
    lost = table.index[(r > 0) & (c == 0)]
    bars = table.head(_TOP_CATEGORIES)
    rest_r, rest_c = n_r - int(bars["ref"].sum()), n_c - int(bars["cur"].sum())
    return dict(
        chi2_p=_chi2_p_value(r, c), psi=psi(r, c), js=float(jensenshannon(p, q, base=2)),
        n_categories=int(len(table)),
        new={str(k): float(table.at[k, "cur"] / n_c) for k in new[:_TOP_CATEGORIES]},
        n_new=int(len(new)), new_share=float(c[(r == 0)].sum() / n_c),
        lost={str(k): float(table.at[k, "ref"] / n_r) for k in lost[:_TOP_CATEGORIES]}, n_lost=int(len(lost)),
        bars={"labels": [str(k) for k in bars.index] + (["(other labels)"] if rest_r or rest_c else []),
              "ref": (bars["ref"] / n_r).tolist() + ([rest_r / n_r] if rest_r or rest_c else []),
              "cur": (bars["cur"] / n_c).tolist() + ([rest_c / n_c] if rest_r or rest_c else [])},
    )


def _chi2_p_value(r: np.ndarray, c: np.ndarray) -> float:
    """Chi-squared test of homogeneity; labels expected fewer than 5 times are pooled."""
    total = r + c
    expected_min = total * min(r.sum(), c.sum()) / total.sum()
    rare = expected_min < 5
    r2 = np.append(r[~rare], r[rare].sum()) if rare.any() else r
    c2 = np.append(c[~rare], c[rare].sum()) if rare.any() else c
    keep = (r2 + c2) > 0
    if keep.sum() < 2:
        return 1.0
    return float(stats.chi2_contingency(np.vstack([r2[keep], c2[keep]]), correction=False).pvalue)


def proportion_p_value(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value that ``k1/n1`` and ``k2/n2`` share one proportion (missing shares)."""
    if n1 == 0 or n2 == 0 or k1 + k2 in (0, n1 + n2):
        return 1.0
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    if expected.min() < 5:
        return float(stats.fisher_exact(table).pvalue)
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def benjamini_hochberg(p_values: list[float | None]) -> list[float | None]:
    """BH-adjusted p-values (``None`` stays ``None``: a test that was not run)."""
    idx = [i for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    out: list[float | None] = [None] * len(p_values)
    if idx:
        adjusted = stats.false_discovery_control(np.array([p_values[i] for i in idx]), method="bh")
        for i, v in zip(idx, adjusted):
            out[i] = float(v)
    return out
