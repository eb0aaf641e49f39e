"""Property-based: whatever bytes arrive, ingest either loads a table or says why."""

from __future__ import annotations

import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import ingest
from core.errors import AssayError

NAMES = ["data.csv", "data.tsv", "data.txt", "data.json", "data.jsonl", "data.parquet", "data.xlsx", "noext"]
cells = st.one_of(
    st.text(max_size=12), st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "N/A", "yes", "no", "TRUE", "0", "007", "1,5", "1.234,5", "2024-02-30",
                     "2024-01-01T00:00:00+05:00", '"', '""', "\\", ";", "\t", "=SUM(A1)", "<script>", "😀"]),
)


def _load(data: bytes, name: str):
    try:
        loaded = ingest.load(data, name=name)
    except AssayError as exc:
        assert str(exc).strip(), "an error must say something"
        return None
    assert isinstance(loaded.frame, pd.DataFrame)
    assert loaded.report.rows == len(loaded.frame) > 0
    assert loaded.report.columns == loaded.frame.shape[1]
    assert len(set(loaded.frame.columns)) == loaded.frame.shape[1], "column names must be unique"
    assert all(isinstance(c, str) and c for c in loaded.frame.columns)
    return loaded


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), name=st.sampled_from(NAMES))
def test_any_bytes_load_or_fail_with_an_assay_error(data, name):
    _load(data, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["", "a", "a", " "])), min_size=1, max_size=6),
    rows=st.lists(st.lists(cells, min_size=0, max_size=7), min_size=0, max_size=25),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]),
)
def test_any_delimited_text_loads_or_fails_with_an_assay_error(header, rows, delimiter, encoding):
    text = "\n".join(delimiter.join(r) for r in [header, *rows]) + "\n"
    _load(text.encode(encoding, errors="replace"), "t.csv")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.dictionaries(st.text(max_size=6), cells | st.integers() | st.booleans() | st.none(),
                                     max_size=5), min_size=1, max_size=20))
def test_any_json_records_load_or_fail_with_an_assay_error(rows):
    import json

    _load(json.dumps(rows).encode(), "r.json")
    _load("\n".join(json.dumps(r) for r in rows).encode(), "r.jsonl")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=st.lists(st.tuples(cells, st.integers(-5, 5), st.floats(allow_nan=True)), min_size=1, max_size=30))
def test_parquet_round_trip_keeps_every_row(frame):
    df = pd.DataFrame(frame, columns=["s", "i", "f"])
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    loaded = _load(buffer.getvalue(), "x.parquet")
    assert loaded is not None and len(loaded.frame) == len(df)
