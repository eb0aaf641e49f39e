"""core.drift_stats: our fast statistics agree with scipy's reference implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from core import drift_stats

samples = st.lists(st.integers(-5, 5) | st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=60)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's own p-value on one-row samples
@settings(max_examples=200, deadline=None)
@given(samples, samples)
def test_ks_and_wasserstein_match_scipy_with_ties(a, b):
    a, b = np.sort(np.array(a, dtype=float)), np.sort(np.array(b, dtype=float))
    assert drift_stats.ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b, method="asymp").statistic, abs=1e-12)
    assert drift_stats.wasserstein_sorted(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-9)


def test_numeric_stats_on_a_known_shift():
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(0, 2, 50_000), rng.normal(1, 2, 60_000)
    s = drift_stats.numeric_stats(ref, cur)
    assert s["wasserstein_norm"] == pytest.approx(0.5, abs=0.02)  # a shift of 1 in units of std 2
    assert s["ks_p"] < 1e-100 and s["ks"] == pytest.approx(stats.ks_2samp(ref, cur).statistic)
    assert 0.15 < s["psi"] < 0.3
    assert sum(s["histogram"]["ref"]) == pytest.approx(1.0) and sum(s["histogram"]["cur"]) == pytest.approx(1.0)
    assert s["ref"]["count"] == 50_000 and s["cur"]["mean"] == pytest.approx(1.0, abs=0.03)


def test_numeric_stats_of_a_constant_reference():
    s = drift_stats.numeric_stats(np.full(100, 3.0), np.r_[np.full(50, 3.0), np.full(50, 5.0)], integer=True)
    assert s["wasserstein"] == pytest.approx(1.0)
    assert s["wasserstein_norm"] == pytest.approx(1.0)  # measured in the current's spread (std 1)
    assert s["outside_share"] == 0.5
    assert s["histogram"]["edges"] == [2.5, 3.5, 4.5, 5.5]


def test_psi_convention_and_smoothing():
    assert drift_stats.psi(np.array([500, 500]), np.array([500, 500])) == 0.0
    assert drift_stats.psi(np.array([5000, 5000]), np.array([6000, 4000])) == pytest.approx(
        0.1 * np.log(0.6 / 0.5) + 0.1 * np.log(0.5 / 0.4), rel=1e-3)
    assert np.isfinite(drift_stats.psi(np.array([100, 0]), np.array([0, 100])))


def test_categorical_stats_new_and_lost_labels():
    s = drift_stats.categorical_stats(pd.Series({"a": 60, "b": 40, "old": 10}), pd.Series({"a": 50, "b": 40, "new": 10}))
    assert s["new"] == {"new": 0.1} and s["lost"] == {"old": pytest.approx(10 / 110)}
    assert s["n_categories"] == 4
    p = np.array([60, 40, 10, 0]) / 110
    q = np.array([50, 40, 0, 10]) / 100
    m = (p + q) / 2
    kl = lambda x, y: np.sum(np.where(x > 0, x * np.log2(np.where(x > 0, x, 1) / y), 0))  # noqa: E731
    assert s["js"] == pytest.approx(np.sqrt((kl(p, m) + kl(q, m)) / 2))


def test_chi2_pools_rare_labels():
    ref = pd.Series({"a": 500, "b": 500, **{f"r{i}": 1 for i in range(30)}})
    cur = pd.Series({"a": 500, "b": 500, **{f"s{i}": 1 for i in range(30)}})
    # label by label, 60 labels seen once would look like a huge change; pooled, they are the same
    assert drift_stats.categorical_stats(ref, cur)["chi2_p"] > 0.5


@pytest.mark.parametrize("k1, n1, k2, n2, expected", [
    (0, 100, 0, 100, 1.0), (100, 100, 100, 100, 1.0), (0, 0, 5, 10, 1.0),
    (10, 1000, 100, 1000, stats.chi2_contingency([[10, 990], [100, 900]], correction=False).pvalue),
    (0, 20, 3, 20, stats.fisher_exact([[0, 20], [3, 17]]).pvalue),
])
def test_proportion_p_value(k1, n1, k2, n2, expected):
    assert drift_stats.proportion_p_value(k1, n1, k2, n2) == pytest.approx(expected)


def test_benjamini_hochberg_keeps_gaps():
    adjusted = drift_stats.benjamini_hochberg([0.01, None, 0.04, 0.03, float("nan")])
    assert adjusted[1] is None and adjusted[4] is None
    assert adjusted[0] == pytest.approx(0.03) and adjusted[2] == pytest.approx(0.04) and adjusted[3] == pytest.approx(0.04)
