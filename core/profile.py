"""The profile of a table: what is in it, and what is wrong with it, in about a second.

:func:`profile_frame` returns a :class:`Profile`: per-column statistics (exact, on
every row), chart data for every column, duplicate rows, memory use, missing-value
patterns, correlations and target associations (on a seeded sample of at most
100,000 rows, and the profile says so), and :mod:`alerts <core.alerts>`, including
suspected target leakage (:mod:`core.leakage`). A profile is plain data: its JSON
form (:meth:`Profile.to_dict`, documented in the README) is what the store keeps,
what the CLI writes and what the charts are drawn from.

Profiles are stored as ``Report`` rows keyed by what they were computed from
(:func:`profile_key`: the dataset's blob, its cleaning steps and the target), so a
page rerun or a reload never computes one twice (:func:`stored_profile`).

Speed: every numeric column is sorted once (numpy's SIMD sort takes a few
milliseconds for a million values) and min, max, quantiles, distinct values, top
values, zeros and the histogram are read off the sorted values. Labels are counted
from their codes. Duplicate rows are found with a 64-bit hash per row built from
those same codes and bit patterns (a false match has odds of about 1 in 10^7 even
on a million distinct rows).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core import jsonutil, store
from core.errors import ValidationError
from core.schema import infer_column

__all__ = [
    "PROFILE_FORMAT", "PROFILE_VERSION", "SAMPLE_ROWS", "Alert", "ColumnProfile", "Profile",
    "profile_frame", "profile_key", "stored_profile", "save_profile", "dataset_profile",
]

PROFILE_FORMAT = "assay.profile"
PROFILE_VERSION = 1
SAMPLE_ROWS = 100_000  # rows behind correlations and target associations
SAMPLE_CELLS = 3_000_000  # ... and at most about this many cells of them
TOP_VALUES = 10
BAR_VALUES = 20
HIST_BINS = 30
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Alert:
    """Something that needs attention: ``kind``, the ``column`` (None: the whole table),
    ``severity`` (``critical`` / ``warning`` / ``info``) and one plain ``sentence``."""

    kind: str
    column: str | None
    severity: str
    sentence: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ColumnProfile:
    """One column. ``numbers``, ``text`` and ``dates`` are set for columns of that kind;
    ``chart`` is ``{"type": "histogram", "edges", "counts"}`` or ``{"type": "bar",
    "labels", "counts", "other"}`` (``other``: rows outside the labels shown)."""

    name: str
    kind: str
    dtype: str
    count: int
    missing: int
    distinct: int
    memory_bytes: int
    top: list[tuple[str, int]]
    chart: dict
    numbers: dict | None = None
    text: dict | None = None
    dates: dict | None = None
    value_types: dict | None = None  # object columns holding several types: {type: rows}

    @property
    def missing_share(self) -> float:
        total = self.count + self.missing
        return self.missing / total if total else 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["missing_share"] = self.missing_share
        out["top"] = [{"value": v, "count": c} for v, c in self.top]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ColumnProfile:
        fields = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        fields["top"] = [(t["value"], t["count"]) for t in d.get("top", [])]
        return cls(**fields)


@dataclass
class Profile:
    rows: int
    n_columns: int
    memory_bytes: int
    duplicate_rows: int
    missing_cells: int
    columns: list[ColumnProfile]
    alerts: list[Alert]
    correlations: dict
    missing: dict
    target: dict | None = None
    leakage: list[dict] = field(default_factory=list)
    sample_rows: int | None = None  # rows behind correlations/target analysis when sampled
    seconds: dict = field(default_factory=dict)

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict:
        return jsonutil.to_jsonable({
            "format": PROFILE_FORMAT, "version": PROFILE_VERSION,
            "rows": self.rows, "n_columns": self.n_columns, "memory_bytes": self.memory_bytes,
            "duplicate_rows": self.duplicate_rows, "missing_cells": self.missing_cells,
            "sample_rows": self.sample_rows, "seconds": self.seconds,
            "alerts": [a.to_dict() for a in self.alerts],
            "columns": [c.to_dict() for c in self.columns],
            "correlations": self.correlations, "missing": self.missing,
            "target": self.target, "leakage": self.leakage,
        })

    @classmethod
    def from_dict(cls, d: dict) -> Profile:
        if d.get("format") != PROFILE_FORMAT or int(d.get("version", 0)) > PROFILE_VERSION:
            raise ValidationError("This is not a profile this version of Assay can read.",
                                  hint="Compute the profile again.")
        return cls(
            rows=d["rows"], n_columns=d["n_columns"], memory_bytes=d["memory_bytes"],
            duplicate_rows=d["duplicate_rows"], missing_cells=d["missing_cells"],
            columns=[ColumnProfile.from_dict(c) for c in d["columns"]],
            alerts=[Alert(**a) for a in d["alerts"]], correlations=d["correlations"],
            missing=d["missing"], target=d.get("target"), leakage=d.get("leakage", []),
            sample_rows=d.get("sample_rows"), seconds=d.get("seconds", {}),
        )


# --------------------------------------------------------------------------- the whole table


def profile_frame(
    frame: pd.DataFrame,
    *,
    kinds: dict[str, str] | None = None,
    target: str | None = None,
    leakage: bool = True,
    seed: int = 0,
) -> Profile:
    """Profile ``frame`` (never modified).

    ``kinds`` maps column names to Assay kinds (from the dataset's schema); missing
    entries are inferred. With a ``target``, the profile adds target analysis, the
    imbalanced-target alert and (unless ``leakage=False``) the suspected-leakage test.
    """
    from core import alerts, correlations
    from core.leakage import detect_task, leakage_check

    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise ValidationError(f"The table has two columns named {dup!r}.", hint="Rename one of them first.")
    if target is not None and target not in frame.columns:
        raise ValidationError(f"The target column {target!r} is not in the table.",
                              hint="Pick one of the table's columns as the target.")
    started = time.perf_counter()
    n = len(frame)
    kinds = dict(kinds or {})
    rng = np.random.default_rng(seed)
    # correlations and target associations: at most SAMPLE_ROWS rows, fewer on wide tables
    sample_rows = min(SAMPLE_ROWS, max(20_000, SAMPLE_CELLS // max(frame.shape[1], 1)))
    sample = np.sort(rng.choice(n, sample_rows, replace=False)) if n > sample_rows else None

    columns: list[ColumnProfile] = []
    row_hash = np.zeros(n, dtype=np.uint64)
    missing_masks: dict[str, np.ndarray] = {}
    sampled: dict[str, correlations.Sampled] = {}
    for i, name in enumerate(frame.columns):
        series = frame[name]
        kind = kinds.get(str(name)) or infer_column(series, str(name)).kind.value
        col, codes, mask, values = _column(series, str(name), kind)
        columns.append(col)
        row_hash = _mix(row_hash, codes, i)
        if col.missing:
            missing_masks[col.name] = mask
        sampled[col.name] = correlations.Sampled.of(col, values, sample)
    duplicates = _duplicates(row_hash) if n else 0
    del row_hash

    corr = correlations.associations(sampled)
    target_info = None
    if target is not None:
        task = detect_task(frame[target])
        target_info = correlations.target_analysis(sampled, target, task)
    missing = _missing(missing_masks, n)
    overview_seconds = time.perf_counter() - started

    suspects = []
    leak_seconds = 0.0
    if target is not None and leakage:
        begun = time.perf_counter()
        suspects = leakage_check(frame, target, task=target_info["task"], seed=seed)
        leak_seconds = time.perf_counter() - begun

    profile = Profile(
        rows=n, n_columns=frame.shape[1],
        memory_bytes=int(sum(c.memory_bytes for c in columns)),
        duplicate_rows=int(duplicates), missing_cells=int(sum(c.missing for c in columns)),
        columns=columns, alerts=[], correlations=corr, missing=missing,
        target=target_info, leakage=[s.to_dict() for s in suspects],
        sample_rows=sample_rows if sample is not None else None,
        seconds={"overview": round(overview_seconds, 3), "leakage": round(leak_seconds, 3)},
    )
    profile.alerts = alerts.find_alerts(profile)
    return profile


def _mix(h: np.ndarray, codes: np.ndarray, i: int) -> np.ndarray:
    """Fold one column's 64-bit codes into the row hash: scramble the codes (a bijection:
    multiply by an odd constant, xor-shift), then ``h = h * P + x`` (all modulo 2**64)."""
    x = codes.astype(np.uint64, copy=True)
    x += np.uint64(i + 1)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(31)
    h *= np.uint64(0x94D049BB133111EB)
    h += x
    return h


def _duplicates(row_hash: np.ndarray) -> int:
    row_hash ^= row_hash >> np.uint64(29)  # finalise: spread the high bits down
    row_hash *= np.uint64(0xBF58476D1CE4E5B9)
    s = np.sort(row_hash)
    return int(np.count_nonzero(s[1:] == s[:-1]))


def _missing(masks: dict[str, np.ndarray], n: int, bands: int = 100) -> dict:
    """Share missing per column, the patterns in which values are missing together,
    and a row-band matrix for the missingness chart."""
    names = sorted(masks, key=lambda c: -int(masks[c].sum()))
    shares = [{"column": c, "missing": int(masks[c].sum()), "share": float(masks[c].mean())} for c in names]
    if not names:
        return {"columns": [], "patterns": [], "matrix": None}
    in_pattern = names[:62]
    code = np.zeros(n, dtype=np.int64)
    for j, c in enumerate(in_pattern):
        code |= masks[c].astype(np.int64) << j
    rows_with = code[code != 0]
    values, counts = np.unique(rows_with, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:10]
    patterns = [{"columns": [c for j, c in enumerate(in_pattern) if int(values[k]) >> j & 1],
                 "rows": int(counts[k]), "share": float(counts[k] / n)} for k in order]
    b = min(bands, n)
    band = (np.arange(n) * b) // n
    size = np.bincount(band, minlength=b)
    shown = names[:50]
    matrix = [(np.bincount(band, weights=masks[c], minlength=b) / size).round(4).tolist() for c in shown]
    return {"columns": shares, "patterns": patterns,
            "complete_rows": int(n - len(rows_with)),
            "matrix": {"columns": shown, "bands": b, "shares": matrix}}


# --------------------------------------------------------------------------- one column


def _column(s: pd.Series, name: str, kind: str) -> tuple[ColumnProfile, np.ndarray, np.ndarray, Any]:
    """The profile of one column, its 64-bit row codes (for the row hash), its missing
    mask, and the values the association measures need (numbers or label codes)."""
    dtype = str(s.dtype)
    memory = int(s.memory_usage(deep=True, index=False))
    if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
        return _labels(s, name, kind, dtype, memory)
    if pd.api.types.is_datetime64_any_dtype(s):
        return _datetimes(s, name, kind, dtype, memory)
    if pd.api.types.is_timedelta64_dtype(s):
        s = s.dt.total_seconds()
    if pd.api.types.is_numeric_dtype(s):
        return _numbers(s, name, kind, dtype, memory)
    return _labels(s, name, kind, dtype, memory)


def _numbers(s: pd.Series, name: str, kind: str, dtype: str, memory: int):
    integer = pd.api.types.is_integer_dtype(s) and not s.hasnans
    if integer:
        raw = s.to_numpy(dtype=np.int64)
        values = raw.astype(np.float64)
        mask = np.zeros(len(s), dtype=bool)
        codes = raw.view(np.uint64)
        finite_sorted = np.sort(raw)
        infinite = 0
    else:
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        mask = np.isnan(values)
        finite = np.isfinite(values)
        n_finite = int(finite.sum())
        infinite = int(len(values) - n_finite - mask.sum())
        clean = values + 0.0  # -0.0 and 0.0 hash alike
        if n_finite < len(values):
            clean[mask] = np.nan  # one bit pattern for every NaN
        codes = clean.view(np.uint64)
        finite_sorted = np.sort(values[finite] if n_finite < len(values) else values)
    missing = int(mask.sum())
    count = len(s) - missing
    m = len(finite_sorted)
    numbers: dict[str, Any] = {"infinite": infinite}
    top: list[tuple[str, int]] = []
    chart: dict = {"type": "histogram", "edges": [], "counts": []}
    distinct = 0
    if m:
        starts = np.flatnonzero(np.r_[True, finite_sorted[1:] != finite_sorted[:-1]])
        runs = np.diff(np.r_[starts, m])
        distinct = len(starts) + (int(np.isposinf(values).any()) + int(np.isneginf(values).any()) if infinite else 0)
        best = starts[np.argsort(-runs, kind="stable")[:TOP_VALUES]]
        top = [(_label(finite_sorted[i]), int(runs[np.searchsorted(starts, i)])) for i in best]
        fs = finite_sorted.astype(np.float64) if integer else finite_sorted
        with np.errstate(over="ignore", invalid="ignore"):  # values near 1e308 overflow: inf/NaN
            mean = float(fs.mean())
            centred = fs - mean
            squares = centred * centred
            m2 = float(squares.sum() / m)
            m3 = float((squares * centred).sum() / m) if m > 2 else 0.0  # no BLAS call: it can stall
            skew = (np.sqrt(m * (m - 1)) / (m - 2) * m3 / m2 ** 1.5) if m > 2 and m2 > 0 else 0.0
        del centred, squares
        zeros = int(np.searchsorted(fs, 0.0, side="right") - np.searchsorted(fs, 0.0, side="left"))
        numbers.update({
            "min": _num(fs[0]), "max": _num(fs[-1]), "mean": mean,
            "std": float(np.sqrt(m2 * m / (m - 1))) if m > 1 else 0.0,
            **{f"q{int(q * 100):02d}": _quantile(fs, q) for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
            "skew": float(skew), "zeros": zeros,
        })
        if distinct <= HIST_BINS and np.all(np.mod(fs[starts], 1) == 0):
            chart = {"type": "bar", "labels": [_label(fs[i]) for i in starts],
                     "counts": runs.tolist(), "other": 0}
        else:
            edges = np.linspace(fs[0], fs[-1], HIST_BINS + 1) if fs[-1] > fs[0] else np.array([fs[0], fs[0] + 1])
            cuts = np.searchsorted(fs, edges[1:-1], side="left")
            counts = np.diff(np.r_[0, cuts, m])
            chart = {"type": "histogram", "edges": edges.tolist(), "counts": counts.tolist()}
    col = ColumnProfile(name, kind, dtype, count, missing, distinct, memory, top, chart, numbers=numbers)
    return col, codes, mask, values


def _labels(s: pd.Series, name: str, kind: str, dtype: str, memory: int):
    if isinstance(s.dtype, pd.CategoricalDtype):
        raw_codes = s.cat.codes.to_numpy()
        uniques = s.cat.categories
    else:
        raw_codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mask = raw_codes < 0
    counts = np.bincount(raw_codes[~mask], minlength=len(uniques)) if len(uniques) else np.zeros(0, int)
    used = np.flatnonzero(counts)
    missing = int(mask.sum())
    order = used[np.argsort(-counts[used], kind="stable")]
    labels = [_label(uniques[i]) for i in order[:BAR_VALUES]]
    top = [(labels[k], int(counts[i])) for k, i in enumerate(order[:TOP_VALUES])]
    shown = int(counts[order[:BAR_VALUES]].sum())
    chart = {"type": "bar", "labels": labels, "counts": counts[order[:BAR_VALUES]].tolist(),
             "other": int(len(s) - missing - shown)}
    text = value_types = None
    if not pd.api.types.is_bool_dtype(s) and len(used):
        values = pd.Index(uniques).take(used)
        if values.dtype == object:
            value_types = _value_types(values, counts[used])
        strings = values.astype(str) if values.dtype != object else values.map(str)
        lengths = np.asarray(strings.str.len(), dtype=np.float64)
        weights = counts[used]
        text = {"min_length": int(lengths.min()), "max_length": int(lengths.max()),
                "mean_length": float(np.average(lengths, weights=weights))}
    codes = raw_codes.astype(np.int64).view(np.uint64)
    col = ColumnProfile(name, kind, dtype, len(s) - missing, missing, len(used), memory, top, chart,
                        text=text, value_types=value_types)
    return col, codes, mask, raw_codes


def _value_types(values: pd.Index, counts: np.ndarray) -> dict | None:
    """Rows per value type when an object column mixes them (numbers and text, or
    text where most values read as numbers); None when the column is uniform."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred.startswith("mixed"):
        kinds = np.array(["number" if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                          else type(v).__name__ for v in values], dtype=object)
        rows = {str(k): int(counts[kinds == k].sum()) for k in pd.unique(kinds)}
        return rows if len(rows) > 1 else None
    if inferred == "string":
        head = min(len(values), 50_000)
        as_numbers = pd.to_numeric(pd.Series(values[:head]).str.strip(), errors="coerce").notna().to_numpy()
        share = counts[:head][as_numbers].sum() / max(counts[:head].sum(), 1)
        if 0.5 <= share < 1:
            return {"number (as text)": int(counts[:head][as_numbers].sum()),
                    "str": int(counts[:head][~as_numbers].sum()) + int(counts[head:].sum())}
    return None


def _datetimes(s: pd.Series, name: str, kind: str, dtype: str, memory: int):
    if getattr(s.dtype, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    raw = s.to_numpy(dtype="datetime64[ns]").view(np.int64)
    mask = s.isna().to_numpy()
    ordered = np.sort(raw[~mask])
    m = len(ordered)
    top: list[tuple[str, int]] = []
    dates = None
    chart: dict = {"type": "histogram", "edges": [], "counts": []}
    distinct = 0
    if m:
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        runs = np.diff(np.r_[starts, m])
        distinct = len(starts)
        best = starts[np.argsort(-runs, kind="stable")[:TOP_VALUES]]
        top = [(_stamp(ordered[i]), int(runs[np.searchsorted(starts, i)])) for i in best]
        steps = np.diff(ordered[starts])
        dates = {"min": _stamp(ordered[0]), "max": _stamp(ordered[-1]),
                 "span_seconds": (int(ordered[-1]) - int(ordered[0])) / 1e9,
                 "median_step_seconds": None, "largest_gap": None, "gaps": 0}
        if len(steps):
            median = float(np.median(steps))
            k = int(steps.argmax())
            dates.update({
                "median_step_seconds": median / 1e9,
                "largest_gap": {"start": _stamp(ordered[starts[k]]), "end": _stamp(ordered[starts[k + 1]]),
                                "seconds": float(steps[k]) / 1e9},
                "gaps": int(np.count_nonzero(steps > 1.5 * median)) if median > 0 else 0,
            })
        lo, hi = int(ordered[0]), int(ordered[-1])
        edges = np.linspace(lo, hi, HIST_BINS + 1) if hi > lo else np.array([lo, lo + 1], dtype=float)
        cuts = np.searchsorted(ordered, edges[1:-1], side="left")
        chart = {"type": "histogram", "edges": [_stamp(int(e)) for e in edges],
                 "counts": np.diff(np.r_[0, cuts, m]).tolist()}
    col = ColumnProfile(name, kind, dtype, m, int(mask.sum()), distinct, memory, top, chart, dates=dates)
    values = np.where(mask, np.nan, raw.astype(np.float64) / 1e9)
    return col, raw.view(np.uint64), mask, values


def _quantile(sorted_values: np.ndarray, q: float) -> float:
    """numpy's default (linear) quantile, read off already sorted values."""
    pos = q * (len(sorted_values) - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def _num(v) -> float | int:
    v = v.item() if hasattr(v, "item") else v
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)


def _label(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}" if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    return str(v)


def _stamp(ns: int) -> str:
    return pd.Timestamp(int(ns)).isoformat()


# --------------------------------------------------------------------------- storage


def profile_key(blob_sha: str, clean_steps: list, target: str | None) -> str:
    """What a profile was computed from: the raw data, the cleaning steps, the target."""
    steps = jsonutil.canonical_sha(clean_steps)[:24] if clean_steps else "raw"
    goal = jsonutil.canonical_sha(target)[:16] if target else "none"
    return f"profile/v{PROFILE_VERSION}/{blob_sha}/{steps}/{goal}"


def stored_profile(session: Session, dataset_id: int, key: str) -> tuple[int, Profile] | None:
    """The stored profile with this key (its report id and the profile), if there is one."""
    import sqlalchemy as sa

    report = session.scalar(
        sa.select(store.Report).where(store.Report.dataset_id == dataset_id, store.Report.kind == "profile",
                                      store.Report.key == key).order_by(store.Report.id.desc()).limit(1)
    )
    return (report.id, Profile.from_dict(report.data)) if report is not None else None


def save_profile(session: Session, project_id: int, dataset_id: int, key: str, profile: Profile,
                 title: str = "") -> int:
    report = store.Report(project_id=project_id, dataset_id=dataset_id, kind="profile", key=key,
                          title=title[:500], data=profile.to_dict())
    session.add(report)
    session.flush()
    return report.id


def _still_fits(kind: str, series: pd.Series) -> bool:
    """Whether a kind from the upload still fits a column after the cleaning steps."""
    if kind in ("integer", "float"):
        return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if kind == "datetime":
        return pd.api.types.is_datetime64_any_dtype(series)
    return not pd.api.types.is_datetime64_any_dtype(series)


def dataset_profile(
    engine, dataset: store.Dataset, clean_steps: list, frame: Callable[[], pd.DataFrame], *,
    target: str | None = None, kinds: dict[str, str] | None = None,
) -> tuple[int, Profile]:
    """The dataset's profile for its current cleaning steps and ``target``: the stored one,
    or computed from ``frame()`` (called only then) and stored."""
    from core.schema import kinds_from_schema

    key = profile_key(dataset.blob_sha, clean_steps, target)
    with store.read_session(engine) as s:
        found = stored_profile(s, dataset.id, key)
    if found is not None:
        return found
    data = frame()
    known = {k: v.value for k, v in kinds_from_schema(dataset.schema).items()
             if k in data.columns and _still_fits(v.value, data[k])}
    known.update(kinds or {})
    profile = profile_frame(data, kinds=known, target=target)
    with store.write_session(engine) as s:
        report_id = save_profile(s, dataset.project_id, dataset.id, key, profile, title=dataset.name)
    return report_id, profile
