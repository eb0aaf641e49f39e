"""The model-input table: which columns a model sees, and in what form.

After the recipe, each column becomes numbers, labels, date parts, or is left out
with a reason the leaderboard shows:

- integer, float and boolean columns are numbers (``float64``, ``inf`` -> missing);
- categorical columns are labels (text; missing becomes ``"(missing)"``), which
  CatBoost uses natively and the scikit-learn models encode;
- dates become their parts (year, month, day, weekday, hour when times vary, and
  days since 1970, which carries the trend);
- identifiers, free text, the group column and constant columns are left out.

The choice is learned once, on training rows, and stored (``InputSpec.to_dict``)
so that scoring builds exactly the same table. It is deterministic: nothing about
values is learned here (the model pipelines learn encodings and scalings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import ValidationError

__all__ = ["InputSpec", "MISSING_LABEL", "infer_spec"]

MISSING_LABEL = "(missing)"
ROLES = ("numeric", "categorical", "datetime")
_DATE_PARTS = ("year", "month", "day", "weekday", "hour", "days")
_MAX_LABELS_SHARE = 0.95  # a label column unique on almost every row is an identifier


@dataclass(frozen=True)
class InputSpec:
    """``columns``: ``(column, role)`` pairs in model order; ``parts``: date parts kept per date column."""

    columns: tuple[tuple[str, str], ...]
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.columns, tuple(sorted(self.parts.items()))))

    @property
    def feature_names(self) -> list[str]:
        names = []
        for column, role in self.columns:
            if role == "datetime":
                names += [f"{column}.{part}" for part in self.parts[column]]
            else:
                names.append(column)
        return names

    @property
    def categorical(self) -> list[str]:
        return [c for c, role in self.columns if role == "categorical"]

    @property
    def numeric(self) -> list[str]:
        """Model-input columns that hold numbers (date parts included)."""
        cats = set(self.categorical)
        return [n for n in self.feature_names if n not in cats]

    @property
    def source_columns(self) -> list[str]:
        return [c for c, _ in self.columns]

    def transform(self, frame: pd.DataFrame, *, lenient: bool = False) -> pd.DataFrame:
        """The model-input table for ``frame`` (index kept).

        A missing column is an error, unless ``lenient``: then it counts as missing
        values (a feature step fitted on other rows may not make every column).
        """
        missing = [c for c in self.source_columns if c not in frame.columns]
        if missing and lenient:
            frame = frame.assign(**{c: np.nan for c in missing})
        elif missing:
            shown = ", ".join(repr(c) for c in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise ValidationError(
                f"The rows lack {len(missing)} column(s) the model needs: {shown}.",
                hint="Give the model rows with the same columns as the training data.",
            )
        out: dict[str, pd.Series] = {}
        for column, role in self.columns:
            series = frame[column]
            if role == "numeric":
                out[column] = _numbers(series)
            elif role == "categorical":
                out[column] = _labels(series)
            else:
                stamps = _dates(series)
                for part in self.parts[column]:
                    out[f"{column}.{part}"] = _date_part(stamps, part)
        return pd.DataFrame(out, index=frame.index, columns=self.feature_names)

    def to_dict(self) -> dict:
        return {"columns": [list(pair) for pair in self.columns],
                "parts": {k: list(v) for k, v in self.parts.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> InputSpec:
        try:
            columns = tuple((str(c), str(r)) for c, r in data["columns"])
            parts = {str(k): tuple(map(str, v)) for k, v in data.get("parts", {}).items()}
        except (KeyError, TypeError, ValueError):
            raise ValidationError("The model's input description is damaged.") from None
        bad = [r for _, r in columns if r not in ROLES] + [p for v in parts.values() for p in v if p not in _DATE_PARTS]
        if bad:
            raise ValidationError(f"The model's input description has an unknown entry {bad[0]!r}.")
        return cls(columns, parts)


def _numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan, copy=True)  # numpy: a pandas call per column
    else:                                                                   # dominated scoring a single row
        values = pd.to_numeric(series.astype(object).map(_bool_as_number), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    return pd.Series(values, index=series.index, name=series.name)


def _bool_as_number(value):
    return float(value) if isinstance(value, (bool, np.bool_)) else value


def _labels(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    mask = values.isna()
    text = values.map(_label_text)
    return text.where(~mask, MISSING_LABEL).astype(object)


def _label_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 3.0 and 3 are the same label (CSV floats vs ints)
    return str(value)


def _dates(series: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series.astype(object), errors="coerce", format="mixed", utc=True)
    if getattr(series.dtype, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series


def _date_part(stamps: pd.Series, part: str) -> pd.Series:
    if part == "days":
        values = (stamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    elif part == "weekday":
        values = stamps.dt.weekday
    else:
        values = getattr(stamps.dt, part)
    return values.astype("float64")


def infer_spec(
    frame: pd.DataFrame, kinds: dict[str, str] | None = None, *, exclude: set[str] | frozenset = frozenset()
) -> tuple[InputSpec, dict[str, str]]:
    """Decide each column's role from its kind (or dtype); return the spec and the left-out columns.

    ``kinds`` maps column names to the kinds of :mod:`core.schema` (from the dataset's
    schema); columns made by the recipe fall back to their dtype. ``exclude`` names
    columns that are never features (target, id, group).
    """
    kinds = kinds or {}
    columns: list[tuple[str, str]] = []
    parts: dict[str, tuple[str, ...]] = {}
    dropped: dict[str, str] = {}
    for column in map(str, frame.columns):
        if column in exclude:
            continue
        series = frame[column]
        kind = kinds.get(column) or _kind_from_dtype(series)
        if pd.api.types.is_datetime64_any_dtype(series):
            kind = "datetime"
        if kind == "id":
            dropped[column] = "an identifier (one value per row): it cannot generalise"
            continue
        if kind == "text":
            dropped[column] = "free text: add a text feature step to use it"
            continue
        non_missing = series.dropna()
        if non_missing.empty:
            dropped[column] = "every value is missing"
            continue
        if kind in ("integer", "float", "boolean"):
            if _numbers(series).nunique(dropna=True) < 2:
                dropped[column] = "one value in every row"
                continue
            columns.append((column, "numeric"))
        elif kind == "datetime":
            stamps = _dates(series)
            kept = tuple(p for p in _DATE_PARTS if _date_part(stamps, p).nunique(dropna=True) > 1)
            if not kept:
                dropped[column] = "one date in every row"
                continue
            columns.append((column, "datetime"))
            parts[column] = kept
        else:
            n_unique = int(non_missing.astype(str).nunique())
            if n_unique < 2 and not series.isna().any():
                dropped[column] = "one value in every row"
                continue
            if len(non_missing) >= 50 and n_unique > _MAX_LABELS_SHARE * len(non_missing):
                dropped[column] = "a different label on almost every row (an identifier)"
                continue
            columns.append((column, "categorical"))
    if not columns:
        raise ValidationError(
            "No column can be used as a model input" + (f" ({_first(dropped)})" if dropped else "") + ".",
            hint="Keep at least one numeric, categorical or date column besides the target.",
        )
    return InputSpec(tuple(columns), parts), dropped


def _first(dropped: dict[str, str]) -> str:
    column, reason = next(iter(dropped.items()))
    return f"{column!r} is {reason}"


_KIND_OF_FAMILY = {"boolean": "boolean", "integer": "float", "float": "float", "datetime": "datetime",
                   "other": "categorical"}


def _kind_from_dtype(series: pd.Series) -> str:
    from core.schema import dtype_family

    return _KIND_OF_FAMILY[dtype_family(series)]
