"""The profile's figures against pandas/numpy, edge cases, JSON, and reuse from the store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import ingest, jsonutil, profile, store
from core.errors import ValidationError
from core.profile import Profile, profile_frame, profile_key
from tests.conftest import dataset_path


@pytest.fixture(scope="module")
def mixed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.lognormal(1, 1, n)
    x[::97] = np.nan
    x[5] = np.inf
    x[6] = -np.inf
    x[10:40] = 0.0
    return pd.DataFrame({
        "x": x,
        "k": rng.integers(-5, 50, n),
        "nullable": pd.array(np.where(np.arange(n) % 9 == 0, None, rng.integers(0, 3, n)), dtype="Int64"),
        "flag": rng.random(n) > 0.3,
        "maybe": pd.array(np.where(np.arange(n) % 11 == 0, None, rng.random(n) > 0.5), dtype="boolean"),
        "city": pd.Categorical(rng.choice(["Oslo", "Rome", None, "Lima"], n)),
        "note": rng.choice(["a", "bb", "ccc dd", "", None], n).astype(object),
        "when": pd.Timestamp("2024-01-01", tz="Europe/Oslo") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
        "wait": pd.to_timedelta(rng.integers(0, 600, n), unit="s"),
    })


@pytest.fixture(scope="module")
def mixed_profile(mixed_frame) -> Profile:
    return profile_frame(mixed_frame)


def test_number_statistics_match_numpy_and_pandas(mixed_frame, mixed_profile):
    s = mixed_frame["x"]
    finite = s[np.isfinite(s)]
    num = mixed_profile.column("x").numbers
    col = mixed_profile.column("x")
    assert (col.count, col.missing) == (int(s.notna().sum()), int(s.isna().sum()))
    assert num["infinite"] == 2 and num["zeros"] == 30
    assert num["min"] == finite.min() and num["max"] == finite.max()
    assert num["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert num["std"] == pytest.approx(finite.std(), rel=1e-12)
    assert num["skew"] == pytest.approx(finite.skew(), rel=1e-9)
    for q in (5, 25, 50, 75, 95):
        assert num[f"q{q:02d}"] == pytest.approx(np.quantile(finite, q / 100), rel=1e-12)
    assert col.distinct == s.nunique()  # +inf and -inf count as values
    counts = finite.value_counts()
    assert col.top[0] == ("0", 30) and col.top[1][1] == counts.iloc[1]
    hist, _ = np.histogram(finite, bins=30)
    assert col.chart["type"] == "histogram" and col.chart["counts"] == hist.tolist()


def test_integers_and_small_integer_sets(mixed_frame, mixed_profile):
    k = mixed_profile.column("k")
    s = mixed_frame["k"]
    assert k.numbers["min"] == -5 and k.numbers["max"] == s.max() and k.distinct == s.nunique()
    assert k.numbers["q50"] == np.quantile(s, 0.5)
    nullable = mixed_profile.column("nullable")
    assert nullable.missing == mixed_frame["nullable"].isna().sum()
    assert nullable.chart == {"type": "bar", "labels": ["0", "1", "2"],
                              "counts": mixed_frame["nullable"].value_counts().sort_index().tolist(), "other": 0}


def test_labels_booleans_and_text(mixed_frame, mixed_profile):
    city = mixed_profile.column("city")
    counts = mixed_frame["city"].value_counts()
    assert city.top == [(str(v), int(c)) for v, c in counts.items()]
    assert city.missing == mixed_frame["city"].isna().sum() and city.distinct == 3
    flag = mixed_profile.column("flag")
    assert dict(flag.top) == {str(k): int(v) for k, v in mixed_frame["flag"].value_counts().items()}
    assert flag.text is None
    maybe = mixed_profile.column("maybe")
    assert maybe.missing == mixed_frame["maybe"].isna().sum()
    note = mixed_profile.column("note")
    lengths = mixed_frame["note"].dropna().str.len()
    assert note.text == {"min_length": 0, "max_length": 6, "mean_length": pytest.approx(lengths.mean())}


def test_dates_range_and_gaps():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-10", "2024-01-11", None,
                           "2024-01-11"])
    p = profile_frame(pd.DataFrame({"d": days}))
    col = p.column("d")
    assert (col.count, col.missing, col.distinct) == (6, 1, 5)
    assert col.dates["min"] == "2024-01-01T00:00:00" and col.dates["max"] == "2024-01-11T00:00:00"
    assert col.dates["median_step_seconds"] == 86400
    assert col.dates["largest_gap"] == {"start": "2024-01-03T00:00:00", "end": "2024-01-10T00:00:00",
                                        "seconds": 7 * 86400}
    assert col.dates["gaps"] == 1
    assert sum(col.chart["counts"]) == 6 and col.top[0] == ("2024-01-11T00:00:00", 2)


def test_time_zones_are_shown_in_utc(mixed_frame, mixed_profile):
    when = mixed_profile.column("when")
    assert when.dates["min"] == mixed_frame["when"].min().tz_convert("UTC").tz_localize(None).isoformat()


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": [1.0, -0.0, np.nan, 1.0, 0.0, np.nan], "b": ["x", "y", None, "x", "y", None]}),
    pd.DataFrame({"a": pd.Categorical(["u", "v", "u", None, None]), "b": [1, 2, 1, 3, 3]}),
    pd.DataFrame({"a": pd.to_datetime(["2024-01-01", None, "2024-01-01"]), "b": [True, False, True]}),
    pd.DataFrame({"only": [7] * 5}),
])
def test_duplicate_rows_match_pandas(frame):
    expected = int(frame.assign(**{c: frame[c].replace(-0.0, 0.0) for c in frame.select_dtypes("float")})
                   .duplicated().sum())
    assert profile_frame(frame).duplicate_rows == expected


def test_duplicates_and_memory_on_a_real_table():
    loaded = ingest.load(dataset_path("diamonds.csv"))
    p = profile_frame(loaded.frame, kinds=loaded.report.kinds())
    assert p.duplicate_rows == loaded.frame.duplicated().sum() == 146
    assert p.memory_bytes == loaded.frame.memory_usage(deep=True, index=False).sum()
    assert p.rows == 53940 and p.n_columns == 10 and p.sample_rows is None


def test_missing_patterns_match_pandas():
    loaded = ingest.load(dataset_path("penguins.csv"))
    frame = loaded.frame
    p = profile_frame(frame, kinds=loaded.report.kinds())
    isna = frame.isna()
    keys = isna[isna.any(axis=1)].apply(lambda r: frozenset(frame.columns[r.to_numpy()]), axis=1)
    expected = keys.value_counts()
    got = {frozenset(pt["columns"]): pt["rows"] for pt in p.missing["patterns"]}
    assert got == {k: int(v) for k, v in expected.items()}
    assert p.missing["complete_rows"] == int((~isna.any(axis=1)).sum())
    assert p.missing_cells == int(isna.sum().sum())
    shares = {c["column"]: c["share"] for c in p.missing["columns"]}
    assert shares == pytest.approx(isna.mean()[isna.any()].to_dict())
    matrix = p.missing["matrix"]
    assert len(matrix["shares"]) == len(matrix["columns"]) and matrix["bands"] == 100


def test_sampling_is_used_and_reported_on_large_tables(monkeypatch):
    monkeypatch.setattr(profile, "SAMPLE_ROWS", 500)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    p = profile_frame(frame)
    assert p.sample_rows == 500 and p.rows == 3000 and p.column("a").count == 3000


@pytest.mark.parametrize("frame", [
    pd.DataFrame(),
    pd.DataFrame({"a": [], "b": []}),
    pd.DataFrame({"all_missing": [np.nan] * 5, "s": [None] * 5}),
    pd.DataFrame({"prix €": [1.5, 2.5], "名前": ["α", "β"]}),
])
def test_edge_frames_profile_without_error_and_serialise(frame):
    p = profile_frame(frame)
    text = json.dumps(p.to_dict(), allow_nan=False)
    again = Profile.from_dict(json.loads(text))
    assert again.to_dict() == p.to_dict()
    assert [c.name for c in p.columns] == [str(c) for c in frame.columns]


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValidationError, match="two columns named 'a'"):
        profile_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(ValidationError, match="The target column 'z' is not in the table"):
        profile_frame(pd.DataFrame({"a": [1]}), target="z")
    with pytest.raises(ValidationError, match="not a profile"):
        Profile.from_dict({"format": "something else"})


def test_frame_is_not_modified(mixed_frame):
    before = mixed_frame.copy()
    profile_frame(mixed_frame, target="k")
    pd.testing.assert_frame_equal(mixed_frame, before)


def test_profile_json_is_strict_and_round_trips(mixed_profile):
    data = mixed_profile.to_dict()
    text = jsonutil.dumps(data)
    assert "NaN" not in text and "Infinity" not in text
    assert data["format"] == "assay.profile" and data["version"] == 1
    assert Profile.from_dict(json.loads(text)).to_dict() == data


def test_key_depends_on_data_steps_and_target():
    base = profile_key("a" * 64, [], None)
    assert base != profile_key("b" * 64, [], None)
    assert base != profile_key("a" * 64, [{"kind": "drop_columns", "columns": ["x"]}], None)
    assert base != profile_key("a" * 64, [], "price")
    assert profile_key("a" * 64, [], "price") == profile_key("a" * 64, [], "price")
    assert len(profile_key("a" * 64, [{"kind": "x"}], "a very long target name " * 20)) <= 200


def test_dataset_profile_is_computed_once_and_reused(any_engine):
    loaded = ingest.load(dataset_path("bikeshare.csv"))
    from core import datasets

    with store.write_session(any_engine) as s:
        project_id = store.create_project(s, "P").id
        dataset = datasets.save_loaded(s, project_id, "bikes", loaded, {"target": "bikers"})
    calls = []

    def frame():
        calls.append(1)
        return loaded.frame

    first_id, first = profile.dataset_profile(any_engine, dataset, [], frame, target="bikers")
    again_id, again = profile.dataset_profile(any_engine, dataset, [], frame, target="bikers")
    assert calls == [1] and first_id == again_id and again.to_dict() == first.to_dict()
    assert {a.column for a in again.alerts if a.kind == "suspected_leakage"} == {"casual", "registered"}
    other_id, _ = profile.dataset_profile(any_engine, dataset, [], frame, target=None)
    assert calls == [1, 1] and other_id != first_id
