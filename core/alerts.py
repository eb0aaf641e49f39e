"""Alerts: what needs attention in a profiled table, each in one plain sentence.

Every alert has a ``kind`` (below), the ``column`` it is about (None for the whole
table), a ``severity`` and a ``sentence``. Thresholds are module constants so that a
test (and a reader) can see exactly when an alert fires.

=====================  ========  ====================================================
kind                   severity  fires when
=====================  ========  ====================================================
suspected_leakage      critical  the target leakage test flags the column
all_missing            warning   every value is missing
constant               warning   one distinct value (and no missing values)
almost_constant        info      the commonest value fills >= 99% of the values
high_missing           warning   >= 50% missing (info from 20%)
infinite_values        warning   any +/- infinity
mixed_types            warning   an object column holds numbers and text
duplicate_rows         warning   any row repeats an earlier one exactly
imbalanced_target      warning   the rarest class is < 10% of the commonest
high_cardinality       info      a categorical column with > 50 distinct labels
id_like                info      kind ``id``, or every value distinct (not floats)
skewed                 info      |skew| >= 2 (numbers with more than 2 values)
mostly_zeros           info      >= 50% zeros (numbers with more than 2 values)
=====================  ========  ====================================================
"""

from __future__ import annotations

from core.profile import SEVERITIES, Alert, ColumnProfile, Profile

__all__ = ["find_alerts", "ALMOST_CONSTANT", "HIGH_MISSING", "SOME_MISSING", "HIGH_CARDINALITY",
           "SKEWED", "MOSTLY_ZEROS", "IMBALANCE"]

ALMOST_CONSTANT = 0.99
HIGH_MISSING = 0.5
SOME_MISSING = 0.2
HIGH_CARDINALITY = 50
SKEWED = 2.0
MOSTLY_ZEROS = 0.5
IMBALANCE = 0.1


def _pct(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 or share == 0 else "under 1%"


def _column_alerts(c: ColumnProfile) -> list[Alert]:
    out: list[Alert] = []
    q = f"'{c.name}'"
    total = c.count + c.missing
    if total and c.count == 0:
        return [Alert("all_missing", c.name, "warning", f"Every value of {q} is missing; it carries no information.")]
    if c.distinct == 1:
        where = "in every row" if c.missing == 0 else "wherever it is not missing"
        out.append(Alert("constant", c.name, "warning",
                         f"{q} has the same value ({c.top[0][0]}) {where}; it carries no information."))
    elif c.distinct > 1 and c.top and c.top[0][1] / c.count >= ALMOST_CONSTANT:
        out.append(Alert("almost_constant", c.name, "info",
                         f"{q} is {c.top[0][0]} in {_pct(c.top[0][1] / c.count)} of the rows that have a value."))
    share = c.missing_share
    if share >= SOME_MISSING:
        out.append(Alert("high_missing", c.name, "warning" if share >= HIGH_MISSING else "info",
                         f"{_pct(share)} of {q} is missing ({c.missing:,} of {total:,} rows)."))
    numbers = c.numbers or {}
    if numbers.get("infinite"):
        out.append(Alert("infinite_values", c.name, "warning",
                         f"{q} has {numbers['infinite']:,} infinite values; most statistics and models cannot use them."))
    if c.value_types:
        parts = ", ".join(f"{k} ({v:,} rows)" for k, v in c.value_types.items())
        out.append(Alert("mixed_types", c.name, "warning",
                         f"{q} mixes types: {parts}. Convert it to one type before using it."))
    if c.kind == "categorical" and c.distinct > HIGH_CARDINALITY:
        out.append(Alert("high_cardinality", c.name, "info",
                         f"{q} has {c.distinct:,} distinct labels; a model may need them grouped or encoded."))
    float_like = c.kind == "float" or (c.numbers is not None and c.dtype.startswith("float"))
    if c.kind == "id" or (c.count >= 20 and c.distinct == c.count and c.missing == 0 and not float_like
                          and c.kind not in ("datetime", "text")):
        out.append(Alert("id_like", c.name, "info",
                         f"{q} has a different value in every row, like an identifier; it is no feature."))
    if c.numbers and c.distinct > 2 and c.kind in ("integer", "float"):
        skew = numbers.get("skew") or 0.0
        if abs(skew) >= SKEWED:
            side = "right (a long tail of large values)" if skew > 0 else "left (a long tail of small values)"
            out.append(Alert("skewed", c.name, "info", f"{q} is skewed to the {side}: skew {skew:.1f}."))
        if c.count and numbers.get("zeros", 0) / c.count >= MOSTLY_ZEROS:
            out.append(Alert("mostly_zeros", c.name, "info",
                             f"{_pct(numbers['zeros'] / c.count)} of {q} is zero."))
    return out


def _imbalance(profile: Profile) -> Alert | None:
    info = profile.target
    if not info or info.get("task") != "classification":
        return None
    col = profile.column(info["column"])
    chart = col.chart
    if chart.get("type") != "bar" or len(chart.get("counts", [])) < 2:
        return None
    counts = chart["counts"]
    rare, common = min(counts), max(counts)
    if common and rare / common < IMBALANCE:
        label = chart["labels"][counts.index(rare)]
        return Alert("imbalanced_target", col.name, "warning",
                     f"The target '{col.name}' is imbalanced: its rarest class ({label}) has {rare:,} rows, "
                     f"{rare / common:.1%} of the commonest; judge models by balanced metrics.")
    return None


def find_alerts(profile: Profile) -> list[Alert]:
    """Every alert for ``profile``, most severe first (then in column order)."""
    alerts: list[Alert] = []
    for suspect in profile.leakage:
        for column in suspect["columns"]:
            alerts.append(Alert("suspected_leakage", column, "critical", suspect["sentence"]))
    if profile.duplicate_rows:
        share = profile.duplicate_rows / profile.rows
        alerts.append(Alert("duplicate_rows", None, "warning",
                            f"{profile.duplicate_rows:,} rows ({_pct(share)}) repeat an earlier row exactly."))
    imbalance = _imbalance(profile)
    if imbalance:
        alerts.append(imbalance)
    for col in profile.columns:
        alerts.extend(_column_alerts(col))
    order = {name: i for i, name in enumerate(c.name for c in profile.columns)}
    return sorted(alerts, key=lambda a: (SEVERITIES.index(a.severity), -1 if a.column is None
                                         else order.get(a.column, 0)))
