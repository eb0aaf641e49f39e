"""Correlations and associations checked against scipy, pandas and scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association
from sklearn.metrics import mutual_info_score

from core import correlations
from core.correlations import average_ranks, correlation_ratio, cramers_v
from core.profile import profile_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 800
    a = rng.normal(size=n)
    return pd.DataFrame({
        "a": a,
        "b": np.round(a * 2 + rng.normal(size=n), 1),            # ties
        "c": np.exp(a) + rng.normal(scale=0.1, size=n),          # monotone, not linear
        "g": pd.Categorical(np.where(a > 0.5, "hi", np.where(a < -0.5, "lo", "mid"))),
        "h": pd.Categorical(rng.choice(["p", "q", "r", "s"], n)),
        "t": rng.choice(["u", "v"], n).astype(object),
    })


@pytest.fixture(scope="module")
def assoc(frame) -> dict:
    return profile_frame(frame).correlations


def _cell(assoc, method, a, b):
    names = assoc["numeric"] if method in ("pearson", "spearman") else assoc["categorical"]
    return assoc[method][names.index(a)][names.index(b)]


@pytest.mark.parametrize("a, b", [("a", "b"), ("a", "c"), ("b", "c")])
def test_pearson_and_spearman_match_scipy(frame, assoc, a, b):
    assert _cell(assoc, "pearson", a, b) == pytest.approx(stats.pearsonr(frame[a], frame[b]).statistic, abs=1e-4)
    assert _cell(assoc, "spearman", a, b) == pytest.approx(stats.spearmanr(frame[a], frame[b]).statistic, abs=1e-4)


def test_spearman_sees_a_monotone_curve_that_pearson_underrates(assoc):
    assert _cell(assoc, "spearman", "a", "c") > 0.98 > _cell(assoc, "pearson", "a", "c") + 0.1


def test_missing_values_use_the_rows_both_columns_have():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    frame["y"] += frame["x"]
    frame.loc[::7, "x"] = np.nan
    frame.loc[::5, "y"] = np.nan
    got = profile_frame(frame).correlations
    assert got["pearson"][0][1] == pytest.approx(frame["x"].corr(frame["y"]), abs=1e-4)
    both = frame.dropna()
    assert got["spearman"][0][1] == pytest.approx(stats.spearmanr(both["x"], both["y"]).statistic, abs=0.01)


@pytest.mark.parametrize("a, b", [("g", "h"), ("g", "t"), ("h", "t")])
def test_cramers_v_matches_scipy(frame, assoc, a, b):
    table = pd.crosstab(frame[a], frame[b]).to_numpy()
    assert _cell(assoc, "cramers_v", a, b) == pytest.approx(association(table, method="cramer"), abs=1e-4)


def test_cramers_v_extremes_and_missing_codes():
    a = np.array([0, 0, 1, 1, 2, 2, -1])
    assert cramers_v(a, np.array([5, 5, 3, 3, 0, 0, 1])) == pytest.approx(1.0)
    assert np.isnan(cramers_v(a, np.zeros(7, dtype=int)))  # one label: undefined


def test_correlation_ratio_matches_its_definition(frame, assoc):
    y, g = frame["c"], frame["g"]
    means = y.groupby(g, observed=True).transform("mean")
    expected = np.sqrt(((means - y.mean()) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    pair = next(p for p in assoc["pairs"] if {p["a"], p["b"]} == {"g", "c"})
    assert pair["method"] == "correlation_ratio" and pair["value"] == pytest.approx(expected, abs=1e-4)
    assert correlation_ratio(np.array([0, 0, 1, 1]), np.array([1.0, 1.0, 5.0, 5.0])) == pytest.approx(1.0)
    assert correlation_ratio(np.array([0, 1, 0, 1]), np.array([1.0, 1.0, 5.0, 5.0])) == pytest.approx(0.0)


def test_average_ranks_match_scipy():
    x = np.array([3.0, 1.0, 3.0, np.nan, 2.0, 3.0])
    got = average_ranks(x)
    ok = ~np.isnan(x)
    assert np.isnan(got[3]) and got[ok].tolist() == stats.rankdata(x[ok]).tolist()


def test_pairs_are_strongest_first_and_the_matrix_is_symmetric(assoc):
    values = [abs(p["value"]) for p in assoc["pairs"]]
    assert values == sorted(values, reverse=True)
    mixed = assoc["mixed"]
    m = np.array([[np.nan if v is None else v for v in row] for row in mixed["matrix"]])
    assert np.allclose(m, m.T, equal_nan=True) and set(mixed["columns"]) == {"a", "b", "c", "g", "h", "t"}


def test_heatmap_keeps_the_most_associated_columns(monkeypatch):
    monkeypatch.setattr(correlations, "MAX_MATRIX", 3)
    rng = np.random.default_rng(2)
    base = rng.normal(size=400)
    frame = pd.DataFrame({f"noise{i}": rng.normal(size=400) for i in range(4)})
    frame["s1"], frame["s2"], frame["s3"] = base, base + 0.1 * rng.normal(size=400), -base
    mixed = profile_frame(frame).correlations["mixed"]
    assert mixed["columns"] == ["s1", "s2", "s3"] and (mixed["shown"], mixed["of"]) == (3, 7)


def test_identifiers_text_and_constants_are_left_out():
    frame = pd.DataFrame({"id": np.arange(50), "x": np.arange(50) % 7, "y": np.arange(50) % 5, "k": [1] * 50})
    assoc = profile_frame(frame, kinds={"id": "id"}).correlations
    assert assoc["numeric"] == ["x", "y"]


def test_mutual_information_matches_scikit_learn(frame):
    target = profile_frame(frame, target="t").target
    scores = {s["column"]: s["mutual_information"] for s in target["mutual_information"]}
    n = len(frame)  # less the Miller-Madow bias, (r - 1)(c - 1) / 2n
    assert scores["h"] == pytest.approx(max(mutual_info_score(frame["h"], frame["t"]) - 3 / (2 * n), 0), abs=1e-4)
    assert scores["g"] == pytest.approx(mutual_info_score(frame["g"], frame["t"]) - 2 / (2 * n), abs=1e-4)
    assert target["task"] == "classification" and "t" not in scores


def test_mutual_information_ranks_the_informative_column_first():
    rng = np.random.default_rng(3)
    x = rng.normal(size=3000)
    frame = pd.DataFrame({"noise": rng.normal(size=3000), "x": x, "y": x ** 2 + 0.1 * rng.normal(size=3000)})
    target = profile_frame(frame, target="y", leakage=False).target
    ranked = [s["column"] for s in target["mutual_information"]]
    assert ranked == ["x", "noise"] and target["task"] == "regression"
    assert target["mutual_information"][1]["mutual_information"] < 0.01 < 1 < target["mutual_information"][0]["mutual_information"]
