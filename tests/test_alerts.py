"""Every alert: a small frame that triggers it, and one that must not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import ingest
from core.profile import profile_frame
from tests.conftest import dataset_path

rng = np.random.default_rng(0)
N = 200
normal = rng.normal(size=N)


def _kinds(profile, column=None):
    return {a.kind for a in profile.alerts if column is None or a.column == column}


CASES = [
    # kind, column, frame that fires, frame that must not, extra profile_frame kwargs
    ("all_missing", "a", {"a": [np.nan] * N}, {"a": [np.nan] * (N - 1) + [1.0]}, {}),
    ("constant", "a", {"a": ["x"] * N}, {"a": ["x"] * (N - 1) + ["y"]}, {}),
    ("almost_constant", "a", {"a": [0] * (N - 1) + [1]}, {"a": [0] * (N - 10) + [1] * 10}, {}),
    ("high_missing", "a", {"a": [np.nan] * 60 + list(normal[60:])}, {"a": [np.nan] * 20 + list(normal[20:])}, {}),
    ("infinite_values", "a", {"a": [np.inf] + list(normal[1:])}, {"a": [1e308] + list(normal[1:])}, {}),
    ("mixed_types", "a", {"a": [1, "one"] * (N // 2)}, {"a": ["1", "2"] * (N // 2)}, {}),
    ("mixed_types", "a", {"a": ["12", "7", "13", "n/a"] * (N // 4)}, {"a": ["A1", "B2", "C3", "7"] * (N // 4)}, {}),
    ("duplicate_rows", None, {"a": [1, 1] + list(range(N - 2))}, {"a": list(range(N))}, {}),
    ("high_cardinality", "a", {"a": pd.Categorical([f"c{i % 60}" for i in range(N)])},
     {"a": pd.Categorical([f"c{i % 40}" for i in range(N)])}, {}),
    ("id_like", "a", {"a": [f"u{i}" for i in range(N)]}, {"a": [f"u{i % 100}" for i in range(N)]}, {}),
    ("skewed", "a", {"a": np.exp(3 * normal)}, {"a": normal}, {}),
    ("mostly_zeros", "a", {"a": [0.0] * 120 + list(normal[120:])}, {"a": [0.0] * 80 + list(normal[80:])}, {}),
    ("imbalanced_target", "y", {"y": ["no"] * 190 + ["yes"] * 10, "x": normal},
     {"y": ["no"] * 150 + ["yes"] * 50, "x": normal}, {"target": "y"}),
    ("suspected_leakage", "x2", {"y": normal, "x2": normal * 2, "z": rng.normal(size=N)},
     {"y": normal, "x2": normal + rng.normal(size=N), "z": rng.normal(size=N)}, {"target": "y"}),
]


@pytest.mark.parametrize("kind, column, fires, quiet, kwargs", CASES, ids=[c[0] for c in CASES])
def test_alert_fires_and_stays_quiet(kind, column, fires, quiet, kwargs):
    hit = profile_frame(pd.DataFrame(fires), **kwargs)
    found = [a for a in hit.alerts if a.kind == kind]
    assert found, f"{kind} did not fire: {hit.alerts}"
    alert = found[0]
    assert alert.column == column and alert.severity in ("critical", "warning", "info")
    assert alert.sentence.endswith(".") and (column is None or f"'{column}'" in alert.sentence)
    miss = profile_frame(pd.DataFrame(quiet), **kwargs)
    assert kind not in _kinds(miss), [a for a in miss.alerts if a.kind == kind]


def test_flags_and_binary_columns_are_not_called_skewed_or_mostly_zero():
    flag = [0] * 190 + [1] * 10
    assert _kinds(profile_frame(pd.DataFrame({"holiday": flag})), "holiday") == set()


def test_high_missing_severity_rises_with_the_share():
    some = profile_frame(pd.DataFrame({"a": [np.nan] * 50 + list(normal[50:])}))
    most = profile_frame(pd.DataFrame({"a": [np.nan] * 120 + list(normal[120:])}))
    assert [a.severity for a in some.alerts if a.kind == "high_missing"] == ["info"]
    assert [a.severity for a in most.alerts if a.kind == "high_missing"] == ["warning"]
    assert "60% of 'a' is missing (120 of 200 rows)." in [a.sentence for a in most.alerts]


def test_alerts_come_most_severe_first():
    frame = pd.DataFrame({"y": normal, "leak": normal * 3, "z": np.exp(3 * normal), "gone": [np.nan] * N})
    severities = [a.severity for a in profile_frame(frame, target="y").alerts]
    order = {"critical": 0, "warning": 1, "info": 2}
    assert severities[0] == "critical" and severities == sorted(severities, key=order.get)


def test_bikeshare_flags_both_parts_of_the_target():
    loaded = ingest.load(dataset_path("bikeshare.csv"))
    p = profile_frame(loaded.frame, kinds=loaded.report.kinds(), target="bikers")
    leaks = [a for a in p.alerts if a.kind == "suspected_leakage"]
    assert {a.column for a in leaks} == {"casual", "registered"}
    assert all(a.severity == "critical" for a in leaks) and p.alerts[0].kind == "suspected_leakage"


def test_diamonds_carat_is_not_flagged_for_price():
    loaded = ingest.load(dataset_path("diamonds.csv"))
    p = profile_frame(loaded.frame, kinds=loaded.report.kinds(), target="price")
    assert "suspected_leakage" not in _kinds(p)
    assert p.target["mutual_information"][0]["column"] == "carat"  # strong, and ranked first


def test_leakage_can_be_skipped():
    frame = pd.DataFrame({"y": normal, "x2": normal * 2})
    p = profile_frame(frame, target="y", leakage=False)
    assert "suspected_leakage" not in _kinds(p) and p.leakage == [] and p.seconds["leakage"] == 0
