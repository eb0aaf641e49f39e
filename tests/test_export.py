"""Exports: CSV, Parquet and Excel, formula-safe where a spreadsheet would read them."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from core import export
from core.errors import InputError, ValidationError


@pytest.fixture
def risky() -> pd.DataFrame:
    return pd.DataFrame({
        "text": ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "plain", None],
        "cat": pd.Categorical(["=1", "ok", "ok", "=1", None, "ok", "ok", "ok"]),
        "n": [-1.5, 2, 3, 4, 5, 6, 7, 8],
        "=name": range(8),
        "year": pd.Categorical([2007, 2008] * 4),
    })


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-x", "@A1", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(cell):
    out = export.formula_safe(pd.DataFrame({"a": [cell, "fine"]}))
    assert out["a"].tolist() == ["'" + cell, "fine"]


def test_csv_is_formula_safe_and_numbers_stay_numbers(risky):
    back = pd.read_csv(io.BytesIO(export.to_bytes(risky, "csv")), keep_default_na=False)
    assert back.columns.tolist() == ["text", "cat", "n", "'=name", "year"]
    assert back["text"].tolist()[:7] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tTAB",
                                         "'\rCR", "plain"]
    assert back["cat"].tolist()[:2] == ["'=1", "ok"] and back["n"].tolist()[0] == -1.5
    assert risky["text"].iloc[0].startswith("="), "the export never changes the frame it was given"


def test_excel_cells_are_text_never_formulas(risky):
    book = openpyxl.load_workbook(io.BytesIO(export.to_bytes(risky, "xlsx")))
    sheet = book["data"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert sheet["A2"].value == "'=HYPERLINK(\"http://x\")" and sheet["C2"].value == -1.5
    assert sheet["D1"].value == "'=name"


def test_excel_writes_time_zones_as_utc_and_refuses_too_many_rows(monkeypatch):
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01T10:00:00+02:00"], utc=True).tz_convert("Europe/Paris")})
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_bytes(frame, "xlsx")))["data"]
    assert sheet["A2"].value.hour == 8
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 0)
    with pytest.raises(ValidationError, match="Excel holds at most 0 rows"):
        export.to_bytes(frame, "xlsx")


def test_parquet_keeps_values_exactly(risky):
    back = pd.read_parquet(io.BytesIO(export.to_bytes(risky, "parquet")))
    # categories that are numbers come back as plain numbers (pyarrow); the values are the same
    pd.testing.assert_frame_equal(back, risky.astype({"year": "int64"}))


def test_write_table_picks_the_format_from_the_extension(tmp_path, risky):
    assert len(pd.read_parquet(export.write_table(risky, tmp_path / "out.parquet"))) == 8
    assert pd.read_csv(export.write_table(risky, tmp_path / "out.csv")).shape == (8, 5)
    with pytest.raises(InputError, match=r"End the file name with \.csv, \.parquet or \.xlsx"):
        export.write_table(risky, tmp_path / "out.json")
