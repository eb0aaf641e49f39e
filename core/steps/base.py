"""What every step is: a small frozen value with validated keyword-only parameters.

A step never changes its input. Steps that learn (imputation values, encodings,
scaling) split the work scikit-learn's way: :meth:`Step.fit` returns the learned
state as a plain JSON-able ``dict`` (no pickle, ever), and :meth:`Step.transform`
applies a state to any frame. So a fitted recipe is data: it is stored as JSON,
travels in a model bundle, and replays identically when new rows are scored.

Subclasses declare:

- ``kind``: the tag in the recipe JSON (``{"kind": "drop_columns", ...}``);
- ``stage``: ``"clean"`` (applied to the whole dataset before any split) or
  ``"feature"`` (fitted on training rows only);
- ``training_only``: row steps (filters, deduplication, outlier removal) that are
  skipped when new data is scored;
- ``constraints``: a table ``{parameter: Constraint}`` checked on construction,
  giving messages in scikit-learn's style.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import pandas as pd

from core.errors import ValidationError, param_error

__all__ = [
    "Step", "FitContext", "STEPS", "register", "step_from_dict",
    "Constraint", "OneOf", "Interval", "Columns", "Column", "Text", "Boolean", "Optional", "Scalar",
]

STEPS: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    """Class decorator: make a step kind known to recipes (by its ``kind`` tag)."""
    if cls.kind in STEPS and STEPS[cls.kind] is not cls:
        raise RuntimeError(f"two steps share the kind {cls.kind!r}")
    STEPS[cls.kind] = cls
    return cls


def step_from_dict(data: dict) -> Step:
    """Build a step from its JSON form; unknown kinds and parameters are refused."""
    if not isinstance(data, dict) or "kind" not in data:
        raise ValidationError("A recipe step must be an object with a 'kind' field.",
                              hint=f"Known kinds: {sorted(STEPS)}.")
    kind = data["kind"]
    if kind not in STEPS:
        raise param_error("recipe step", "kind", sorted(STEPS), kind)
    return STEPS[kind].from_dict(data)


# --------------------------------------------------------------------------- constraints


class Constraint:
    """Checks one parameter; ``describe()`` is the 'must be ...' part of the message."""

    def check(self, owner: str, name: str, value: Any) -> Any:
        if not self.ok(value):
            raise param_error(owner, name, self.allowed(), value)
        return value

    def ok(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def allowed(self) -> object:  # list for "one of [...]", else a phrase
        raise NotImplementedError


@dataclass(frozen=True)
class OneOf(Constraint):
    options: tuple

    def __init__(self, *options: Any):
        object.__setattr__(self, "options", tuple(options))

    def ok(self, value: Any) -> bool:
        return value in self.options

    def allowed(self) -> object:
        return list(self.options)


@dataclass(frozen=True)
class Interval(Constraint):
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"
    integer: bool = False

    def ok(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.integer and not float(value).is_integer():
            return False
        lo_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        hi_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return lo_ok and hi_ok

    def allowed(self) -> object:
        what = "an integer" if self.integer else "a number"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{what} in the range {left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Column(Constraint):
    """One column name (a non-empty string)."""

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) and value != ""

    def allowed(self) -> object:
        return "a column name (non-empty text)"


@dataclass(frozen=True)
class Columns(Constraint):
    """A list of distinct column names, at least ``min_items`` long."""

    min_items: int = 1

    def ok(self, value: Any) -> bool:
        return (
            isinstance(value, (list, tuple))
            and len(value) >= self.min_items
            and all(isinstance(v, str) and v != "" for v in value)
            and len(set(value)) == len(value)
        )

    def allowed(self) -> object:
        return f"a list of at least {self.min_items} distinct column name(s)"


@dataclass(frozen=True)
class Text(Constraint):
    allow_empty: bool = True
    max_length: int = 10_000

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) and (self.allow_empty or value != "") and len(value) <= self.max_length

    def allowed(self) -> object:
        return "text" if self.allow_empty else "non-empty text"


@dataclass(frozen=True)
class Boolean(Constraint):
    def ok(self, value: Any) -> bool:
        return isinstance(value, bool)

    def allowed(self) -> object:
        return "true or false"


@dataclass(frozen=True)
class Scalar(Constraint):
    """A JSON scalar: text, number, boolean or null (a value to compare or fill with)."""

    def ok(self, value: Any) -> bool:
        if isinstance(value, float):
            return math.isfinite(value)
        return value is None or isinstance(value, (str, int, bool))

    def allowed(self) -> object:
        return "text, a finite number, true/false or null"


@dataclass(frozen=True)
class Optional(Constraint):
    inner: Constraint

    def ok(self, value: Any) -> bool:
        return value is None or self.inner.ok(value)

    def allowed(self) -> object:
        inner = self.inner.allowed()
        return f"None or {inner}" if not isinstance(inner, list) else [None, *inner]


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class FitContext:
    """What a fitting step may know besides the rows: roles, kinds and the seed."""

    target: str | None = None
    time: str | None = None
    id: str | None = None
    group: str | None = None
    kinds: dict[str, str] = dataclasses.field(default_factory=dict)
    seed: int = 0

    @classmethod
    def of_dataset(cls, roles: dict | None, schema: dict | None, seed: int = 0) -> FitContext:
        """The context of a stored dataset: its roles and the column kinds of its schema."""
        roles = roles or {}
        kinds = {name: col.get("kind") for name, col in ((schema or {}).get("columns") or {}).items()}
        return cls(target=roles.get("target"), time=roles.get("time"), id=roles.get("id"),
                   group=roles.get("group"), kinds=kinds, seed=seed)


@dataclass(frozen=True, kw_only=True)
class Step:
    """Base class. Subclasses are ``@register``-ed frozen, keyword-only dataclasses."""

    kind: ClassVar[str] = ""
    stage: ClassVar[str] = "clean"
    training_only: ClassVar[bool] = False
    learns: ClassVar[bool] = False
    needs_target: ClassVar[bool] = False
    label: ClassVar[str] = ""  # shown in menus
    constraints: ClassVar[dict[str, Constraint]] = {}

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (list, tuple)):  # JSON gives lists; keep steps hashable
                object.__setattr__(self, f.name, _freeze(value))
                value = getattr(self, f.name)
            constraint = self.constraints.get(f.name)
            if constraint is not None:
                constraint.check(owner, f.name, value)
        self.validate()

    # -- to override ---------------------------------------------------------------

    def validate(self) -> None:
        """Checks across parameters (called after each parameter passed its own check)."""

    def columns_in(self) -> list[str]:
        """Columns this step reads; a missing one is reported before the step runs."""
        return []

    def fit(self, frame: pd.DataFrame, context: FitContext) -> dict:
        """Learn state from ``frame`` (training rows). Must return JSON-able data."""
        return {}

    def transform(self, frame: pd.DataFrame, state: dict) -> pd.DataFrame:
        """Return a new frame; never modify ``frame``."""
        raise NotImplementedError

    def fit_transform(self, frame: pd.DataFrame, context: FitContext) -> tuple[pd.DataFrame, dict]:
        """Fit and transform the training rows. Out-of-fold steps override this so
        that no training row sees its own target."""
        state = self.fit(frame, context)
        return self.transform(frame, state), state

    def apply(self, frame: pd.DataFrame, context: FitContext | None = None) -> pd.DataFrame:
        """Fit on ``frame`` and transform it: the step as the analyst sees it."""
        return self.fit_transform(frame, context or FitContext())[0]

    def to_code(self, state: dict | None = None) -> str:
        """Equivalent pandas code acting on a frame named ``df``."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for the recipe list."""
        params = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{self.label or self.kind}({params})"

    # -- shared --------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params()}

    @classmethod
    def from_dict(cls, data: dict) -> Step:
        data = dict(data)
        data.pop("kind", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"{cls.__name__} has no parameter {unknown[0]!r}.",
                hint=f"Its parameters are {sorted(known)}.",
            )
        try:
            return cls(**data)
        except TypeError as exc:
            missing = re.findall(r"'(\w+)'", str(exc))
            raise ValidationError(
                f"{cls.__name__} needs the parameter {missing[0]!r}." if missing else f"{cls.__name__}: {exc}",
                hint=f"Its parameters are {sorted(known)}.",
            ) from None


def _freeze(value: Any) -> Any:
    """Lists (also nested ones, e.g. pairs of values) become tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
