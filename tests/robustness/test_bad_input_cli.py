"""Bad-input sweep of the `assay` command: the inputs real files contain, fed to every command.

Each case asserts either success with the right value, or exit code 2 and ONE line of
error that names the problem (never a traceback), and that the store is unchanged
(a digest of every row of every table, before and after) unless the command's job is
to write it (`import` on success).

The parsing details are unit-tested in tests/test_ingest.py (BAD_INPUTS, encodings,
delimiters, kinds, zip bomb, wrong extension, nested Parquet, big integers, time
zones), tests/test_train_*.py and tests/test_drift_cli.py; this sweep checks what the
command line makes of them.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from core import ingest, store
from core.cli import main
from tests.model_helpers import kinds_of, make_bundle

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --------------------------------------------------------------------------- the store's digest


def store_digest(engine) -> str:
    """One sha over every row of every table of the store (ordered by primary key)."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in store.Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest.update(table.name.encode())
            for row in conn.execute(sa.select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- the files


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _parquet(table: pd.DataFrame | pa.Table) -> bytes:
    table = table if isinstance(table, pa.Table) else pa.Table.from_pandas(table, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _xlsx(rows: list[list], vba: bool = False) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if not vba:
        return buffer.getvalue()
    # a macro-enabled workbook: the same parts plus a VBA project (never run, never needed)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", OLE + b"\x00" * 1024)
    return out.getvalue()


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 50_000_000)
    return buffer.getvalue()


def _wide(columns: int = 5000) -> bytes:
    header = ",".join(f"c{i}" for i in range(columns))
    rows = "\n".join(",".join(str((r * 7 + i) % 10) for i in range(columns)) for r in range(3))
    return _csv(f"{header}\n{rows}\n")


GOOD_PARQUET = _parquet(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}))

# name -> bytes: files the loader must refuse with a clear message
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "ragged.csv": (b"a,b,c\n1,2,3\n4,5\n6,7,8\n", "Line 3 of 'ragged.csv' has 2 fields, but the header has 3"),
    "empty.csv": (b"", "'empty.csv' is empty"),
    "header_only.csv": (b"a,b\n", "has a header but no rows"),
    "binary.csv": (bytes(range(256)) * 40, "contains binary data"),
    "truncated.parquet": (GOOD_PARQUET[: len(GOOD_PARQUET) // 2], "Parquet"),
    "old.xls": (OLE + b"\x00" * 2048, "old-style .xls workbook or a password-protected workbook"),
    "protected.xlsx": (OLE + b"\x00" * 2048, "old-style .xls workbook or a password-protected workbook"),
    "bomb.xlsx": (_zip_bomb(), "zip bomb"),
    "damaged.xlsx": (b"PK\x03\x04" + b"\x00" * 64, "damaged"),
}


@dataclass(frozen=True)
class Good:
    """A file the loader must read, and what it must read from it."""

    data: bytes
    check: Callable[[pd.DataFrame, dict], None]  # (frame as stored, schema columns) -> asserts


def _eq(column: str, values: list) -> Callable:
    def check(frame, kinds):
        assert frame[column].tolist() == values, frame[column].tolist()
    return check


def _kind(column: str, kind: str, values: list | None = None) -> Callable:
    def check(frame, kinds):
        assert kinds[column]["kind"] == kind, (column, kinds[column])
        if values is not None:
            got = [None if pd.isna(v) else v for v in frame[column].tolist()]
            assert got == values, got
    return check


def _names(expected: list[str]) -> Callable:
    def check(frame, kinds):
        assert [str(c) for c in frame.columns] == expected
    return check


NAMES = ["id", "id", "", "😀", "שלום", "<script>alert(1)</script>", "x;--", "../etc/passwd"]
GOOD_FILES: dict[str, Good] = {
    "cp1252.csv": Good(_csv("name,price\ncafé,1\nnaïve,2\n", "cp1252"), _eq("name", ["café", "naïve"])),
    "semicolon_decimal_comma.csv": Good(_csv("a;b\n1,5;x\n2,25;y\n"), _eq("a", [1.5, 2.25])),
    "bom.csv": Good(_csv("\ufeffid,v\n1,2\n3,4\n"), _names(["id", "v"])),
    "macro.xlsm": Good(_xlsx([["a", "b"], [1, "x"], [2, "y"]], vba=True), _eq("a", [1, 2])),
    "nested.parquet": Good(_parquet(pa.table({"a": [1, 2], "tags": [["x", "y"], []],
                                              "point": [{"x": 1}, {"x": 2}]})),
                           lambda f, k: (_eq("tags", ['["x", "y"]', "[]"])(f, k), _eq("point", ['{"x": 1}', '{"x": 2}'])(f, k))),
    "parquet_named.csv": Good(GOOD_PARQUET, _eq("b", ["x", "y", "z"])),
    "odd_names.csv": Good(_csv(",".join(f'"{n}"' for n in NAMES) + "\n" + ",".join(["1"] * len(NAMES)) + "\n"),
                          lambda f, k: (len(set(map(str, f.columns))) == len(NAMES) or pytest.fail("names not unique"),
                                        [c for c in map(str, f.columns) if c in NAMES[3:]] == NAMES[3:]
                                        or pytest.fail(str(list(f.columns))))),
    "all_missing_and_constant.csv": Good(_csv("a,empty,same\n1,,k\n2,,k\n3,,k\n"),
                                         lambda f, k: (f["empty"].isna().all() or pytest.fail("empty"),
                                                       _eq("same", ["k", "k", "k"])(f, k))),
    "na_among_numbers.csv": Good(_csv("x\n1.5\nN/A\n3\n"), _kind("x", "float", [1.5, None, 3.0])),
    "boolean_strings.csv": Good(_csv("flag\nyes\nno\nYES\nNo\n"), _kind("flag", "boolean", [True, False, True, False])),
    "mixed_time_zones.csv": Good(_csv("t\n2024-01-01T10:00:00+01:00\n2024-01-01T09:00:00Z\n"),
                                 lambda f, k: (k["t"]["kind"] == "datetime" or pytest.fail(str(k["t"])),
                                               f["t"].dt.tz is not None and f["t"].nunique() == 1
                                               or pytest.fail(str(f["t"].tolist())))),
    "mixed_date_formats.csv": Good(_csv("d\n2024-01-31\n31/01/2024\n01/31/2024\n"),
                                   # ambiguous day/month order: kept as written, never silently misread
                                   _eq("d", ["2024-01-31", "31/01/2024", "01/31/2024"])),
    "int_above_2_53.csv": Good(_csv("n\n9007199254740993\n9007199254740995\n"),
                               _eq("n", [9007199254740993, 9007199254740995])),
    "leading_zero_ids.csv": Good(_csv("code,v\n007,1\n010,2\n123,3\n"), _eq("code", ["007", "010", "123"])),
    "inf_and_1e308.csv": Good(_csv("x\ninf\n1e308\n-inf\n2\n"), _eq("x", [np.inf, 1e308, -np.inf, 2.0])),
    "one_row.csv": Good(_csv("a,b\n1,x\n"), _eq("b", ["x"])),
    "5000_columns.csv": Good(_wide(), lambda f, k: f.shape == (3, 5000) or pytest.fail(str(f.shape))),
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inputs")
    for name, (data, _) in BAD_FILES.items():
        (folder / name).write_bytes(data)
    for name, good in GOOD_FILES.items():
        (folder / name).write_bytes(good.data)
    return folder


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory) -> Path:
    """A small real model (CatBoost) of y from a and b, as a bundle file."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.choice(["x", "y"], 80)})
    frame["y"] = np.where(frame["a"] > 0, "up", "down")
    bundle = make_bundle(frame, kinds_of(frame), "y", "binary", iterations=10)
    path = tmp_path_factory.mktemp("model") / "model.zip"
    path.write_bytes(bundle.to_bytes())
    (path.parent / "rows.csv").write_text(frame.drop(columns="y").head(20).to_csv(index=False))
    return path


@pytest.fixture
def engine():
    """The CLI's store (ASSAY_DATABASE_URL of this test) holding project P with dataset 'base'."""
    engine = store.init_store()
    with store.write_session(engine) as s:
        project = store.create_project(s, "P").id
        store.save_dataset(s, project, "base", pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": list("xyxy"),
                                                           "y": [0, 1, 0, 1]}), roles={"target": "y"})
    yield engine
    store.dispose_engines()


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _refused(engine, capsys, argv: list[str], message: str) -> None:
    """Exit 2, one line naming the problem, no traceback, and the store unchanged."""
    before = store_digest(engine)
    code, out, err = _run(argv, capsys)
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert code == 2, (argv, code, out, err)
    # progress lines (e.g. "Training on ...") may come first; the error is one line, the last
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert message in errors[0], (message, errors[0])
    assert "Traceback" not in err
    assert store_digest(engine) == before, "a refused command changed the store"


def _commands_on(path: Path, bundle: Path, out: Path) -> dict[str, list]:
    """Every command that reads a table file, pointed at ``path``."""
    return {
        "import": ["import", path, "--project", "P"],
        "profile": ["profile", path, "--json", out / "p.json"],
        "clean": ["clean", path, "--recipe", out / "recipe.json", "--out", out / "c.parquet"],
        "features": ["features", path, "--recipe", out / "recipe.json", "--out", out / "f.parquet"],
        "train": ["train", path, "--target", "a", "--time-budget", "3", "--threads", "1"],
        "predict": ["predict", bundle, path, "--out", out / "pred.csv"],
        "explain": ["explain", bundle, path, "--out", out / "shap.parquet"],
        "drift-current": ["drift", "P/base", path],
        "drift-reference": ["drift", path, "P/base"],
        "import-project": ["import-project", path],
    }


COMMANDS = ["import", "profile", "clean", "features", "train", "predict", "explain", "drift-current",
            "drift-reference", "import-project"]


@pytest.fixture
def out(tmp_path) -> Path:
    (tmp_path / "recipe.json").write_text(json.dumps({"clean": [], "features": []}))
    return tmp_path


# --------------------------------------------------------------------------- 1. bad files x every command


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_file_no_loader_can_read_is_refused_by_every_command(engine, files, bundle_path, out, capsys, name, command):
    message = BAD_FILES[name][1]
    if command == "import-project":
        message = "not"  # an Assay project file is SQLite: anything else is refused as such
    _refused(engine, capsys, _commands_on(files / name, bundle_path, out)[command], message)


# --------------------------------------------------------------------------- 2. odd files import with the right values


@pytest.mark.parametrize("name", list(GOOD_FILES))
def test_an_odd_but_valid_file_imports_with_the_right_values(engine, files, capsys, name):
    code, out_text, err = _run(["import", files / name, "--project", "P"], capsys)
    assert code == 0, err
    summary = json.loads(out_text.strip().splitlines()[-1])
    with store.read_session(engine) as s:
        dataset = store.get_dataset(s, summary["id"])
        frame = store.read_dataset_frame(s, dataset)
        GOOD_FILES[name].check(frame, dataset.schema["columns"])
        assert summary["rows"] == len(frame)


@pytest.mark.parametrize("name", [n for n in GOOD_FILES if n != "5000_columns.csv"])
def test_an_odd_but_valid_file_profiles_without_touching_the_store(engine, files, out, capsys, name):
    before = store_digest(engine)
    code, _, err = _run(["profile", files / name, "--json", out / "p.json"], capsys)
    assert code == 0, err
    profile = json.loads((out / "p.json").read_text())
    assert profile["rows"] == ingest.load(files / name).report.rows  # the same rows the loader reads
    assert store_digest(engine) == before


# --------------------------------------------------------------------------- 3. targets, models, recipes, names


def _table(n: int = 60, **columns) -> str:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=n).round(3), "z": rng.choice(list("pq"), n)})
    for name, make in columns.items():
        frame[name] = make(frame)
    return frame.to_csv(index=False)


def _labels(f):
    return np.where(np.random.default_rng(2).normal(size=len(f)) + f["x"] > 0, "u", "d")


# (id, files to write {name: text}, argv with {dir} for the folder, expected) where expected is
# ("error", text the one line must contain) or ("ok", check(out_json_or_text, stderr, folder)).
CASES = [
    # training targets (file input: nothing is stored, whether it succeeds or not)
    ("train-target-with-missing-values", {"t.csv": _table(y=lambda f: np.where(np.arange(len(f)) % 5 == 0, None,
                                                                                 _labels(f)))},
     ["train", "{dir}/t.csv", "--target", "y", "--time-budget", "3", "--threads", "1"],
     ("ok", lambda out, err, d: ("12 row(s) with no target value" in err or pytest.fail(err),
                                 json.loads(out.splitlines()[-1])["task"] == "binary" or pytest.fail(out)))),
    ("train-single-class-target", {"t.csv": _table(y=lambda f: "same")},
     ["train", "{dir}/t.csv", "--target", "y", "--time-budget", "3"],
     ("error", "The target 'y' has a single value ('same') in every row")),
    ("train-class-rarer-than-folds", {"t.csv": _table(y=lambda f: ["rare", *_labels(f)[1:]])},
     ["train", "{dir}/t.csv", "--target", "y", "--time-budget", "3"],
     ("error", "The class 'rare' has only 1 row(s); each class needs at least 3")),
    ("train-target-equal-to-a-feature", {"t.csv": _table(y=_labels, copy=lambda f: f["y"])},
     ["train", "{dir}/t.csv", "--target", "y", "--time-budget", "3", "--threads", "1"],
     ("ok", lambda out, err, d: ("Suspected leak (left out of the model): On its own, 'copy' predicts 'y'" in err
                                 or pytest.fail(err)))),
    ("train-target-not-a-column", {"t.csv": _table()},
     ["train", "{dir}/t.csv", "--target", "nope", "--time-budget", "3"],
     ("error", "The target column 'nope' is not in the data")),
    ("train-target-all-missing", {"t.csv": _table(y=lambda f: "")},
     ["train", "{dir}/t.csv", "--target", "y", "--time-budget", "3"],
     ("error", "Training needs at least 20 rows with a target value; this table has 0")),
    ("train-one-row", {"t.csv": "x,y\n1,a\n"}, ["train", "{dir}/t.csv", "--target", "y", "--time-budget", "3"],
     ("error", "Training needs at least 20 rows with a target value; this table has 1")),
    # drift between tables that do not line up
    ("drift-renamed-column", {"c.csv": "A,b,y\n1,x,0\n2,y,1\n3,x,0\n"}, ["drift", "P/base", "{dir}/c.csv"],
     ("ok", lambda out, err, d: "Column 'a' is missing; 'A' is probably it renamed" in out or pytest.fail(out))),
    ("drift-changed-type", {"c.csv": "a,b,y\nlow,1,0\nhigh,2,1\nmid,3,0\n"}, ["drift", "P/base", "{dir}/c.csv"],
     ("ok", lambda out, err, d: "Column 'b' changed type: text → number." in out or pytest.fail(out))),
    ("drift-no-shared-column", {"c.csv": "q,r\n1,2\n3,4\n"}, ["drift", "P/base", "{dir}/c.csv"],
     ("ok", lambda out, err, d: "Column 'q' is new in the current table." in out or pytest.fail(out))),
    ("drift-cut-not-a-column", {}, ["drift", "P/base", "--cut", "nope=1"], ("error", "nope")),
    ("drift-cut-without-value", {}, ["drift", "P/base", "--cut", "a"], ("error", "--cut 'a' is not COLUMN=VALUE")),
    # scoring with a model: rows that do not fit it
    ("predict-missing-column", {"r.csv": "a\n1\n2\n"}, ["predict", "{model}", "{dir}/r.csv", "--out", "{dir}/o.csv"],
     ("error", "lacks 1 column(s) the model was trained with: 'b'")),
    ("explain-missing-column", {"r.csv": "a\n1\n2\n"}, ["explain", "{model}", "{dir}/r.csv", "--out", "{dir}/s.parquet"],
     ("error", "lacks 1 column(s) the model was trained with: 'b'")),
    ("predict-text-in-a-number-column", {"r.csv": "a,b\nabc,x\n1,y\n"},
     ["predict", "{model}", "{dir}/r.csv", "--out", "{dir}/o.csv"],
     ("ok", lambda out, err, d: len(pd.read_csv(d / "o.csv")) == 2 or pytest.fail(out))),
    ("predict-extra-columns", {"r.csv": "a,b,c\n1,x,9\n-1,y,8\n"},
     ["predict", "{model}", "{dir}/r.csv", "--out", "{dir}/o.csv"],
     ("ok", lambda out, err, d: pd.read_csv(d / "o.csv")["prediction"].tolist() == ["up", "down"]
      or pytest.fail(str(pd.read_csv(d / "o.csv"))))),
    ("predict-not-a-bundle", {"m.zip": "hello", "r.csv": "a,b\n1,x\n"},
     ["predict", "{dir}/m.zip", "{dir}/r.csv", "--out", "{dir}/o.csv"], ("error", "not an Assay model bundle")),
    ("explain-not-a-bundle", {"m.zip": "hello", "r.csv": "a,b\n1,x\n"},
     ["explain", "{dir}/m.zip", "{dir}/r.csv", "--out", "{dir}/s.parquet"], ("error", "not an Assay model bundle")),
    ("predict-a-csv-as-bundle", {"r.csv": "a,b\n1,x\n"},
     ["predict", "{dir}/r.csv", "{dir}/r.csv", "--out", "{dir}/o.csv"], ("error", "not an Assay model bundle")),
    ("predict-unknown-output-format", {"r.csv": "a,b\n1,x\n"},
     ["predict", "{model}", "{dir}/r.csv", "--out", "{dir}/o.exe"], ("error", "Cannot tell the format")),
    # project files
    ("import-project-damaged", {"p.assay": "SQLite format 3\x00garbage"}, ["import-project", "{dir}/p.assay"],
     ("error", "The project file is damaged")),
    ("import-project-missing", {}, ["import-project", "{dir}/missing.assay"], ("error", "There is no file at")),
    # names: never a path, never markup
    ("import-project-name-with-slash", {"r.csv": "a\n1\n"}, ["import", "{dir}/r.csv", "--project", "../etc"],
     ("error", "Project name '../etc' contains '/'")),
    ("import-dataset-name-with-markup", {"r.csv": "a\n1\n"},
     ["import", "{dir}/r.csv", "--project", "P", "--name", "<script>"], ("error", "Dataset name '<script>' contains '<', '>'")),
    ("import-dataset-name-with-sql", {"r.csv": "a\n1\n"},
     ["import", "{dir}/r.csv", "--project", "P", "--name", "x';--"], ("error", "Dataset name \"x';--\" contains ';'")),
    ("import-unknown-kind", {"r.csv": "a\n1\n"}, ["import", "{dir}/r.csv", "--project", "P", "--kind", "a=banana"],
     ("error", "Got 'banana' instead")),
    ("import-role-not-a-column", {"r.csv": "a\n1\n"}, ["import", "{dir}/r.csv", "--project", "P", "--target", "zzz"],
     ("error", "The target column 'zzz' is not in the data")),
    ("import-into-a-dataset-name-taken", {"r.csv": "a\n1\n"},
     ["import", "{dir}/r.csv", "--project", "P", "--name", "base"], ("error", "already has a dataset named 'base'")),
    ("import-missing-file", {}, ["import", "{dir}/nope.csv", "--project", "P"], ("error", "There is no file at")),
    ("import-quoted-line-break-in-a-name", {"r.csv": '"a\nb",c\n1,2\n'}, ["import", "{dir}/r.csv", "--project", "P"],
     ("ok", lambda out, err, d: json.loads(out)["rows"] == 1 or pytest.fail(out))),
    # recipes
    ("clean-recipe-not-json", {"r.json": "{not json"}, ["clean", "P/base", "--recipe", "{dir}/r.json", "--out", "{dir}/c.csv"],
     ("error", "The recipe is not valid JSON")),
    ("clean-recipe-unknown-step", {"r.json": '{"clean": [{"kind": "eval", "code": "1"}]}'},
     ["clean", "P/base", "--recipe", "{dir}/r.json", "--out", "{dir}/c.csv"], ("error", "Got 'eval' instead")),
    ("clean-recipe-missing-column", {"r.json": '{"clean": [{"kind": "drop_columns", "columns": ["zz"]}]}'},
     ["clean", "P/base", "--recipe", "{dir}/r.json", "--out", "{dir}/c.csv"], ("error", "uses the column 'zz'")),
    ("clean-recipe-bad-parameter", {"r.json": '{"clean": [{"kind": "impute", "columns": ["a"], "strategy": "avg"}]}'},
     ["clean", "P/base", "--recipe", "{dir}/r.json", "--out", "{dir}/c.csv"],
     ("error", "The 'strategy' parameter of Impute must be one of")),
    ("clean-recipe-wrong-type-fill", {"r.json": '{"clean": [{"kind": "replace_values", "column": "a", '
                                                '"pairs": [[1.0, "one"]]}]}'},
     ["clean", "P/base", "--recipe", "{dir}/r.json", "--out", "{dir}/c.csv"],  # a float column takes text (object)
     ("ok", lambda out, err, d: pd.read_csv(d / "c.csv")["a"].tolist() == ["one", "2.0", "3.0", "4.0"]
      or pytest.fail(str(pd.read_csv(d / "c.csv"))))),
    ("clean-unknown-output-format", {"r.json": '{"clean": []}'},
     ["clean", "P/base", "--recipe", "{dir}/r.json", "--out", "{dir}/c.exe"], ("error", "Cannot tell the format")),
    ("clean-unknown-dataset", {}, ["clean", "P/nope", "--out", "{dir}/c.csv"], ("error", "no dataset named 'nope'")),
    ("clean-unknown-project", {}, ["clean", "Nope/base", "--out", "{dir}/c.csv"], ("error", "Nope")),
    ("features-target-not-a-column", {}, ["features", "P/base", "--target", "zz", "--out", "{dir}/f.csv"],
     ("error", "The target column 'zz' is not in the table")),
    ("profile-target-not-a-column", {}, ["profile", "P/base", "--target", "zz"],
     ("error", "The target column 'zz' is not in the table")),
    ("features-formula-with-code", {"r.json": '{"features": [{"kind": "formula", "name": "f", '
                                              '"expression": "__import__(\'os\').system(\'true\')"}]}'},
     ["features", "P/base", "--recipe", "{dir}/r.json", "--out", "{dir}/f.csv"], ("error", "formula")),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_case(engine, bundle_path, tmp_path, capsys, case):
    _, written, argv, (outcome, expected) = case
    for name, text in written.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    argv = [str(a).replace("{dir}", str(tmp_path)).replace("{model}", str(bundle_path)) for a in argv]
    if outcome == "error":
        _refused(engine, capsys, argv, expected)
        return
    before = store_digest(engine)
    code, out_text, err = _run(argv, capsys)
    assert code in (0, 1) and "error:" not in err, err  # drift exits 1 when it finds drift
    expected(out_text, err, tmp_path)
    if argv[0] != "import":
        assert store_digest(engine) == before, "only import writes to the store"

