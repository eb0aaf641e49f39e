"""What every feature step shares.

A feature step learns on training rows only (``fit`` returns plain JSON state) and
replays that state on any rows. The replay is a *kernel* (``core.steps.codegen``):
a pure function ``replay(df, p=params, s=state) -> new df`` using only numpy,
pandas and other kernels, whose source is copied into exported code (see
``core.feature_code``), so a model scored outside Assay gets exactly the columns it
was trained on.

Column kinds are checked before a step runs: a step names the kinds each of its
column parameters accepts (``accepts``), and a column of another kind is refused
with a message saying what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np
import pandas as pd

from core import jsonutil
from core.errors import ValidationError
from core.leakage import detect_task  # the rule the leakage check and training use
from core.steps.base import Constraint, FitContext
from core.steps.codegen import KernelStep, kernel

__all__ = [
    "FeatureStep", "column_kind", "kinds_of", "SubsetOf",
    "IntList", "with_columns", "keys_of", "lookup", "as_numbers", "candidate_columns",
    "NUMERIC", "DATETIME", "CATEGORY", "TEXT", "TIME", "detect_task",
]

NUMERIC = frozenset({"integer", "float", "boolean"})
DATETIME = frozenset({"datetime"})
CATEGORY = frozenset({"categorical", "boolean", "integer", "id", "text"})
TEXT = frozenset({"text", "categorical"})
TIME = frozenset({"datetime", "integer", "float"})
_KIND_WORDS = {NUMERIC: "number", DATETIME: "date/time", CATEGORY: "category", TEXT: "text",
               TIME: "date/time or number"}
# which stored forms (dtype families) a declared kind may have
_STORED_AS = {
    "integer": {"integer", "float"}, "float": {"float", "integer"}, "boolean": {"boolean"},
    "datetime": {"datetime"}, "categorical": {"categorical", "integer", "boolean"},
    "text": {"categorical"}, "id": {"integer", "categorical"},
}

# --------------------------------------------------------------------------- kernels shared by the steps


@kernel
def keys_of(series):
    """Category values as text keys (missing -> None), so that 1, 1.0 and "1" read alike."""
    s = series
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if not pd.api.types.is_numeric_dtype(s) and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        s = s.astype(object)  # already text: only missing values need a uniform None
        return s.where(s.notna(), None) if s.hasnans else s
    if pd.api.types.is_bool_dtype(s):
        out = s.map({True: "True", False: "False"})
    elif pd.api.types.is_float_dtype(s):
        whole = s.notna() & (s % 1 == 0) & (s.abs() < 2 ** 53)  # exactly representable whole numbers
        out = s.astype(object).where(s.notna(), None)
        out[whole] = s[whole].astype("int64").astype(str)
        out[s.notna() & ~whole] = s[s.notna() & ~whole].astype(str)
    else:
        out = s.astype(object).where(s.notna(), None)
        present = out.notna()
        out[present] = out[present].astype(str)
    return out.astype(object)


@kernel
def lookup(keys, categories):
    """The position of each key (from ``keys_of``) in the list ``categories``; -1 where it
    is not there. A missing key (None) matches a None in ``categories``."""
    codes, uniques = pd.factorize(keys)  # the hashing runs once per distinct key, not per row
    found = pd.Index(categories, dtype=object).get_indexer(pd.Index(uniques, dtype=object))
    missing_at = next((i for i, c in enumerate(categories) if c is None), -1)
    return np.append(found, missing_at)[codes]  # code -1 (missing) takes the last element


@kernel
def as_numbers(series):
    """A column as float64 (booleans 0/1, text that is not a number -> NaN, inf -> NaN)."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


# --------------------------------------------------------------------------- kinds


def _stored_family(series: pd.Series) -> str:
    from core.schema import dtype_family

    family = dtype_family(series)
    return "categorical" if family == "other" else family


def column_kind(frame: pd.DataFrame, column: str, context: FitContext) -> str:
    """The column's kind: as declared in the dataset's schema when the values are stored
    that way, else read from how it is stored (columns made by earlier steps)."""
    family = _stored_family(frame[column])
    declared = (context.kinds or {}).get(column)
    declared = getattr(declared, "value", declared)
    if declared in _STORED_AS and family in _STORED_AS[declared]:
        return declared
    return family


def kinds_of(frame: pd.DataFrame, context: FitContext) -> dict[str, str]:
    """``{column: kind}`` for every column of ``frame``."""
    return {c: column_kind(frame, c, context) for c in frame.columns}


@dataclass(frozen=True)
class SubsetOf(Constraint):
    """A non-empty list of distinct values from ``options``."""

    options: tuple

    def __init__(self, *options: Any):
        object.__setattr__(self, "options", tuple(options))

    def ok(self, value: Any) -> bool:
        return (isinstance(value, (list, tuple)) and len(value) > 0 and len(set(value)) == len(value)
                and all(v in self.options for v in value))

    def allowed(self) -> object:
        return f"a non-empty list of distinct values from {list(self.options)!r}"


@dataclass(frozen=True)
class IntList(Constraint):
    """A non-empty list of distinct whole numbers in [low, high]."""

    low: int = 1
    high: int = 10_000

    def ok(self, value: Any) -> bool:
        return (isinstance(value, (list, tuple)) and len(value) > 0 and len(set(value)) == len(value)
                and all(isinstance(v, int) and not isinstance(v, bool) and self.low <= v <= self.high
                        for v in value))

    def allowed(self) -> object:
        return f"a non-empty list of distinct whole numbers from {self.low} to {self.high}"


@kernel
def with_columns(df, new, drop=()):
    """A new frame: ``df`` without the ``drop`` columns, with ``new`` ({name: values}) set.

    Existing names are replaced in place; new names are added at the end. ``df`` is not
    changed, and its data is shared, not copied (``drop``, ``concat`` and ``assign`` would
    copy every column: seconds on a million rows).
    """
    import warnings

    out = df.copy(deep=False)
    for name in drop:
        del out[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)  # many inserts fragment the frame
        for name, values in new.items():
            out[name] = values
    return out


# --------------------------------------------------------------------------- the base class


@dataclass(frozen=True, kw_only=True)
class FeatureStep(KernelStep):
    """Base class of feature steps: fitted on training rows, replayed by a kernel.

    Subclasses set ``replay = staticmethod(fn)`` (a kernel ``fn(df, p, s)``), ``group``
    and ``summary`` (shown on the Features page), ``accepts`` ({column parameter: kinds})
    and implement ``_fit``. ``uses_target = True`` lets a step read the target column as
    an input (group aggregates, lags); any other step is refused when it names the target.
    """

    stage: ClassVar[str] = "feature"
    learns: ClassVar[bool] = True
    group: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    accepts: ClassVar[dict[str, frozenset]] = {}
    uses_target: ClassVar[bool] = False
    replay: ClassVar[Callable]

    # -- fitting ---------------------------------------------------------------------

    def fit(self, frame: pd.DataFrame, context: FitContext) -> dict:
        self.check_inputs(frame, context)
        return self.state_of(self._fit(frame, context))

    def state_of(self, learned: dict) -> dict:
        """The JSON state kept for replay: what was learned, tagged with the step's kind."""
        return jsonutil.to_jsonable({"kind": self.kind, **learned})

    def fit_transform(self, frame: pd.DataFrame, context: FitContext) -> tuple[pd.DataFrame, dict]:
        state = self.fit(frame, context)  # JSON-plain: the training rows see what scoring sees
        return self.transform(frame, state), state

    def _fit(self, frame: pd.DataFrame, context: FitContext) -> dict:
        return {}

    def kernel_call(self, state: dict) -> tuple[Callable, dict]:
        if not state or state.get("kind") != self.kind:
            raise ValidationError(
                f"{self.label} must be fitted on training rows before it can run; its learned state is missing"
                + (f" (this state belongs to a {state.get('kind')!r} step)." if state else "."),
                hint="Fit the recipe on the training rows first (training does this).")
        return type(self).replay, {"p": self.params(), "s": state}

    # -- checks ----------------------------------------------------------------------

    def check_inputs(self, frame: pd.DataFrame, context: FitContext) -> None:
        """Refuse wrong column kinds, a missing target, and the target used as an input."""
        name = self.label or type(self).__name__
        if self.needs_target and not context.target:
            raise ValidationError(f"{name} needs a target, and this dataset has none.",
                                  hint="Set the target column on the Data page first "
                                       "(or pass --target to `assay features`).")
        if self.needs_target and context.target not in frame.columns:
            raise ValidationError(f"{name} needs the target column {context.target!r}, which is not in the rows.",
                                  hint="Fit it on training rows that include the target.")
        used = self.columns_in()
        if context.target and context.target in used and not self.uses_target:
            raise ValidationError(
                f"{name} uses the target {context.target!r} as an input. New rows have no target, so this "
                "feature could not be computed when scoring, and it would give the answer away in training.",
                hint="Pick other columns.")
        for param, kinds in self.accepts.items():
            value = getattr(self, param)
            for column in [value] if isinstance(value, str) else (value or ()):
                if column not in frame.columns:
                    raise ValidationError(f"{name} uses the column {column!r}, which is not in the data.",
                                          hint="Pick one of the table's columns.")
                kind = column_kind(frame, column, context)
                if kind not in kinds:
                    raise ValidationError(
                        f"{name} works on {_KIND_WORDS.get(kinds, '/'.join(sorted(kinds)))} columns; "
                        f"{column!r} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} column.",
                        hint="Pick another column, or change its kind on the Data page if it is read wrongly.")

    def new_columns(self, frame: pd.DataFrame, names: list[str], replaced: tuple[str, ...] = ()) -> list[str]:
        """Refuse output names that would overwrite a column this step does not replace."""
        clash = [n for n in names if n in frame.columns and n not in replaced]
        if clash:
            raise ValidationError(
                f"{self.label or type(self).__name__} would create the column {clash[0]!r}, which already exists.",
                hint="Give the new column another name, or remove the step that made the existing one.")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ValidationError(f"{self.label or type(self).__name__} would create two columns named {dup!r}.",
                                  hint="Choose distinct names.")
        return names


def candidate_columns(frame: pd.DataFrame, context: FitContext) -> list[str]:
    """Columns a whole-table step (selection, missing indicators) may touch: not the target
    or another role column."""
    roles = {context.target, context.time, context.id, context.group} - {None}
    return [c for c in frame.columns if c not in roles]
