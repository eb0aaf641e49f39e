"""Suspected target leakage: exact relationships are flagged, strong predictors are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import ingest
from core.errors import ValidationError
from core.leakage import LeakSuspect, detect_task, leakage_check
from tests.conftest import dataset_path


def _flagged(suspects: list[LeakSuspect]) -> set[str]:
    return {c for s in suspects for c in s.columns}


@pytest.fixture(scope="module")
def bikeshare() -> pd.DataFrame:
    return ingest.load(dataset_path("bikeshare.csv")).frame


@pytest.fixture(scope="module")
def diamonds() -> pd.DataFrame:
    return ingest.load(dataset_path("diamonds.csv")).frame


def test_bikeshare_parts_of_the_target_are_flagged_together(bikeshare):
    suspects = leakage_check(bikeshare, "bikers")
    assert _flagged(suspects) == {"casual", "registered"}
    (found,) = suspects
    assert found.test == "combination" and found.metric == "r2" and found.score > 0.9999
    assert found.sentence.startswith("'bikers' is exactly 'casual' + 'registered'")


def test_casual_alone_is_not_near_perfect_so_only_the_sum_gives_it_away(bikeshare):
    # the hard case: neither part predicts the total on its own
    assert leakage_check(bikeshare, "bikers", columns=["casual"]) == []
    assert leakage_check(bikeshare, "bikers", columns=["registered"]) == []


def test_diamonds_carat_is_strong_but_not_a_leak(diamonds):
    assert leakage_check(diamonds, "price") == []


def test_diamonds_with_a_converted_price_column_flags_only_that(diamonds):
    frame = diamonds.assign(price_eur=diamonds["price"] * 0.92)
    suspects = leakage_check(frame, "price")
    assert _flagged(suspects) == {"price_eur"}
    assert suspects[0].score > 0.9999


def _noisy(n=3000, noise=0.3, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "other": rng.normal(size=n), "y": x + noise * rng.normal(size=n)})


@pytest.mark.parametrize("noise, flagged", [(0.0, {"x"}), (0.02, {"x"}), (0.3, set()), (1.0, set())])
def test_one_column_regression_bar(noise, flagged):
    assert _flagged(leakage_check(_noisy(noise=noise), "y")) == flagged


def test_heavy_tailed_copy_and_a_product_are_found():
    rng = np.random.default_rng(2)
    n = 4000
    frame = pd.DataFrame({"units": rng.integers(1, 60, n), "unit_price": rng.lognormal(2, 1, n).round(2),
                          "weight": rng.lognormal(0, 2, n)})
    frame["revenue"] = frame["units"] * frame["unit_price"]
    frame["weight_g"] = frame["weight"] * 1000
    assert _flagged(leakage_check(frame.drop(columns="weight_g"), "revenue")) == {"units", "unit_price"}
    suspects = leakage_check(frame, "weight_g")
    assert [s.columns for s in suspects] == [("weight",)]


def test_ids_and_row_numbers_cannot_memorise_the_target():
    rng = np.random.default_rng(3)
    n = 2000
    frame = pd.DataFrame({"code": [f"C{i:05d}" for i in range(n)], "row": np.arange(n),
                          "y": rng.normal(size=n)})
    assert leakage_check(frame, "y") == []


@pytest.mark.parametrize("make_y, flagged", [
    (lambda x, r: np.where(x > 1.2, "late", "on time"), {"x"}),          # a threshold rule
    (lambda x, r: np.where(x + r.normal(size=len(x)) > 0, "a", "b"), set()),  # a useful predictor
])
def test_one_column_classification_bar(make_y, flagged):
    rng = np.random.default_rng(4)
    x = rng.normal(size=3000)
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=3000), "y": make_y(x, rng)})
    found = leakage_check(frame, "y")
    assert _flagged(found) == flagged
    assert all(s.metric == "balanced_accuracy" for s in found)


def test_a_recoded_label_is_flagged_even_when_the_target_is_rare():
    rng = np.random.default_rng(5)
    status = rng.choice(["ok", "fraud"], size=5000, p=[0.99, 0.01])
    frame = pd.DataFrame({"status": status, "flag": np.where(status == "fraud", "F", "-"),
                          "amount": rng.lognormal(3, 1, 5000)})
    (found,) = leakage_check(frame, "status")
    assert found.columns == ("flag",) and found.score == pytest.approx(1.0)


def test_edge_cases_of_messy_columns():
    n = 600
    rng = np.random.default_rng(6)
    y = rng.normal(size=n)
    frame = pd.DataFrame({
        "all_missing": np.full(n, np.nan),
        "with_inf": np.where(np.arange(n) % 50 == 0, np.inf, rng.normal(size=n)),
        "nullable": pd.array(np.where(np.arange(n) % 7 == 0, None, rng.integers(0, 5, n)), dtype="Int64"),
        "flag": pd.array(np.where(np.arange(n) % 9 == 0, None, rng.random(n) > 0.5), dtype="boolean"),
        "mixed": [1 if i % 2 else "one" for i in range(n)],
        "when": pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"),
        "målt ✓": y * 2 + 1,
        "y": y,
    })
    before = frame.copy()
    found = leakage_check(frame, "y")
    assert _flagged(found) == {"målt ✓"}
    pd.testing.assert_frame_equal(frame, before)  # never modified


def test_missing_and_infinite_targets_are_skipped():
    frame = _noisy(noise=0.0)
    frame.loc[::10, "y"] = np.nan
    frame.loc[5, "y"] = np.inf
    assert _flagged(leakage_check(frame, "y")) == {"x"}


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"x": [], "y": []}),
    pd.DataFrame({"x": range(100), "y": [3.0] * 100}),   # constant target
    pd.DataFrame({"x": range(20), "y": range(20)}),      # too few rows to judge
])
def test_nothing_to_judge_returns_no_suspects(frame):
    assert leakage_check(frame, "y") == []


def test_same_seed_same_answer_and_sampling_keeps_it(bikeshare):
    a = leakage_check(bikeshare, "bikers", seed=7, sample_rows=2000)
    b = leakage_check(bikeshare, "bikers", seed=7, sample_rows=2000)
    assert a == b and _flagged(a) == {"casual", "registered"}


@pytest.mark.parametrize("kwargs, message", [
    ({"target": "nope"}, "The target column 'nope' is not in the table."),
    ({"target": "y", "task": "forecast"}, "The 'task' parameter of leakage_check must be one of"),
    ({"target": "y", "columns": ["x", "zz"]}, "The column 'zz' is not in the table."),
    ({"target": "label", "task": "regression"}, "The target 'label' is not numeric"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    frame = _noisy().assign(label=lambda d: np.where(d.x > 0, "a", "b"))
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        leakage_check(frame, **kwargs)


def test_duplicated_column_names_are_refused():
    frame = pd.DataFrame([[1, 2, 3]] * 40, columns=["a", "a", "y"])
    with pytest.raises(ValidationError, match="duplicated column names"):
        leakage_check(frame, "y")


@pytest.mark.parametrize("values, task", [
    ([1.5, 2.5, 3.5] * 10 + list(range(20)), "regression"),
    ([0, 1, 2] * 10, "classification"),
    (["a", "b"] * 10, "classification"),
    ([True, False] * 10, "classification"),
])
def test_detect_task(values, task):
    assert detect_task(pd.Series(values)) == task


def test_suspect_round_trips_as_json():
    suspect = LeakSuspect(("a", "b"), 1.0, "r2", "combination", "'y' is exactly 'a' + 'b'.")
    assert LeakSuspect.from_dict(suspect.to_dict()) == suspect
