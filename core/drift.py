"""Drift: does a current table still look like the reference it is compared with?

:func:`compare` returns a :class:`DriftResult`: the schema diff first (columns
added, removed or probably renamed, type changes, new categories, ranges), then
one :class:`ColumnDrift` per shared column, a domain classifier over the whole
rows, and a dataset verdict. With a model it also compares predictions,
performance (when the current table has the target), and ranks columns by the
model's feature importance.

A column's verdict rests on effect sizes *and* significance: it is ``drift``
when a Benjamini-Hochberg-corrected p-value is below ``alpha`` **and** an
effect size passes its drift threshold, ``warning`` when it passes the warning
threshold. Large samples make tiny shifts significant, so significance alone
never flags a column; small samples make effect sizes noisy, so they alone never
do either. The thresholds are documented in :class:`DriftConfig` and the README.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from core import drift_stats
from core.drift_domain import DomainResult, domain_classifier
from core.errors import InputError, ValidationError, param_error
from core.schema import Kind, coerce, infer_column

__all__ = ["DriftConfig", "ColumnDrift", "SchemaDiff", "DomainResult", "DriftResult", "compare", "split_by",
           "compare_series", "judge", "format_number", "STATUSES", "RESULT_FORMAT"]

RESULT_FORMAT = "assay.drift"
RESULT_VERSION = 1
STATUSES = ("drift", "warning", "stable", "not tested")
_NUMERIC = {Kind.INTEGER, Kind.FLOAT}
_CATEGORICAL = {Kind.CATEGORICAL, Kind.BOOLEAN}
_NOT_TESTED = {
    Kind.DATETIME: "dates move on with time: see their range under schema changes",
    Kind.TEXT: "free text is not compared value by value",
    Kind.ID: "identifiers are not compared",
}


@dataclass(frozen=True, kw_only=True)
class DriftConfig:
    """Thresholds of the verdict (see the README's *Drift* section for why these values).

    ``psi_*``: population stability index, binned on the reference's ``bins`` quantiles
    (0.1 / 0.25 are the industry conventions for "moderate" / "major" shift).
    ``wasserstein_*``: 1-Wasserstein distance in reference standard deviations.
    ``js_*``: Jensen-Shannon distance (base 2, 0..1) between category shares.
    ``missing_*``: absolute change in the share of missing values.
    ``auc_*``: the domain classifier's cross-validated ROC-AUC (0.5 = indistinguishable).
    """

    alpha: float = 0.05
    psi_warning: float = 0.1
    psi_drift: float = 0.25
    wasserstein_warning: float = 0.1
    wasserstein_drift: float = 0.2
    js_warning: float = 0.1
    js_drift: float = 0.2
    missing_warning: float = 0.02
    missing_drift: float = 0.05
    auc_warning: float = 0.55
    auc_drift: float = 0.6
    bins: int = 10
    classifier_rows: int = 10_000
    classifier_folds: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("bins", "classifier_rows", "classifier_folds", "seed"):
                low = {"bins": 2, "classifier_rows": 0, "classifier_folds": 2, "seed": 0}[f.name]
                if isinstance(value, bool) or not isinstance(value, int) or value < low:
                    raise param_error("DriftConfig", f.name, f"an integer >= {low}", value)
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
                raise param_error("DriftConfig", f.name, "a number strictly between 0 and 1", value)
        for name in ("psi", "wasserstein", "js", "missing", "auc"):
            if getattr(self, f"{name}_warning") > getattr(self, f"{name}_drift"):
                raise ValidationError(f"DriftConfig: {name}_warning must not be above {name}_drift.")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ColumnDrift:
    """One shared column: its tests, effect sizes, verdict and the data its chart needs."""

    name: str
    kind: str
    test: str  # "numeric", "categorical" or "none"
    status: str = "stable"
    reasons: list[str] = field(default_factory=list)
    missing_ref: float = 0.0
    missing_cur: float = 0.0
    missing_p: float | None = None
    missing_p_adjusted: float | None = None
    p_value: float | None = None  # KS (numbers) or chi-squared (categories)
    p_adjusted: float | None = None
    ks: float | None = None
    psi: float | None = None
    wasserstein: float | None = None  # normalised by the reference's standard deviation
    js: float | None = None
    importance: float | None = None  # the model's feature importance share, when a model is given
    details: dict = field(default_factory=dict)

    @property
    def missing_change(self) -> float:
        return self.missing_cur - self.missing_ref


@dataclass
class SchemaDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[dict] = field(default_factory=list)  # {"reference", "current", "why"}: probably one column
    type_changes: list[dict] = field(default_factory=list)  # {"column", "reference", "current", "unreadable"}
    new_categories: list[dict] = field(default_factory=list)  # {"column", "labels": {label: share}, "count", "share"}
    lost_categories: list[dict] = field(default_factory=list)
    ranges: list[dict] = field(default_factory=list)  # {"column", "reference": [lo, hi], "current": [lo, hi], "outside"}

    def lines(self) -> list[str]:
        """The changes as short sentences, most serious first."""
        out = [f"Column {r['reference']!r} is missing; {r['current']!r} is probably it renamed ({r['why']})."
               for r in self.renamed]
        renamed = {r["reference"] for r in self.renamed} | {r["current"] for r in self.renamed}
        out += [f"Column {c!r} is missing from the current table." for c in self.removed if c not in renamed]
        out += [f"Column {c!r} is new in the current table." for c in self.added if c not in renamed]
        for t in self.type_changes:
            lost = f"; {t['unreadable']:,} value(s) could not be read as a {t['reference']} and count as missing" \
                if t["unreadable"] else ""
            out.append(f"Column {t['column']!r} changed type: {t['reference']} → {t['current']}{lost}.")
        for n in self.new_categories:
            labels = ", ".join(f"{k!r} ({v:.1%})" for k, v in list(n["labels"].items())[:5])
            more = f" and {n['count'] - 5} more" if n["count"] > 5 else ""
            out.append(f"Column {n['column']!r} has new categories: {labels}{more}.")
        for r in self.ranges:
            if r["outside"] >= 0.01:
                out.append(f"Column {r['column']!r}: {r['outside']:.1%} of current values lie outside the reference "
                           f"range {format_number(r['reference'][0])} … {format_number(r['reference'][1])}.")
        return out


@dataclass
class DriftResult:
    status: str
    headline: str
    reference: dict
    current: dict
    config: dict
    schema: SchemaDiff
    columns: list[ColumnDrift]
    domain: DomainResult
    model: dict | None = None
    created_at: str = ""

    @property
    def tested(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.test != "none"]

    @property
    def drifted(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.status == "drift"]

    @property
    def drift_share(self) -> float:
        return len(self.drifted) / len(self.tested) if self.tested else 0.0

    def column(self, name: str) -> ColumnDrift:
        return next(c for c in self.columns if c.name == name)

    @property
    def predictions(self) -> list[ColumnDrift]:
        """The model's predictions compared like columns (empty without a model)."""
        return [ColumnDrift(**p) for p in (self.model or {}).get("predictions", [])]

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(format=RESULT_FORMAT, version=RESULT_VERSION, drift_share=self.drift_share,
                    drifted=[c.name for c in self.drifted])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> DriftResult:
        if not isinstance(data, dict) or data.get("format") != RESULT_FORMAT:
            raise InputError("This is not an Assay drift report.", hint="Open a report saved by Assay's drift page or CLI.")
        if int(data.get("version", 0)) > RESULT_VERSION:
            raise InputError(f"This drift report is version {data['version']}; this Assay reads up to "
                             f"{RESULT_VERSION}.", hint="Upgrade Assay to open it.")
        return cls(
            status=data["status"], headline=data["headline"], reference=data["reference"], current=data["current"],
            config=data["config"], schema=SchemaDiff(**data["schema"]),
            columns=[ColumnDrift(**c) for c in data["columns"]], domain=DomainResult(**data["domain"]),
            model=data.get("model"), created_at=data.get("created_at", ""),
        )


# --------------------------------------------------------------------------- compare


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    config: DriftConfig | None = None,
    reference_name: str = "reference",
    current_name: str = "current",
    kinds: dict[str, str] | None = None,
    exclude: Iterable[str] = (),
    model=None,
    progress: Callable[[float, str], None] | None = None,
) -> DriftResult:
    """Compare ``current`` with ``reference``, column by column and as a whole.

    ``kinds`` overrides the reference's inferred column kinds (e.g. a dataset's
    saved schema); ``exclude`` names columns to leave out (e.g. the column a time
    slice was cut on). ``model`` is a :class:`core.bundle.ModelBundle` (anything with
    its ``task``, ``target``, ``classes``, ``input_schema``, ``predict`` and
    ``feature_importance``); with it the result has a ``model`` section: prediction
    drift, performance drift when the current table has the target, and columns
    ranked by the model's importance (see :mod:`core.drift_model`).

    >>> frame = pd.DataFrame({"x": np.arange(200.0) % 17, "c": list("aabb") * 50})
    >>> compare(frame.iloc[::2], frame.iloc[1::2]).status
    'stable'
    """
    config = config or DriftConfig()
    progress = progress or (lambda fraction, message: None)
    _check_frame(reference, reference_name)
    _check_frame(current, current_name)
    reference, current = _str_columns(reference), _str_columns(current)
    exclude = {str(c) for c in exclude}
    schema = SchemaDiff()
    ref_cols = [str(c) for c in reference.columns if str(c) not in exclude]
    cur_cols = [str(c) for c in current.columns if str(c) not in exclude]
    shared = [c for c in ref_cols if c in set(cur_cols)]
    schema.removed = [c for c in ref_cols if c not in set(cur_cols)]
    schema.added = [c for c in cur_cols if c not in set(ref_cols)]
    schema.renamed = _probable_renames(reference, current, schema.removed, schema.added)

    columns: list[ColumnDrift] = []
    prepared: dict[str, tuple[pd.Series, pd.Series, str]] = {}
    for i, name in enumerate(shared):
        progress(0.6 * i / max(len(shared), 1), f"Comparing {name}")
        column, pair = _compare_column(reference[name], current[name], name, (kinds or {}).get(name), config, schema)
        columns.append(column)
        if pair is not None:
            prepared[name] = pair
    judge(columns, config)

    progress(0.6, "Training the domain classifier")
    domain = domain_classifier(prepared, config)
    model_section = None
    if model is not None:
        progress(0.85, "Scoring both tables with the model")
        from core.drift_model import model_drift

        model_section = model_drift(model, reference, current, columns, config)
    progress(1.0, "Done")
    result = DriftResult(
        status="stable", headline="",
        reference={"name": reference_name, "rows": len(reference), "columns": reference.shape[1]},
        current={"name": current_name, "rows": len(current), "columns": current.shape[1]},
        config=config.to_dict(), schema=schema, columns=columns, domain=domain, model=model_section,
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    result.status, result.headline = _verdict(result)
    return result


def _check_frame(frame: pd.DataFrame, name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"The {name} table is not a table.")
    if len(frame) == 0 or frame.shape[1] == 0:
        raise InputError(f"The {name} table is empty ({len(frame)} rows, {frame.shape[1]} columns).",
                         hint="Pick a table, or a time slice, that has rows.")
    duplicated = frame.columns[frame.columns.astype(str).duplicated()].astype(str).tolist()
    if duplicated:
        raise InputError(f"The {name} table has two columns named {duplicated[0]!r}.",
                         hint="Rename one of them before comparing.")


def _str_columns(frame: pd.DataFrame) -> pd.DataFrame:
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.rename(columns=str)


def _normalised(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


_RENAME_SAMPLE = 5_000
_RENAME_MAX = 30  # candidates per side: the value check costs a sort per pair


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    """Do two columns (under different names) hold the same distribution of values?"""
    a = a.iloc[:: max(len(a) // _RENAME_SAMPLE, 1)].dropna()
    b = b.iloc[:: max(len(b) // _RENAME_SAMPLE, 1)].dropna()
    if a.empty or b.empty or _storage(a) != _storage(b):
        return False
    if _storage(a) == "number":
        x, y = np.sort(drift_stats.to_numbers(a)), np.sort(drift_stats.to_numbers(b))
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        return len(x) > 0 and len(y) > 0 and drift_stats.ks_statistic(x, y) < 0.05
    counts_a, counts_b = _label_counts(a), _label_counts(b)
    return drift_stats.categorical_stats(counts_a, counts_b)["js"] < 0.05


def _probable_renames(ref: pd.DataFrame, cur: pd.DataFrame, removed: list[str], added: list[str]) -> list[dict]:
    """Pairs (missing column, new column) that are probably one column renamed: the same name
    but for case, spaces and punctuation, or else the same values."""
    out, taken = [], set()
    by_key = {}
    for c in added:
        by_key.setdefault(_normalised(c), c)
    for c in removed:
        match = by_key.get(_normalised(c))
        if match is not None and match not in taken:
            out.append({"reference": c, "current": match, "why": "same name but for case and spacing"})
            taken.add(match)
    left = [c for c in removed if c not in {r["reference"] for r in out}][:_RENAME_MAX]
    for c in left:
        matches = [a for a in added[:_RENAME_MAX] if a not in taken and _same_values(ref[c], cur[a])]
        if len(matches) == 1:
            out.append({"reference": c, "current": matches[0], "why": "same values"})
            taken.add(matches[0])
    return out


def _kind_of(series: pd.Series, name: str, given: str | None) -> Kind:
    if given is None:
        return infer_column(series, name).kind
    try:
        return Kind(given)
    except ValueError:
        raise param_error("compare", f"kinds[{name!r}]", [k.value for k in Kind], given) from None


def _storage(series: pd.Series) -> str:
    """How values are stored (number, boolean, date, text): a change here is a type change.
    Kinds inferred from values (integer vs id, categorical vs text) may differ between two
    samples of the same data, so they are not compared."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return "number"
    if series.isna().all():
        return "empty"
    return "text"


def _test_for(kind: Kind) -> str:
    return "numeric" if kind in _NUMERIC else "categorical" if kind in _CATEGORICAL else "none"


def _compare_column(ref: pd.Series, cur: pd.Series, name: str, given_kind: str | None, config: DriftConfig,
                    schema: SchemaDiff) -> tuple[ColumnDrift, tuple[pd.Series, pd.Series, str] | None]:
    ref_kind = _kind_of(ref, name, given_kind)
    test = _test_for(ref_kind)
    ref_type, cur_type = _storage(ref), _storage(cur)
    if ref_type != cur_type:
        # compare what the reference's kind can read; what it cannot shows up as missing
        converted, unreadable = coerce(cur, ref_kind)
        if "empty" not in (ref_type, cur_type):
            schema.type_changes.append({"column": name, "reference": ref_type, "current": cur_type,
                                        "unreadable": int(unreadable)})
        cur = converted
    column = ColumnDrift(name=name, kind=ref_kind.value, test=test)
    if test == "numeric":
        ref_values, cur_values = drift_stats.to_numbers(ref), drift_stats.to_numbers(cur)
        ok_ref, ok_cur = np.isfinite(ref_values), np.isfinite(cur_values)
        n_miss_ref, n_miss_cur = int((~ok_ref).sum()), int((~ok_cur).sum())
    elif test == "categorical":
        ref_counts, cur_counts = _label_counts(ref), _label_counts(cur)
        n_miss_ref, n_miss_cur = len(ref) - int(ref_counts.sum()), len(cur) - int(cur_counts.sum())
    else:
        n_miss_ref, n_miss_cur = int(ref.isna().sum()), int(cur.isna().sum())
    column.missing_ref, column.missing_cur = n_miss_ref / len(ref), n_miss_cur / len(cur)
    column.missing_p = drift_stats.proportion_p_value(n_miss_ref, len(ref), n_miss_cur, len(cur))
    if n_miss_ref == len(ref) or n_miss_cur == len(cur):
        side = "reference" if n_miss_ref == len(ref) else "current"
        column.reasons = [f"every value is missing in the {side} table"]
        return column, None
    if test == "none":
        column.reasons = [_NOT_TESTED[ref_kind]]
        if ref_kind is Kind.DATETIME:
            _date_range(ref, cur, name, schema)
        return column, None
    if test == "numeric":
        s = drift_stats.numeric_stats(ref_values[ok_ref], cur_values[ok_cur], bins=config.bins,
                                      integer=ref_kind is Kind.INTEGER)
        column.ks, column.p_value, column.psi = s["ks"], s["ks_p"], s["psi"]
        column.wasserstein = s["wasserstein_norm"]
        column.details = {"ref": s["ref"], "cur": s["cur"], "histogram": s["histogram"],
                          "outside_share": s["outside_share"], "wasserstein_raw": s["wasserstein"]}
        schema.ranges.append({"column": name, "reference": [s["ref"]["min"], s["ref"]["max"]],
                              "current": [s["cur"]["min"], s["cur"]["max"]], "outside": s["outside_share"]})
    else:
        s = drift_stats.categorical_stats(ref_counts, cur_counts)
        column.p_value, column.psi, column.js = s["chi2_p"], s["psi"], s["js"]
        column.details = {k: s[k] for k in ("bars", "n_categories", "new", "n_new", "new_share", "lost", "n_lost")}
        if s["n_new"]:
            schema.new_categories.append({"column": name, "labels": s["new"], "count": s["n_new"],
                                          "share": s["new_share"]})
        if s["n_lost"]:
            schema.lost_categories.append({"column": name, "labels": s["lost"], "count": s["n_lost"]})
    return column, (ref, cur, test)


def _label_counts(series: pd.Series) -> pd.Series:
    counts = series.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]
    counts.index = pd.Index([str(k) for k in counts.index], dtype=object)
    return counts.groupby(level=0, sort=False).sum()


def _date_range(ref: pd.Series, cur: pd.Series, name: str, schema: SchemaDiff) -> None:
    try:
        lo_r, hi_r, lo_c, hi_c = ref.min(), ref.max(), cur.min(), cur.max()
        outside = float(((cur < lo_r) | (cur > hi_r)).sum() / max(cur.notna().sum(), 1))
    except TypeError:  # time zones differ, or the current column is not dates
        return
    schema.ranges.append({"column": name, "reference": [str(lo_r), str(hi_r)], "current": [str(lo_c), str(hi_c)],
                          "outside": outside})


def compare_series(ref: pd.Series, cur: pd.Series, name: str, config: DriftConfig,
                   kind: str | None = None) -> ColumnDrift:
    """One column's tests and effect sizes, not judged yet (see :func:`judge`)."""
    return _compare_column(ref, cur, name, kind, config, SchemaDiff())[0]


def judge(columns: list[ColumnDrift], config: DriftConfig) -> None:
    """Benjamini-Hochberg over the family of ``columns`` (every distribution test and every
    missing-share test), then each column's status and reasons."""
    raw = [c.p_value for c in columns] + [c.missing_p for c in columns]
    adjusted = drift_stats.benjamini_hochberg(raw)
    for i, c in enumerate(columns):
        c.p_adjusted, c.missing_p_adjusted = adjusted[i], adjusted[len(columns) + i]
        _judge(c, config)


def _level(values: list[tuple[float | None, float, float]]) -> str:
    """'drift', 'warning' or '' for (value, warning threshold, drift threshold) triples."""
    if any(v is not None and v >= d for v, _, d in values):
        return "drift"
    if any(v is not None and v >= w for v, w, _ in values):
        return "warning"
    return ""


def _judge(c: ColumnDrift, cfg: DriftConfig) -> None:
    """Set the column's status and reasons; the missing share is judged for every column."""
    reasons: list[str] = []
    levels = []
    if c.p_value is not None:
        effects = [(c.psi, cfg.psi_warning, cfg.psi_drift)]
        effects.append((c.wasserstein, cfg.wasserstein_warning, cfg.wasserstein_drift) if c.test == "numeric"
                       else (c.js, cfg.js_warning, cfg.js_drift))
        level = _level(effects)
        significant = c.p_adjusted is not None and c.p_adjusted < cfg.alpha
        if level and significant:
            levels.append(level)
            reasons.append(_effect_text(c))
        elif significant:
            reasons.append(f"a real but small change ({_effect_text(c)}), below the warning thresholds")
    significant_missing = c.missing_p_adjusted is not None and c.missing_p_adjusted < cfg.alpha
    missing_level = _level([(abs(c.missing_change), cfg.missing_warning, cfg.missing_drift)])
    if missing_level and significant_missing:
        levels.append(missing_level)
        reasons.insert(0, f"missing {c.missing_ref:.1%} → {c.missing_cur:.1%}")
    if c.details.get("n_new"):
        levels.append("warning")
        new = c.details["new"]
        reasons.append(f"{c.details['n_new']} new categor{'y' if c.details['n_new'] == 1 else 'ies'} "
                       f"({', '.join(repr(k) for k in list(new)[:3])}; {c.details['new_share']:.1%} of current rows)")
    c.status = "drift" if "drift" in levels else "warning" if levels else \
        "not tested" if c.test == "none" else "stable"
    c.reasons = reasons + c.reasons


def _effect_text(c: ColumnDrift) -> str:
    p = c.p_adjusted
    p_text = "p < 0.001" if p is not None and p < 0.001 else f"p = {p:.3f}"
    if c.test == "numeric":
        med_r, med_c = c.details["ref"]["median"], c.details["cur"]["median"]
        return (f"median {format_number(med_r)} → {format_number(med_c)}; Wasserstein {c.wasserstein:.2f} std, "
                f"PSI {c.psi:.2f}, KS {p_text}")
    bars = c.details["bars"]
    moved = max(zip(bars["labels"], bars["ref"], bars["cur"]), key=lambda t: abs(t[2] - t[1]))
    return (f"{moved[0]!r} {moved[1]:.1%} → {moved[2]:.1%}; Jensen-Shannon {c.js:.2f}, PSI {c.psi:.2f}, "
            f"chi-squared {p_text}")


def format_number(value) -> str:
    """A number as people read it: ``4,870``, ``0.9134``, ``12,345,678``."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _names(columns: list[ColumnDrift], limit: int = 5) -> str:
    names = [c.name for c in columns]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _verdict(r: DriftResult) -> tuple[str, str]:
    """The dataset's status and the one sentence a person reads first."""
    tested, drifted = r.tested, r.drifted
    warned = [c for c in r.columns if c.status == "warning"]
    if r.model and r.model.get("importance_order"):
        order = {n: i for i, n in enumerate(r.model["importance_order"])}
        drifted = sorted(drifted, key=lambda c: order.get(c.name, len(order)))
    model_status = (r.model or {}).get("status", "stable")
    d = r.domain
    domain_text = ""
    if d.auc is not None and d.status != "stable":
        verb = "separates" if len(d.top[:3]) == 1 else "separate"
        top = f"; {', '.join(t['column'] for t in d.top[:3])} {verb} them most" if d.top else ""
        domain_text = (f" A classifier tells current rows from reference rows with ROC-AUC {d.auc:.2f} "
                       f"(0.5 = indistinguishable){top}.")
    elif d.auc is not None:
        domain_text = f" A classifier cannot tell the rows apart (ROC-AUC {d.auc:.2f})."
    schema_break = bool(r.schema.removed or r.schema.type_changes)
    model_text = f" {r.model['summary']}" if r.model and r.model.get("summary") else ""
    if drifted or d.status == "drift" or model_status == "drift":
        status = "drift"
        if drifted:
            text = f"Drift: {len(drifted)} of {len(tested)} columns drifted ({_names(drifted)})."
        elif d.status == "drift":
            text = "Drift: no single column moved enough, but the rows as a whole differ."
        else:
            text = "Drift: the model is affected."
        if schema_break:
            model_text += f" The schema changed too ({_schema_summary(r.schema)})."
    elif warned or d.status == "warning" or schema_break or model_status == "warning":
        status = "warning"
        what = f"{len(warned)} of {len(tested)} columns changed a little ({_names(warned)})" if warned \
            else f"the schema changed ({_schema_summary(r.schema)})" if schema_break \
            else "the model's view changed a little" if model_status == "warning" \
            else "the rows differ a little as a whole"
        text = f"Warning: no material drift, but {what}."
    else:
        status = "stable"
        text = f"No drift: none of the {len(tested)} compared columns changed materially."
    return status, text + model_text + domain_text


def _plural(n: int, word: str, words: str) -> str:
    return f"{n} {word if n == 1 else words}"


def _schema_summary(schema: SchemaDiff) -> str:
    renamed = len(schema.renamed)
    parts = [(renamed, "column renamed", "columns renamed"),
             (len(schema.removed) - renamed, "column missing", "columns missing"),
             (len(schema.added) - renamed, "new column", "new columns"),
             (len(schema.type_changes), "type change", "type changes")]
    return ", ".join(_plural(n, one, many) for n, one, many in parts if n)


# --------------------------------------------------------------------------- time slices


def split_by(frame: pd.DataFrame, column: str, cut) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows before ``cut`` (reference) and from ``cut`` on (current), on a date or number column.

    Rows whose ``column`` is missing belong to neither side.
    """
    if column not in frame.columns:
        raise InputError(f"There is no column {column!r} to slice on.", hint="Pick one of the table's columns.")
    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        cut = pd.Timestamp(cut)
        tz = getattr(values.dtype, "tz", None)
        if tz is not None and cut.tzinfo is None:
            cut = cut.tz_localize(tz)
        elif tz is None and cut.tzinfo is not None:
            cut = cut.tz_convert(None)
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        try:
            cut = float(cut)
        except (TypeError, ValueError):
            raise InputError(f"{cut!r} is not a number, and {column!r} holds numbers.") from None
    else:
        raise InputError(f"Column {column!r} holds neither dates nor numbers, so it cannot be cut in time.",
                         hint="Pick a date column (or a number such as a day index) to slice on.")
    before, after = values < cut, values >= cut
    for side, mask in (("before", before), ("from", after)):
        if not mask.any():
            raise InputError(f"No rows {side} {cut} in {column!r}: it runs from {values.min()} to {values.max()}.",
                             hint="Pick a cut inside that range.")
    return frame[before.to_numpy()], frame[after.to_numpy()]
