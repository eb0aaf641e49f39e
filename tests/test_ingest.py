"""Ingest: every format, the encodings and delimiters, type inference, and bad input."""

from __future__ import annotations

import io
import json
import sqlite3

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import ingest
from core.errors import InputError, ValidationError
from core.ingest import LoadOptions
from tests.conftest import dataset_path


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _parquet(frame: pd.DataFrame | pa.Table) -> bytes:
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


# --------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    ("empty.csv", b"", "is empty"),
    ("blank.csv", b"\n\n  \n", "is empty"),
    ("header_only.csv", b"a,b,c\n", "has a header but no rows"),
    ("junk.csv", bytes(range(256)) * 40, "contains binary data"),
    ("unbalanced.csv", b'a,b\n1,x\n2,"never closed\n3,z\n', 'Line 3 .* opens a quoted value that is never closed'),
    ("ragged.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n", "Line 4 .* has 2 fields, but the header has 3"),
    ("too_many.csv", b"a,b\n1,2\n3,4,5\n", "Line 3 .* has 3 fields, but the header has 2"),
    ("bad.parquet", b"PAR1" + b"\x00" * 64, "not a valid Parquet file"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old-style .xls workbook or a password-protected"),
    ("not_excel.xlsx", b"PK\x03\x04" + b"\x00" * 64, "damaged"),
    ("bad.json", b'[{"a": 1}, {"a": ', "not valid JSON"),
    ("scalars.json", b"[1, 2, 3]", "not objects"),
    ("bad_line.jsonl", b'{"a": 1}\n{"a": 2}\n{oops}\n', "Line 3 is not valid JSON"),
]


@pytest.mark.parametrize("file_name, content, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_files_get_a_clear_message(tmp_path, file_name, content, message):
    path = tmp_path / file_name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        ingest.load(path)
    assert info.value.hint, "every refusal says what to do"


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_MAX_UPLOAD_MB", "0.001")  # about 1 KB
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b'1,"unbalanced\n' * 200)  # would be a parse error if it were parsed
    with pytest.raises(InputError, match="above the upload limit of 0 MB"):
        ingest.load(path)


def test_skip_bad_lines_skips_and_says_how_many():
    loaded = ingest.load(b"a,b\n1,2\n3\n4,5\n6,7,8\n", name="x.csv", options=LoadOptions(skip_bad_lines=True))
    assert loaded.frame["a"].tolist() == [1, 4]
    assert any("Skipped 2 malformed line(s) (the first is line 3)" in w for w in loaded.report.warnings)


def test_duplicate_and_blank_names_are_renamed_with_warnings():
    loaded = ingest.load(b"a,a,,a\n1,2,3,4\n", name="x.csv")
    assert list(loaded.frame.columns) == ["a", "a (2)", "column_3", "a (3)"]
    assert loaded.report.renamed == {"a (2)": "a", "column_3": "", "a (3)": "a"}
    text = " ".join(loaded.report.warnings)
    assert "'a' appears more than once" in text and "Column 3 has no name" in text


def test_unicode_rtl_emoji_and_markup_names_and_cells_are_kept_as_text():
    raw = '名前,שלום,😀 score,<img src=x onerror=alert(1)>,"a""; DROP TABLE project;--"\n' \
          'Zoë,עברית,1,<script>alert(1)</script>,\'); DELETE FROM x;--\n'
    loaded = ingest.load(raw.encode("utf-8"), name="u.csv")
    assert list(loaded.frame.columns) == [
        "名前", "שלום", "😀 score", "<img src=x onerror=alert(1)>", 'a"; DROP TABLE project;--',
    ]
    row = loaded.frame.iloc[0]
    assert row["<img src=x onerror=alert(1)>"] == "<script>alert(1)</script>"
    assert row['a"; DROP TABLE project;--'] == "'); DELETE FROM x;--"


def test_an_excel_file_with_several_sheets_loads_the_first_and_offers_the_others():
    data = _xlsx({"Sales": [["a", "b"], [1, "x"], [2, "y"]], "Costs": [["c"], [3.5], [4.5]]})
    loaded = ingest.load(data, name="book.xlsx")
    assert loaded.report.sheets == ["Sales", "Costs"] and loaded.report.sheet == "Sales"
    assert any("2 sheets; loaded 'Sales'" in w for w in loaded.report.warnings)
    other = ingest.load(data, name="book.xlsx", options=LoadOptions(sheet="Costs"))
    assert other.frame["c"].tolist() == [3.5, 4.5] and not other.report.warnings
    assert ingest.list_sheets(data) == ["Sales", "Costs"]
    with pytest.raises(InputError, match="no sheet named 'Nope'"):
        ingest.load(data, name="book.xlsx", options=LoadOptions(sheet="Nope"))


def test_excel_formulas_are_never_run_only_cached_values_are_read():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["a", "b"])
    sheet.append([1, '=HYPERLINK("http://evil","x")'])
    sheet.append([2, "=1+1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    loaded = ingest.load(buffer.getvalue(), name="f.xlsx")
    # openpyxl stores formulas without cached results: nothing to show, nothing executed
    assert loaded.frame["b"].isna().all()


def test_an_xlsx_zip_bomb_is_refused_before_parsing():
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 50_000_000)
    with pytest.raises(InputError, match="looks like a zip bomb"):
        ingest.load(buffer.getvalue(), name="bomb.xlsx")


def test_a_wrong_extension_is_read_by_content():
    data = _parquet(pd.DataFrame({"a": [1, 2]}))
    loaded = ingest.load(data, name="really_parquet.csv")
    assert loaded.report.format == "parquet"
    assert loaded.frame["a"].tolist() == [1, 2]
    assert "content is PARQUET" in loaded.report.warnings[0]


# --------------------------------------------------------------------------- formats and encodings

ENCODED = [
    ("utf-8", "name,city\nZoë,Zürich\n".encode("utf-8"), "utf-8"),
    ("utf-8 BOM", b"\xef\xbb\xbf" + "name,city\nZoë,Zürich\n".encode("utf-8"), "utf-8-sig"),
    ("cp1252", "name,city\nZoë,Zürich € \u201cq\u201d\n".encode("cp1252"), "cp1252"),
    ("latin-1", "name,city\nZoë,Zürich\x81\n".encode("latin-1"), "latin-1"),
]


@pytest.mark.parametrize("label, data, encoding", ENCODED, ids=[e[0] for e in ENCODED])
def test_encodings_are_detected_and_reported(label, data, encoding):
    loaded = ingest.load(data, name="e.csv")
    assert loaded.report.encoding == encoding
    assert loaded.frame["name"].iloc[0] == "Zoë"
    assert loaded.frame["city"].iloc[0].startswith("Zürich")


@pytest.mark.parametrize(
    "text, delimiter, decimal, values",
    [
        ("a,b\n1.5,x\n2.5,y\n", ",", ".", [1.5, 2.5]),
        ("a;b\n1,5;x\n2,25;y\n", ";", ",", [1.5, 2.25]),
        ("a;b\n1.234,5;x\n-2,25;y\n", ";", ",", [1234.5, -2.25]),
        ("a\tb\n1.5\tx\n2.5\ty\n", "\t", ".", [1.5, 2.5]),
        ("a|b\n1.5|x\n2.5|y\n", "|", ".", [1.5, 2.5]),
    ],
)
def test_delimiter_and_decimal_mark_are_detected(text, delimiter, decimal, values):
    loaded = ingest.load(text.encode(), name="d.txt")
    assert (loaded.report.delimiter, loaded.report.decimal) == (delimiter, decimal)
    assert loaded.frame["a"].tolist() == values


def test_quoted_delimiters_and_newlines_survive():
    loaded = ingest.load(b'a,b\n"x, y","line one\nline two"\n"z",w\n', name="q.csv")
    assert loaded.frame["a"].tolist() == ["x, y", "z"]
    assert loaded.frame["b"].iloc[0] == "line one\nline two"


def test_parquet_json_and_json_lines():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert ingest.load(_parquet(frame), name="t.parquet").frame.equals(ingest.load(_parquet(frame)).frame)
    records = json.dumps([{"a": 1, "b": "x", "n": {"c": 3}}, {"a": 2, "b": "y", "n": {"c": 4}}]).encode()
    loaded = ingest.load(records, name="t.json")
    assert loaded.report.format == "json"
    assert list(loaded.frame.columns) == ["a", "b", "n.c"] and loaded.frame["n.c"].tolist() == [3, 4]
    lines = b'{"a": 1, "tags": ["p", "q"]}\n{"a": 2, "tags": []}\n'
    loaded = ingest.load(lines, name="t.jsonl")
    assert loaded.report.format == "jsonl"
    assert loaded.frame["tags"].tolist() == ['["p", "q"]', "[]"]
    assert "JSON text" in loaded.report.warnings[0]


def test_nested_parquet_columns_become_json_text():
    table = pa.table({"id": [1, 2], "point": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]})
    loaded = ingest.load(_parquet(table), name="n.parquet")
    assert json.loads(loaded.frame["point"].iloc[1]) == {"x": 3, "y": 4}
    assert "Nested columns" in loaded.report.warnings[0]


def test_sql_query_is_read_only(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sales (region TEXT, amount REAL)")
        conn.executemany("INSERT INTO sales VALUES (?, ?)", [("north", 10.5), ("south", 7.0)])
    url = f"sqlite:///{path}"
    loaded = ingest.load_sql(url, "SELECT region, amount FROM sales ORDER BY amount -- a comment")
    assert loaded.frame.to_dict("list") == {"region": ["south", "north"], "amount": [7.0, 10.5]}
    for query, message in [
        ("DELETE FROM sales", "Only SELECT queries"),
        ("SELECT 1; DROP TABLE sales", "one SQL statement"),
        ("", "empty"),
        ("WITH x AS (DELETE FROM sales RETURNING *) SELECT * FROM x", "modifies data"),
        ("SELECT * FROM missing_table", "The query failed"),
    ]:
        with pytest.raises(InputError, match=message):
            ingest.load_sql(url, query)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sales").fetchone()[0] == 2


# --------------------------------------------------------------------------- type inference

KIND_CASES = [
    ("whole", ["1", "2", "3"], "integer"),
    ("decimals", ["1.5", "2", "3.25"], "float"),
    ("na_beside_numbers", ["1", "N/A", "3"], "integer"),
    ("yes_no", ["yes", "no", "Yes"], "boolean"),
    ("true_false", ["true", "false", "TRUE"], "boolean"),
    ("y_n", ["Y", "N", "Y"], "boolean"),
    ("zero_one_text", ['"0"', '"1"', '"1"'], "integer"),
    ("iso_dates", ["2024-01-31", "2024-02-29", "2024-03-01"], "datetime"),
    ("day_first", ["31/01/2024", "29/02/2024", "01/03/2024"], "datetime"),
    ("labels", ["red", "blue", "red"], "categorical"),
    ("mixed", ["12", "abc", "7"], "categorical"),
]


@pytest.mark.parametrize("name, values, kind", KIND_CASES, ids=[c[0] for c in KIND_CASES])
def test_kind_inference(name, values, kind):
    data = ("col\n" + "\n".join(values) + "\n").encode()
    loaded = ingest.load(data, name="k.csv")
    assert loaded.report.column_info[0]["kind"] == kind, loaded.report.column_info[0]


def test_ids_free_text_leading_zeros_and_big_integers():
    n = 60
    frame = pd.DataFrame({
        "customer_id": range(1000, 1000 + n),
        "code": [f"{i:05d}" for i in range(n)],
        "note": [f"the customer called about order number {i} twice" for i in range(n)],
        "big": [str(2**63 + i) for i in range(n)],
        "exact": [2**53 + 1 + 7 * i for i in range(n)],
    })
    loaded = ingest.load(frame.to_csv(index=False).encode(), name="ids.csv")
    kinds = loaded.report.kinds()
    assert kinds == {"customer_id": "id", "code": "id", "note": "text", "big": "id", "exact": "integer"}
    assert loaded.frame["code"].iloc[1] == "00001"
    assert loaded.frame["big"].iloc[0] == str(2**63)
    assert int(loaded.frame["exact"].iloc[0]) == 2**53 + 1


def test_integers_with_gaps_stay_exact():
    loaded = ingest.load(f"x,y\n{2**53 + 1},a\n,b\n7,c\n".encode(), name="g.csv")
    assert loaded.frame["x"].dtype == "Int64"
    assert int(loaded.frame["x"].iloc[0]) == 2**53 + 1 and pd.isna(loaded.frame["x"].iloc[1])


def test_time_zones_are_kept_and_mixed_zones_become_utc():
    loaded = ingest.load(b"t\n2024-01-01T10:00:00+02:00\n2024-01-01T10:00:00+01:00\n", name="tz.csv")
    values = loaded.frame["t"]
    assert str(values.dt.tz) == "UTC"
    assert values.iloc[0] == pd.Timestamp("2024-01-01T08:00:00Z")


def test_kind_overrides_convert_and_count_failures():
    data = b"a,b\n1,2024-01-01\nx,not a date\n3,2024-01-03\n"
    loaded = ingest.load(data, name="o.csv", options=LoadOptions(kinds={"a": "integer", "b": "datetime"}))
    assert loaded.frame["a"].tolist()[0] == 1 and pd.isna(loaded.frame["a"].iloc[1])
    assert [c["failed"] for c in loaded.report.column_info] == [1, 1]
    assert loaded.report.column_info[0]["reason"].startswith("set by you")
    with pytest.raises(InputError, match="not in the data"):
        ingest.load(data, name="o.csv", options=LoadOptions(kinds={"zzz": "integer"}))
    with pytest.raises(ValidationError, match="must be one of"):
        LoadOptions(kinds={"a": "number"})


@pytest.mark.parametrize("name, rows, cols", [
    ("diamonds.csv", 53_940, 10), ("penguins.csv", 344, 8), ("credit_scoring.csv", 4_454, 14),
    ("bikeshare.csv", 8_645, 15),
])
def test_real_datasets_load_with_sensible_kinds(name, rows, cols):
    loaded = ingest.load(dataset_path(name))
    assert loaded.frame.shape == (rows, cols)
    kinds = loaded.report.kinds()
    expected = {
        "diamonds.csv": {"cut": "categorical", "carat": "float", "price": "integer"},
        "penguins.csv": {"species": "categorical", "body_mass_g": "float", "year": "integer"},
        "credit_scoring.csv": {"Status": "categorical", "Records": "boolean", "Income": "float"},
        "bikeshare.csv": {"mnth": "categorical", "bikers": "integer", "temp": "float"},
    }[name]
    assert {k: kinds[k] for k in expected} == expected


def test_a_header_with_a_quoted_line_break_is_one_row():
    loaded = ingest.load(b'"first\nname",age\nAda,36\n"Bo\nB",41\n', name="names.csv")
    assert loaded.frame.to_dict("list") == {"first\nname": ["Ada", "Bo\nB"], "age": [36, 41]}


# --------------------------------------------------------------------------- files past the sniffed head
# Files larger than the sniffed head are read with the column types of its first lines
# (lower peak memory); a later row that contradicts them must still load correctly.

def _big_csv(rows: int, row, tail: str = "") -> bytes:
    """A CSV with ``rows`` lines from ``row(i)`` and ``tail`` appended; past SNIFF_BYTES."""
    body = "".join(row(i) for i in range(rows)) + tail
    data = body.encode()
    assert len(data) > ingest.SNIFF_BYTES, "the file must reach past the sniffed head"
    return data


def _count_arrow_reads(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = ingest.pacsv.read_csv

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest.pacsv, "read_csv", counting)
    return calls


def test_a_big_clean_file_is_read_once_with_the_sampled_types(monkeypatch):
    data = _big_csv(40_000, lambda i: f"{i},{i * 0.5},{'abc'[i % 3]},{'yes' if i % 2 else 'no'}\n")
    calls = _count_arrow_reads(monkeypatch)
    loaded = ingest.load(b"n,x,label,flag\n" + data, name="big.csv")
    assert len(calls) == 2, "one read of the sample's types, one typed read of the file"
    frame = loaded.frame
    assert frame.shape == (40_000, 4)
    assert str(frame["n"].dtype) == "int64" and frame["n"].iloc[-1] == 39_999
    assert frame["x"].iloc[3] == 1.5
    assert isinstance(frame["label"].dtype, pd.CategoricalDtype)
    assert sorted(frame["label"].cat.categories) == ["a", "b", "c"]
    assert frame["label"].tolist()[:4] == ["a", "b", "c", "a"]
    assert loaded.report.kinds()["flag"] == "boolean"


@pytest.mark.parametrize("tail, column, expected_dtype, expected_last", [
    ("1.25,x\n", "n", "float64", 1.25),            # whole numbers, then a decimal
    ("abc,x\n", "n", "object", "abc"),              # numbers, then text
], ids=["int-then-float", "number-then-text"])
def test_a_row_past_the_sample_that_contradicts_its_types_is_read_again(monkeypatch, tail, column, expected_dtype,
                                                                         expected_last):
    data = b"n,s\n" + _big_csv(60_000, lambda i: f"{i},x\n", tail)
    calls = _count_arrow_reads(monkeypatch)
    frame = ingest.load(data, name="late.csv").frame
    assert len(calls) == 3, "the typed read failed and the file was read again with inference"
    assert len(frame) == 60_001
    series = frame[column]
    assert str(series.dtype) in (expected_dtype, "category")
    assert series.iloc[-1] == expected_last and str(series.iloc[5]) in ("5", "5.0")


def test_labels_with_many_values_past_the_sample_are_all_kept():
    # 'code' repeats ten labels through the head, then every row brings a new one
    data = b"code,v\n" + _big_csv(60_000, lambda i: f"c{i % 10},{i}\n",
                                  "".join(f"new{i},{i}\n" for i in range(5_000)))
    frame = ingest.load(data, name="wide.csv").frame
    assert frame["code"].iloc[-1] == "new4999" and frame["code"].iloc[0] == "c0"
    assert frame["code"].nunique() == 5_010


def test_a_block_with_more_labels_than_the_limit_becomes_plain_text():
    few = pa.array([b"a", b"b", b"a"]).dictionary_encode()
    many = pa.array([f"v{i}".encode() for i in range(ingest._DICTIONARY_MAX + 1)]).dictionary_encode()
    rows = len(few) + len(many)
    table = pa.table({"few": pa.chunked_array([pa.array([b"a"] * rows).dictionary_encode()]),
                      "many": pa.chunked_array([few, many])})
    settled = ingest._settle_labels(table)
    assert settled.schema.field("few").type == pa.dictionary(pa.int32(), pa.string())
    assert settled.schema.field("many").type == pa.string()
    assert settled.column("many").to_pylist()[-1] == f"v{ingest._DICTIONARY_MAX}"


def test_a_column_empty_through_the_sample_is_inferred_from_the_whole_file():
    data = b"a,later\n" + _big_csv(40_000, lambda i: f"{i},\n", "".join(f"1,{i}.5\n" for i in range(3)))
    frame = ingest.load(data, name="gap.csv").frame
    assert str(frame["later"].dtype) == "float64"
    assert frame["later"].isna().sum() == 40_000 and frame["later"].iloc[-1] == 2.5


@pytest.mark.parametrize("row, categorical", [
    (lambda i: f"{'ab'[i % 2]},{i}\n", True),      # labels
    (lambda i: f"name{i},{i}\n", False),            # free text, a new value each row
], ids=["labels", "text"])
def test_a_cp1252_byte_past_the_sample_switches_the_encoding(row, categorical):
    data = b"city,v\n" + _big_csv(60_000, row) + "Zürich,1\n".encode("cp1252")
    loaded = ingest.load(data, name="late_cp1252.csv")
    assert loaded.report.encoding == "cp1252"
    assert loaded.frame["city"].iloc[-1] == "Zürich", "text, not the bytes pyarrow falls back to"
    assert isinstance(loaded.frame["city"].dtype, pd.CategoricalDtype) == categorical


def test_bytes_that_are_not_the_chosen_encoding_are_refused_with_what_to_do():
    data = b"city,v\n" + _big_csv(60_000, lambda i: f"name{i},{i}\n") + "Zürich,1\n".encode("cp1252")
    with pytest.raises(InputError, match="'city' holds bytes that are not valid utf-8 text") as info:
        ingest.load(data, name="chosen.csv", options=LoadOptions(encoding="utf-8"))
    assert "encoding" in info.value.hint


@pytest.mark.parametrize("tail, line", [
    ('1,"never closed\n2,x\n3,y\n', 60_002),       # last column: swallowed into the last row
    ('"never closed,x\n2,x\n3,y\n', 60_002),        # first column: the row comes up short
], ids=["last-column", "first-column"])
@pytest.mark.parametrize("skip", [False, True], ids=["strict", "skip-bad-lines"])
def test_an_unclosed_quote_past_the_sample_is_refused_with_its_line(tail, line, skip):
    data = b"n,s\n" + _big_csv(60_000, lambda i: f"{i},x\n", tail)
    with pytest.raises(InputError, match=f"Line {line} .* opens a quoted value that is never closed"):
        ingest.load(data, name="open_quote.csv", options=LoadOptions(skip_bad_lines=skip))


def test_a_quoted_line_break_in_the_last_row_of_a_big_file_is_kept():
    data = b"n,s\n" + _big_csv(60_000, lambda i: f"{i},x\n", '9,"two\nlines"\n')
    frame = ingest.load(data, name="last_break.csv").frame
    assert frame["s"].iloc[-1] == "two\nlines" and len(frame) == 60_001


def test_the_source_hash_is_the_blake3_of_the_bytes(tmp_path):
    import blake3

    data = b"n,s\n" + _big_csv(1_200_000, lambda i: f"{i},x\n")
    assert len(data) > 2 * (4 << 20), "the file must span several of the hash's 4 MB chunks"
    path = tmp_path / "h.csv"
    path.write_bytes(data)
    expected = blake3.blake3(data).hexdigest()
    for report in (ingest.load(path).report, ingest.load(data, name="h.csv").report):
        assert (report.source_sha, report.source_hash) == (expected, "blake3")
        assert ingest.LoadReport.from_dict(report.to_dict()).source_hash == "blake3"


def test_a_report_stored_before_blake3_says_its_hash_is_sha256():
    stored = {"file_name": "old.csv", "format": "csv", "size_bytes": 4, "source_sha": "ab" * 32, "rows": 1}
    report = ingest.LoadReport.from_dict(stored)
    assert (report.source_hash, report.source_sha, report.rows) == ("sha256", "ab" * 32, 1)


def test_the_frame_has_one_writable_block_per_column_in_file_order():
    table = pa.table({"z": [1.5, None, 3.0], "gaps": pa.array([2**60 + 1, None, 7]), "none": pa.nulls(3),
                      "label": pa.array(["a", "b", "a"]).dictionary_encode(), "a": [1, 2, 3]})
    frame = ingest.load(_parquet(table), name="t.parquet").frame
    assert list(frame.columns) == ["z", "gaps", "none", "label", "a"]
    assert frame._mgr.nblocks == 5, "one block per column: editing one never copies the others"
    assert frame["gaps"].tolist()[0] == 2**60 + 1 and frame["gaps"].isna().tolist() == [False, True, False]
    assert frame["none"].tolist() == [None, None, None]
    frame.loc[frame["z"] > 2, "z"] = 0.0  # in place: the arrays are the frame's own, not read-only views
    assert frame["z"].tolist()[2] == 0.0


def test_a_big_semicolon_file_with_decimal_commas_reads_numbers_past_the_sample():
    data = b"price;amount;city\n" + _big_csv(
        40_000, lambda i: f"{i % 90 + 1}.{i % 1000:03d},{i % 10};{i % 7},5;{'ab'[i % 2]}\n",
        "2.000,25;9,75;c\n")
    loaded = ingest.load(data, name="eu.csv")
    assert (loaded.report.delimiter, loaded.report.decimal) == (";", ",")
    frame = loaded.frame
    assert str(frame["price"].dtype) == "float64" and frame["price"].iloc[-1] == 2000.25
    assert frame["price"].iloc[1] == 2001.1  # "2.001,1"
    assert frame["amount"].iloc[-1] == 9.75 and frame["city"].iloc[-1] == "c"
