"""Bytes, files and SQL queries in; a typed DataFrame and a :class:`LoadReport` out.

Formats are recognised by their first bytes, not their names: a Parquet file
called ``.csv`` loads as Parquet (with a warning), binary junk called ``.csv`` is
refused. CSV parsing is pyarrow's; the encoding, delimiter, decimal comma and
column names are settled first from a sample so that pyarrow reads the file once.

Every refusal is an :class:`~core.errors.InputError` whose message says what is
wrong and what to do.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import blake3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.config import settings
from core.errors import InputError, param_error
from core.schema import KINDS, ColumnInfo, Kind, coerce, infer_column

__all__ = ["LoadOptions", "LoadReport", "Loaded", "load", "load_sql", "list_sheets", "detect_format"]

FORMATS = ("csv", "excel", "parquet", "json", "jsonl")
DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 256 * 1024
SNIFF_ROWS = 2000
_XLSX_MAX_RATIO = 200  # uncompressed / compressed: real workbooks stay far below this


@dataclass(frozen=True)
class LoadOptions:
    """What the user may set; ``None`` means "detect it"."""

    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | None = None
    skip_bad_lines: bool = False
    kinds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise param_error("LoadOptions", "format", list(FORMATS), self.format)
        if self.decimal not in (None, ".", ","):
            raise param_error("LoadOptions", "decimal", [".", ","], self.decimal)
        for column, kind in self.kinds.items():
            if kind not in KINDS:
                raise param_error("LoadOptions", f"kinds[{column!r}]", KINDS, kind)


@dataclass
class LoadReport:
    """How a table was read: shown on the upload page and stored with the dataset."""

    file_name: str
    format: str
    size_bytes: int
    source_sha: str  # hex digest of the file's bytes (the SQL statement's, for a query), by source_hash
    rows: int = 0
    columns: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    column_info: list[dict] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # the source's identity, not its storage: the stored Parquet blob is addressed by its
    # sha256 (core.store). BLAKE3 hashes in a third of sha256's CPU time (13 ms against
    # 37 ms on 47 MB), and the hash runs beside the parse of every upload
    source_hash: str = "blake3"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LoadReport:
        data = {"source_hash": "sha256", **data}  # a report without the key was saved by an Assay that used sha256
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def kinds(self) -> dict[str, str]:
        return {c["name"]: c["kind"] for c in self.column_info}


@dataclass
class Loaded:
    frame: pd.DataFrame
    report: LoadReport

    def schema(self) -> dict:
        return {"columns": {c["name"]: c for c in self.report.column_info}}


# --------------------------------------------------------------------------- entry points


def load(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    options: LoadOptions | None = None,
    max_bytes: int | None = None,
) -> Loaded:
    """Read a table from a path or bytes.

    >>> loaded = load(b"a,b\\n1,x\\n2,y\\n", name="t.csv")
    >>> loaded.report.format, loaded.frame.shape
    ('csv', (2, 2))
    """
    options = options or LoadOptions()
    max_bytes = settings().max_upload_bytes if max_bytes is None else max_bytes
    src = _open_source(source, name, max_bytes)
    fmt, warnings = _decide_format(src, options.format)
    report = LoadReport(file_name=src.name, format=fmt, size_bytes=src.size, source_sha="", warnings=warnings)
    if fmt != "csv":
        readers = {"excel": _read_excel, "parquet": _read_parquet, "json": _read_json, "jsonl": _read_json}
        frame = readers[fmt](src.data(), options, report)
        report.source_sha = src.digest()
        return _finish(frame, options, report)
    # the file is hashed on a second thread beside the parse (blake3 releases the GIL)
    with ThreadPoolExecutor(max_workers=1) as hasher:
        hashed = hasher.submit(src.digest)
        frame = _read_csv(src, options, report)
        loaded = _finish(frame, options, report)
        report.source_sha = hashed.result()
    return loaded


def load_sql(url: str, query: str, *, options: LoadOptions | None = None, row_limit: int | None = None) -> Loaded:
    """Run one read-only SELECT against ``url`` and load its result.

    The statement must be a single ``SELECT``/``WITH`` query; it runs inside a
    transaction that is marked read-only where the database supports it and is
    always rolled back.
    """
    import sqlalchemy as sa

    options = options or LoadOptions()
    row_limit = settings().sql_row_limit if row_limit is None else row_limit
    statement = _check_select(query)
    try:
        engine = sa.create_engine(_read_only_url(url))
    except Exception as exc:  # noqa: BLE001 - any URL problem is the user's to fix
        raise InputError(f"The database URL cannot be used: {type(exc).__name__}: {exc}.",
                         hint="Use a SQLAlchemy URL such as postgresql+psycopg://user@host/db.") from None
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            elif conn.dialect.name == "mysql":
                conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
            result = conn.execute(sa.text(statement))
            rows = result.fetchmany(row_limit + 1)
            columns = list(result.keys())
            conn.rollback()
    except sa.exc.SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
        raise InputError(f"The query failed: {detail}",
                         hint="Check the query and the URL; only SELECT queries are run.") from None
    finally:
        engine.dispose()
    report = LoadReport(file_name="SQL query", format="sql", size_bytes=len(statement.encode()),
                        source_sha=blake3.blake3(statement.encode()).hexdigest())
    if len(rows) > row_limit:
        rows = rows[:row_limit]
        report.warnings.append(f"The query returned more than {row_limit:,} rows; only the first {row_limit:,} were loaded.")
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)
    if frame.empty:
        raise InputError("The query returned no rows.", hint="Check its WHERE clause.")
    return _finish(frame, options, report)


def list_sheets(source: str | Path | bytes) -> list[str]:
    """Sheet names of an .xlsx workbook, in order."""
    data, _ = _read_source(source, None, settings().max_upload_bytes)
    _check_xlsx(data)
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def detect_format(data: bytes, name: str = "") -> str:
    """The format of a file from its first bytes (and its name when they say nothing)."""
    return _decide_format(_Source(name, len(data), _data=data), None)[0]


# --------------------------------------------------------------------------- sources and formats


@dataclass
class _Source:
    """The bytes of an upload, read lazily: a big CSV on disk is parsed by pyarrow
    straight from the file (no second copy in memory) while one streaming pass
    hashes it."""

    name: str
    size: int
    path: Path | None = None
    _data: bytes | None = None
    _head: bytes | None = None

    def head(self) -> bytes:
        if self._head is None:
            if self._data is not None:
                self._head = self._data[:SNIFF_BYTES]
            else:
                with open(self.path, "rb") as f:
                    self._head = f.read(SNIFF_BYTES)
        return self._head

    def data(self) -> bytes:
        if self._data is None:
            self._data = self.path.read_bytes()
        return self._data

    @property
    def whole_in_head(self) -> bool:
        return self.size <= SNIFF_BYTES

    def arrow_input(self):
        return str(self.path) if self._data is None else pa.BufferReader(self._data)

    def digest(self) -> str:
        """The BLAKE3 hex digest of the bytes (LoadReport.source_hash)."""
        digest = blake3.blake3()
        self._each_chunk(digest.update)
        return digest.hexdigest()

    def count_quotes(self) -> int:
        if self._data is not None:
            return self._data.count(b'"')
        counts: list[int] = []  # chunk.obj is the reused bytearray; count only its filled part
        self._each_chunk(lambda chunk: counts.append(chunk.obj.count(b'"', 0, chunk.nbytes)))
        return sum(counts)

    def _each_chunk(self, use: Callable[[memoryview], None]) -> None:
        if self._data is not None:
            use(memoryview(self._data))
            return
        # one reused buffer (no fresh pages per chunk), in large chunks: hashing releases
        # the GIL for each and takes it back only a dozen times for a 50 MB file
        buffer = bytearray(4 << 20)
        view = memoryview(buffer)
        with open(self.path, "rb", buffering=0) as f:
            while size := f.readinto(buffer):
                use(view[:size])


def _open_source(source: str | Path | bytes, name: str | None, max_bytes: int) -> _Source:
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > max_bytes:
            raise _too_big(len(source), max_bytes)
        return _Source(name or "upload", len(source), _data=bytes(source))
    path = Path(source)
    if not path.is_file():
        raise InputError(f"There is no file at {str(path)!r}.", hint="Check the path and try again.")
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_big(size, max_bytes)
    return _Source(name or path.name, size, path=path)


def _read_source(source: str | Path | bytes, name: str | None, max_bytes: int) -> tuple[bytes, str]:
    src = _open_source(source, name, max_bytes)
    return src.data(), src.name


def _too_big(size: int, limit: int) -> InputError:
    return InputError(
        f"The file is {size / 2**20:,.1f} MB, above the upload limit of {limit / 2**20:,.0f} MB.",
        hint="Load a smaller extract, or raise ASSAY_MAX_UPLOAD_MB.",
    )


def _decide_format(src: _Source, forced: str | None) -> tuple[str, list[str]]:
    name = src.name
    if not src.head().strip() and (src.whole_in_head or not src.data().strip()):
        raise InputError(f"{name!r} is empty.", hint="Choose a file that contains a table.")
    sniffed = _sniff_magic(src.head())
    suffix = Path(name).suffix.lower()
    by_name = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".tab": "csv", ".xlsx": "excel", ".xlsm": "excel",
               ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
               ".xls": "excel"}.get(suffix)
    warnings: list[str] = []
    fmt = forced or sniffed or by_name or "csv"
    if sniffed and by_name and sniffed != by_name and not {sniffed, by_name} <= {"json", "jsonl"}:
        warnings.append(f"{name!r} is named like {by_name.upper()} but its content is {sniffed.upper()}; read it as {sniffed.upper()}.")
        fmt = forced or sniffed
    return fmt, warnings


def _sniff_magic(data: bytes) -> str | None:
    head = data[:8]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "excel"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise InputError(
            "This is an old-style .xls workbook or a password-protected workbook, which Assay cannot read.",
            hint="Open it in Excel or LibreOffice and save it as .xlsx without a password.",
        )
    stripped = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"[", b"{"):
        return "jsonl" if stripped[:1] == b"{" and _looks_like_json_lines(stripped) else "json"
    return None


def _looks_like_json_lines(head: bytes) -> bool:
    lines = [ln for ln in head.splitlines()[:3] if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- CSV


def _encoding_of(src: _Source, options: LoadOptions, report: LoadReport) -> str:
    """The encoding to try first (UTF-8 is confirmed by the parser; see _NotUtf8)."""
    head = src.head()
    if options.encoding:
        try:
            codecs.lookup(options.encoding)
            head[: head.rfind(b"\n") + 1 or len(head)].decode(options.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"The file cannot be read as {options.encoding}: {exc}.",
                             hint="Leave the encoding on 'detect', or choose another.") from None
        return options.encoding
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head[:8192]:
        raise InputError(
            f"{report.file_name!r} does not look like a text table: it contains binary data.",
            hint="Upload a CSV, Excel (.xlsx), Parquet or JSON file.",
        )
    return "utf-8"


def _decode_check(data: bytes, options: LoadOptions, report: LoadReport) -> tuple[bytes, str]:
    """Pick the encoding of in-memory text (JSON); return UTF-8 bytes and the encoding's name."""
    encoding = _encoding_of(_Source(report.file_name, len(data), _data=data), options, report)
    if encoding == "utf-8-sig":
        return data[3:], encoding
    if encoding == "utf-16":
        return data.decode("utf-16").encode("utf-8"), encoding
    if encoding == "utf-8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = _fallback_encoding(data)
    return data, encoding


def _fallback_encoding(data: bytes) -> str:
    """The 8-bit encoding for a file that turned out not to be UTF-8."""
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _sample_text(head: bytes, encoding: str, strict: bool = False, cut: bool = False) -> str:
    """Decode the first bytes of a file; with ``cut``, drop the partial last line."""
    if cut:  # a multi-byte character may be cut at the end
        head = head[: head.rfind(b"\n") + 1] or head
    codec = {"utf-8-sig": "utf-8-sig", "utf-16": "utf-8"}.get(encoding, encoding)
    return head.decode(codec, errors="strict" if strict else "ignore")


def _choose_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1.0
    for delim in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = consistent * 1000 + counts[0]
        if score > best_score:
            best, best_score = delim, score
    return best


_COMMA_DECIMAL = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$")


def _choose_decimal(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    comma = dot = 0
    for row in rows[1:200]:
        for value in row:
            value = value.strip()
            if _COMMA_DECIMAL.match(value):
                comma += 1
            elif _DOT_DECIMAL.match(value):
                dot += 1
    return "," if comma > dot else "."


def _fix_names(raw: list[Any], report: LoadReport) -> list[str]:
    """Blank names get ``column_N``; repeated names get `` (2)``, `` (3)``..."""
    names: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(raw):
        original = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        name = original.strip()
        if not name or re.fullmatch(r"Unnamed: \d+", name):
            name = f"column_{i + 1}"
            report.warnings.append(f"Column {i + 1} has no name; it is called {name!r}.")
        base, k = name, 2
        while name in seen:
            name = f"{base} ({k})"
            k += 1
        if name != base and base == original.strip():
            report.warnings.append(f"The column name {base!r} appears more than once; the copy at position {i + 1} is called {name!r}.")
        if name != original:
            report.renamed[name] = original
        seen.add(name)
        names.append(name)
    return names


def _force_text_columns(rows: list[list[str]], names: list[str]) -> dict[str, pa.DataType]:
    """Columns pyarrow must not parse as numbers: leading zeros, integers beyond 64 bits."""
    forced: dict[str, pa.DataType] = {}
    for j, name in enumerate(names):
        digits = kept_as_text = False
        for row in rows[1:]:
            value = row[j].strip() if j < len(row) else ""
            if not value:
                continue
            body = value[1:] if value[0] in "+-" else value
            if not body.isdecimal():  # as the regex [+-]?\d+; most columns stop at their first value
                digits = False
                break
            digits = True
            kept_as_text = kept_as_text or (len(body) > 1 and body[0] == "0") or len(body) >= 19
        if digits and kept_as_text:
            forced[name] = pa.string()
    return forced


def _read_csv(src: _Source, options: LoadOptions, report: LoadReport) -> pd.DataFrame:
    encoding = _encoding_of(src, options, report)
    if encoding == "utf-16":  # rare: transcode in memory, then read as UTF-8
        src = _Source(src.name, src.size, _data=src.data().decode("utf-16").encode("utf-8"))
        encoding = "utf-16"
    try:
        table = _parse_csv(src, encoding, options, report)
    except _NotUtf8:
        table = _parse_csv(src, _fallback_encoding(src.data()), options, report)
    # pyarrow silently swallows everything after an unclosed quote, into the last row
    # (or into a malformed row that skipping drops): there, count the quotes and refuse
    if (options.skip_bad_lines or _ends_in_a_line_break(table)) and src.count_quotes() % 2 == 1:
        raise _diagnose_csv(src.data(), report.encoding, report.delimiter, report.columns or 0,
                            report.file_name, None)
    columns, names = table.columns, table.column_names
    del table
    frame = _arrow_to_pandas(columns, names)
    return _fix_decimal_comma(frame, report) if report.decimal == "," else frame


def _ends_in_a_line_break(table: pa.Table) -> bool:
    """Whether a text value of the last row holds a line break. An unclosed quote runs
    on to the end of the file, so its value is such a one; a quoted line break in a
    genuine last row is the rarer cause, and counting the quotes tells the two apart."""
    if table.num_rows == 0:
        return False
    last = table.slice(table.num_rows - 1).to_pylist()[0].values()
    return any(isinstance(v, str) and ("\n" in v or "\r" in v) for v in last)


class _NotUtf8(Exception):
    pass


def _parse_csv(src: _Source, encoding: str, options: LoadOptions, report: LoadReport) -> pa.Table:
    if encoding == "utf-8" and not options.encoding:
        try:
            _sample_text(src.head(), "utf-8", strict=True, cut=not src.whole_in_head)
        except UnicodeDecodeError:
            raise _NotUtf8 from None
    report.encoding = encoding
    text = _sample_text(src.head(), encoding, cut=not src.whole_in_head)
    delimiter = options.delimiter or _choose_delimiter(text)
    report.delimiter = delimiter
    try:
        rows = list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), SNIFF_ROWS))
    except csv.Error:
        rows = [line.split(delimiter) for line in text.splitlines()[:SNIFF_ROWS]]
    rows = [r for r in rows if r]
    if not rows:
        raise InputError(f"{report.file_name!r} has no lines with data.", hint="Choose a file that contains a table.")
    names = _fix_names(rows[0], report)
    report.columns = len(names)
    if len(rows) == 1 and src.whole_in_head:
        raise InputError(f"{report.file_name!r} has a header but no rows.",
                         hint="Add data rows below the header, or choose another file.")
    decimal = options.decimal or _choose_decimal(rows, delimiter)
    report.decimal = decimal
    quoted_newline = "\n" in "".join(itertools.chain.from_iterable(rows))
    skipped: list[int] = []

    def on_bad_row(row: pacsv.InvalidRow) -> str:
        if options.skip_bad_lines:
            skipped.append(1)
            return "skip"
        return "error"

    pa_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig", "utf-16") else encoding
    # pyarrow skips physical lines, not rows: a header with quoted line breaks spans more
    read_options = pacsv.ReadOptions(encoding=pa_encoding, column_names=names,
                                     skip_rows=1 + sum(v.count("\n") for v in rows[0]))
    parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=quoted_newline,
                                       invalid_row_handler=on_bad_row)
    forced = _force_text_columns(rows, names)
    try:
        table = None
        sampled = None if src.whole_in_head else _sample_types(src.head(), read_options, parse_options,
                                                                _convert_options(decimal, forced))
        if sampled:
            try:
                table = pacsv.read_csv(src.arrow_input(), read_options=read_options, parse_options=parse_options,
                                       convert_options=_convert_options(decimal, {**sampled, **forced}))
            except pa.ArrowInvalid as exc:
                if "conversion error" not in str(exc).lower():
                    raise
                skipped.clear()  # a later row contradicts the sample: read again, inferring
        if table is None:
            table = pacsv.read_csv(src.arrow_input(), read_options=read_options, parse_options=parse_options,
                                   convert_options=_convert_options(decimal, forced))
        else:
            table = _settle_labels(table)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if encoding == "utf-8" and not options.encoding and "utf8" in str(exc).lower():
            raise _NotUtf8 from None
        raise _diagnose_csv(src.data(), encoding, delimiter, len(names), report.file_name, exc) from None
    if skipped:
        first = _first_bad_line(src.data(), encoding, delimiter, len(names))
        where = f" (the first is line {first[0]})" if first is not None else ""
        report.warnings.append(f"Skipped {len(skipped):,} malformed line(s){where}.")
    if table.num_rows == 0:
        raise InputError(f"{report.file_name!r} has a header but no rows.",
                         hint="Add data rows below the header, or choose another file.")
    # pyarrow's inference turns a text column into bytes when a value past the sniffed head
    # is not valid UTF-8 (a cp1252 'ü', say): read the file again in the 8-bit encoding
    undecoded = [f.name for f in table.schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    if undecoded and encoding == "utf-8" and not options.encoding:
        raise _NotUtf8
    if undecoded:
        raise InputError(f"Column {undecoded[0]!r} holds bytes that are not valid {encoding} text.",
                         hint="Choose the file's encoding in the options (for example cp1252 or latin-1).")
    return table


_DICTIONARY_MAX = 1000  # distinct labels per block above which a text column stays plain text


def _convert_options(decimal: str, column_types: dict[str, pa.DataType]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        decimal_point=decimal, strings_can_be_null=True, quoted_strings_can_be_null=True,
        column_types=column_types, auto_dict_encode=True, auto_dict_max_cardinality=_DICTIONARY_MAX,
    )


def _sample_types(head: bytes, read_options: pacsv.ReadOptions, parse_options: pacsv.ParseOptions,
                  convert_options: pacsv.ConvertOptions) -> dict[str, pa.DataType] | None:
    """Column types read off the first complete lines, to hand to the full read.

    pyarrow keeps every parsed block of a file in memory while any column's type is
    still being inferred (a later block may change it); with all types given it frees
    each block once converted (on diamonds stacked 19 times the read's own peak falls
    from 3.7x to 2.2x the frame), and it is no slower.
    A later row that contradicts the sample fails the typed read, which is then
    redone with inference. A column empty throughout the sample is left to inference.
    """
    lines = head[: head.rfind(b"\n") + 1]
    try:
        schema = pacsv.read_csv(
            pa.BufferReader(lines), read_options=read_options,
            parse_options=pacsv.ParseOptions(delimiter=parse_options.delimiter,
                                             newlines_in_values=parse_options.newlines_in_values),
            convert_options=convert_options,
        ).schema
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None  # e.g. the sample ends inside a quoted value: let the full read infer
    # labels are read as bytes, so only each block's few distinct values are checked
    # as UTF-8 (in _settle_labels), not every cell
    return {f.name: _LABEL_BYTES if pa.types.is_dictionary(f.type) else f.type
            for f in schema if not pa.types.is_null(f.type)} or None


_LABEL_BYTES = pa.dictionary(pa.int32(), pa.binary())
_LABEL_TEXT = pa.dictionary(pa.int32(), pa.string())


def _settle_labels(table: pa.Table) -> pa.Table:
    """Labels read as bytes become text (a bad UTF-8 byte raises ArrowInvalid here); a
    column typed as labels from the sample but with more distinct values per block
    later becomes plain text, as pyarrow's own inference would have left it."""
    for index, f in enumerate(table.schema):
        if f.type != _LABEL_BYTES:
            continue
        column = table.column(index)
        wide = any(len(c.dictionary) > _DICTIONARY_MAX for c in column.chunks)
        table = table.set_column(index, f.name, column.cast(pa.string() if wide else _LABEL_TEXT))
    return table


def _fix_decimal_comma(frame: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    """Numbers like ``1.234,5`` (thousands dots) that pyarrow leaves as text."""
    for index, name in enumerate(frame.columns):
        series = frame.iloc[:, index]
        if not (series.dtype == object or isinstance(series.dtype, pd.CategoricalDtype)):
            continue
        values = series.dropna().astype(str).str.strip()
        if values.empty or not values.str.match(_COMMA_DECIMAL).all():
            continue
        numbers = pd.to_numeric(
            series.astype(object).where(series.isna(), series.astype(str).str.replace(".", "", regex=False)
                                        .str.replace(",", ".", regex=False)),
            errors="coerce",
        )
        frame.isetitem(index, numbers.astype("float64"))
        report.warnings.append(f"{name!r} was read as numbers with a decimal comma and thousands dots.")
    return frame


def _first_bad_line(data: bytes, encoding: str, delimiter: str, n_fields: int) -> tuple[int, int] | None:
    """(line number, field count) of the first row whose width differs from the header."""
    codec = "utf-8" if encoding in ("utf-8-sig", "utf-16") else encoding
    reader = csv.reader(io.StringIO(data.decode(codec, errors="replace")), delimiter=delimiter)
    for row in reader:
        if row and len(row) != n_fields:
            return reader.line_num, len(row)
    return None


def _diagnose_csv(
    data: bytes, encoding: str, delimiter: str, n_fields: int, name: str, exc: Exception | None
) -> InputError:
    """Find the first line that breaks the table and say which it is."""
    codec = "utf-8" if encoding in ("utf-8-sig", "utf-16") else encoding
    text = data.decode(codec, errors="replace")
    lines = text.splitlines()
    inside = False
    for number, line in enumerate(lines, start=1):
        if line.count('"') % 2 == 1:
            if not inside:
                open_line = number
            inside = not inside
    if inside:
        return InputError(
            f"Line {open_line} of {name!r} opens a quoted value that is never closed.",
            hint="Add the missing closing quote (\") on that line, or remove the stray quote.",
        )
    try:
        bad = _first_bad_line(data, encoding, delimiter, n_fields)
    except csv.Error as err:
        return InputError(f"{name!r} cannot be parsed: {err}.", hint="Fix the file, or tick 'Skip malformed lines'.")
    if bad is not None:
        return InputError(
            f"Line {bad[0]} of {name!r} has {bad[1]} fields, but the header has {n_fields}.",
            hint="Fix that line, choose the right delimiter, or tick 'Skip malformed lines'.",
        )
    detail = str(exc).splitlines()[0][:200] if exc else "the quotes do not pair up"
    return InputError(f"{name!r} cannot be read as a table: {detail}",
                      hint="Check the delimiter and encoding options.")


# --------------------------------------------------------------------------- other formats


def _check_xlsx(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError("The workbook is damaged (it is not a valid .xlsx zip).",
                         hint="Re-save it from Excel or LibreOffice.") from None
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise InputError("This zip file is not an Excel workbook.",
                             hint="Upload an .xlsx workbook, or unzip the file and upload the table inside.")
        unpacked = sum(info.file_size for info in archive.infolist())
        limit = settings().max_upload_bytes
        if unpacked > limit or unpacked > max(len(data), 1) * _XLSX_MAX_RATIO:
            raise InputError(
                f"The workbook would unpack to {unpacked / 2**20:,.0f} MB from {len(data) / 2**20:,.1f} MB, "
                "which looks like a zip bomb; it was not opened.",
                hint="Export the sheet as CSV instead.",
            )


def _read_excel(data: bytes, options: LoadOptions, report: LoadReport) -> pd.DataFrame:
    _check_xlsx(data)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for bad files
        raise InputError(f"The workbook cannot be opened ({type(exc).__name__}).",
                         hint="Re-save it from Excel or LibreOffice as .xlsx.") from None
    try:
        sheets = list(workbook.sheetnames)
        report.sheets = sheets
        sheet = options.sheet or sheets[0]
        if sheet not in sheets:
            raise InputError(f"The workbook has no sheet named {sheet!r}.", hint=f"Choose one of {sheets}.")
        if options.sheet is None and len(sheets) > 1:
            report.warnings.append(f"The workbook has {len(sheets)} sheets; loaded {sheet!r}. Pick another in the sheet list.")
        report.sheet = sheet
        rows = list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()
    rows = [r for r in rows if any(v is not None and str(v).strip() != "" for v in r)]
    if not rows:
        raise InputError(f"The sheet {sheet!r} is empty.", hint="Choose another sheet.")
    if len(rows) == 1:
        raise InputError(f"The sheet {sheet!r} has a header but no rows.", hint="Choose another sheet.")
    width = max(len(r) for r in rows)
    header = list(rows[0]) + [None] * (width - len(rows[0]))
    names = _fix_names(header, report)
    body = [list(r) + [None] * (width - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=names)
    return frame.apply(_settle_object_column)


def _read_parquet(data: bytes, options: LoadOptions, report: LoadReport) -> pd.DataFrame:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise InputError(
            f"{report.file_name!r} is not a valid Parquet file ({str(exc).splitlines()[0][:120]}); it may be truncated.",
            hint="Export it again, or upload the data as CSV.",
        ) from None
    if table.num_rows == 0:
        raise InputError(f"{report.file_name!r} has no rows.", hint="Choose a file that contains data.")
    names = _fix_names(table.column_names, report)
    table = table.rename_columns(names)
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    for column in nested:
        index = table.schema.get_field_index(column)
        as_json = [None if v is None else json.dumps(v, default=str) for v in table.column(index).to_pylist()]
        table = table.set_column(index, column, pa.array(as_json, type=pa.string()))
    if nested:
        report.warnings.append(f"Nested columns were stored as JSON text: {', '.join(map(repr, nested))}.")
    columns, names = table.columns, table.column_names
    del table
    return _arrow_to_pandas(columns, names)


def _read_json(data: bytes, options: LoadOptions, report: LoadReport) -> pd.DataFrame:
    data, encoding = _decode_check(data, LoadOptions(encoding=options.encoding), report)
    text = data.decode("utf-8" if encoding in ("utf-8", "utf-8-sig", "utf-16") else encoding)
    try:
        records = json.loads(text)
        report.format = "json"
    except json.JSONDecodeError as exc:
        records = _json_lines(text, exc, report)
    if isinstance(records, dict):
        lists = [k for k, v in records.items() if isinstance(v, list)]
        if len(lists) == 1 and all(isinstance(x, dict) for x in records[lists[0]][:100]):
            report.warnings.append(f"Loaded the records under the key {lists[0]!r}.")
            records = records[lists[0]]
        elif lists and len(lists) == len(records):
            records = pd.DataFrame(records).to_dict("records")
        else:
            records = [records]
    if not isinstance(records, list) or not records:
        raise InputError("The JSON holds no records.", hint="Use a list of objects, or one object per line.")
    if not all(isinstance(r, dict) for r in records):
        raise InputError("The JSON list holds values that are not objects.",
                         hint="Use a list of objects like [{\"a\": 1}, {\"a\": 2}].")
    frame = pd.json_normalize(records, max_level=1)
    frame.columns = _fix_names(list(frame.columns), report)
    nested = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, (list, dict))).any()]
    for column in nested:
        frame[column] = frame[column].map(lambda v: json.dumps(v, default=str) if isinstance(v, (list, dict)) else v)
    if nested:
        report.warnings.append(f"Nested values were stored as JSON text in: {', '.join(map(repr, nested))}.")
    return frame.apply(_settle_object_column)


def _json_lines(text: str, first_error: json.JSONDecodeError, report: LoadReport) -> list:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == 1 and not records:
                raise InputError(f"The file is not valid JSON: {first_error.msg} at line {first_error.lineno}.",
                                 hint="Fix the JSON, or upload the data as CSV.") from None
            raise InputError(f"Line {number} is not valid JSON ({exc.msg}).",
                             hint="Fix that line; each line must hold one JSON object.") from None
    report.format = "jsonl"
    return records


# --------------------------------------------------------------------------- typing


def _settle_object_column(series: pd.Series) -> pd.Series:
    """Give an object column from Excel/JSON/SQL the narrowest honest dtype."""
    if series.dtype != object:
        return series
    non_null = series.dropna()
    if non_null.empty:
        return series
    if non_null.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        return series.astype("boolean")
    if non_null.map(lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool)).all():
        if non_null.map(lambda v: abs(int(v)) < 2**63).all():
            return series.astype("Int64") if series.isna().any() else series.astype("int64")
        return series.map(lambda v: v if v is None else str(v))
    if non_null.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)).all():
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if non_null.map(lambda v: hasattr(v, "year") and hasattr(v, "month")).all():
        converted = pd.to_datetime(series, errors="coerce", utc=None)
        if converted.notna().sum() == len(non_null):
            return converted
    # mixed: keep text so nothing is silently reinterpreted
    return series.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def _arrow_to_pandas(columns: list[pa.ChunkedArray], names: list[str]) -> pd.DataFrame:
    """A frame with one block per column (later per-column edits never copy the rest),
    converted on two threads. The caller hands over its only references to the columns:
    each is freed as soon as it is converted, which keeps the peak memory down."""
    n_rows = len(columns[0]) if columns else 0

    def convert(index: int) -> pd.Series:
        column, columns[index] = columns[index], None
        if pa.types.is_null(column.type):
            return pd.Series([None] * n_rows, dtype=object)
        if pa.types.is_integer(column.type) and column.null_count:
            # keep whole numbers exact where there are gaps (float64 would round above 2**53)
            return column.to_pandas(types_mapper={column.type: pd.Int64Dtype()}.get)
        return column.to_pandas()

    with ThreadPoolExecutor(max_workers=2) as pool:
        converted = list(pool.map(convert, range(len(columns))))
    return pd.DataFrame(dict(zip(names, converted)), copy=False)


def _finish(frame: pd.DataFrame, options: LoadOptions, report: LoadReport) -> Loaded:
    unknown = sorted(set(options.kinds) - set(frame.columns))
    if unknown:
        raise InputError(f"Kinds were given for columns that are not in the data: {unknown}.",
                         hint="Pick columns from the preview.")
    infos: list[dict] = []
    frame = frame.copy(deep=False)
    for index, name in enumerate(frame.columns):
        series = frame.iloc[:, index]
        inferred = infer_column(series, name)
        wanted = options.kinds.get(name)
        kind = Kind(wanted) if wanted else inferred.kind
        reason = inferred.reason if not wanted else f"set by you (inferred {inferred.kind.value}: {inferred.reason})"
        new, failed = _convert_for_kind(series, kind, inferred)
        if failed:
            report.warnings.append(
                f"{failed:,} value(s) in {name!r} could not be read as {kind.value} and are now missing."
            )
        if new is not series:
            frame.isetitem(index, new)
            if getattr(new.dtype, "tz", None) is not None and not pd.api.types.is_datetime64_any_dtype(series):
                report.warnings.append(f"{name!r} held times with time zones; all were converted to UTC "
                                       "(values without a zone were taken as UTC).")
        missing = inferred.missing + failed
        infos.append(ColumnInfo(name, kind, reason, str(new.dtype), missing, failed).to_dict())
    report.column_info = infos
    report.rows, report.columns = frame.shape
    return Loaded(frame, report)


def _convert_for_kind(series: pd.Series, kind: Kind, inferred: ColumnInfo) -> tuple[pd.Series, int]:
    """Convert only where the stored type must change; numbers stay as pyarrow read them."""
    dtype = series.dtype
    if kind in (Kind.INTEGER, Kind.FLOAT) and pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return (series, 0) if kind is Kind.FLOAT or pd.api.types.is_integer_dtype(dtype) else coerce(series, kind)
    if kind is Kind.ID and (pd.api.types.is_integer_dtype(dtype) or dtype == object):
        return series, 0
    if kind is Kind.CATEGORICAL and isinstance(dtype, pd.CategoricalDtype):
        return series, 0
    if kind is Kind.CATEGORICAL and dtype == object and inferred.kind is Kind.CATEGORICAL:
        return coerce(series, kind)
    if kind is Kind.TEXT and dtype == object:
        return series, 0
    if kind is Kind.DATETIME and pd.api.types.is_datetime64_any_dtype(dtype):
        return series, 0
    return coerce(series, kind)


def _check_select(query: str) -> str:
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", query or "", flags=re.S).strip().rstrip(";").strip()
    if not text:
        raise InputError("The SQL query is empty.", hint="Write a SELECT query.")
    if ";" in text:
        raise InputError("Only one SQL statement can be run at a time.", hint="Remove everything after the first ';'.")
    if not re.match(r"(?is)^(select|with)\b", text):
        raise InputError("Only SELECT queries can be run (the import is read-only).",
                         hint="Start the query with SELECT or WITH.")
    if re.search(r"(?is)\b(insert|update|delete|drop|alter|create|attach|pragma|grant|truncate|copy)\b", text) and not re.match(r"(?is)^select\b", text):
        raise InputError("The query modifies data; the import only reads.", hint="Use a plain SELECT.")
    return text


def _read_only_url(url: str) -> str:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_file():
            raise InputError(f"There is no SQLite file at {parsed.database!r}.", hint="Check the path in the URL.")
        return f"sqlite:///file:{path.resolve()}?mode=ro&uri=true"
    return url


def with_kinds(options: LoadOptions, kinds: dict[str, str]) -> LoadOptions:
    """A copy of ``options`` with per-column kind overrides."""
    return replace(options, kinds=dict(kinds))
