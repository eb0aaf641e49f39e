"""Columns computed from other columns: a ratio, difference, product or sum of two
columns, and a formula column through Assay's safe formula language (``core.formula``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from core import formula as formulas
from core.errors import ValidationError
from core.steps.features.base import NUMERIC, FeatureStep, as_numbers, column_kind, with_columns
from core.steps.codegen import kernel
from core.steps.base import Column, OneOf, Optional, Text, register

OPS = {"ratio": "per", "difference": "minus", "product": "times", "sum": "plus"}


@kernel
def combine_columns(df, p, s):
    """``left / right``, ``left - right``, ``left * right`` or ``left + right`` (division by
    zero gives a missing value)."""
    a, b = as_numbers(df[p["left"]]), as_numbers(df[p["right"]])
    with np.errstate(all="ignore"):
        if p["op"] == "ratio":
            values = np.where(b != 0, a / b, np.nan)
        elif p["op"] == "difference":
            values = a - b
        elif p["op"] == "product":
            values = a * b
        else:
            values = a + b
    values[~np.isfinite(values)] = np.nan
    return with_columns(df, {s["name"]: values})


@register
@dataclass(frozen=True, kw_only=True)
class Combine(FeatureStep):
    """A new column from two number columns: their ratio, difference, product or sum.
    Named ``<left>_per_<right>`` (``_minus_``, ``_times_``, ``_plus_``) unless ``name`` is given."""

    kind: ClassVar[str] = "combine"
    label: ClassVar[str] = "Combine two columns"
    group: ClassVar[str] = "Numbers"
    summary: ClassVar[str] = "Ratio, difference, product or sum of two number columns."
    accepts: ClassVar[dict] = {"left": NUMERIC, "right": NUMERIC}
    constraints: ClassVar[dict] = {"left": Column(), "right": Column(), "op": OneOf(*OPS),
                                   "name": Optional(Text(allow_empty=False, max_length=200))}
    replay = staticmethod(combine_columns)
    left: str
    right: str
    op: str = "ratio"
    name: str | None = None

    def columns_in(self) -> list[str]:
        return [self.left, self.right]

    @property
    def output(self) -> str:
        return self.name or f"{self.left}_{OPS[self.op]}_{self.right}"

    def _fit(self, frame, context) -> dict:
        self.new_columns(frame, [self.output])
        return {"name": self.output}

    def describe(self) -> str:
        sign = {"ratio": "/", "difference": "-", "product": "×", "sum": "+"}[self.op]
        return f"{self.output!r} = {self.left!r} {sign} {self.right!r}"


@lru_cache(maxsize=256)
def _parsed(text: str) -> formulas.Formula:
    return formulas.parse(text)


def formula_column(df, p, s):
    """Evaluate the checked formula over the frame's columns (never with eval)."""
    parsed = _parsed(p["expression"])
    arrays = {c: as_numbers(df[c]) for c in parsed.columns}
    return with_columns(df, {p["name"]: formulas.evaluate_arrays(parsed, arrays, len(df))})


@register
@dataclass(frozen=True, kw_only=True)
class FormulaColumn(FeatureStep):
    """A new number column from a formula such as ``log(price) / carat`` or
    ``where(`unit price` > 0, total / `unit price`, 0)``. Only column names, numbers,
    ``+ - * / **``, parentheses, comparisons and the functions log, exp, sqrt, abs, min,
    max, clip and where are accepted; anything else is refused before anything runs."""

    kind: ClassVar[str] = "formula"
    label: ClassVar[str] = "Formula column"
    group: ClassVar[str] = "Formula"
    summary: ClassVar[str] = "A number column from a formula over other columns."
    constraints: ClassVar[dict] = {"name": Column(), "expression": Text(allow_empty=False,
                                                                         max_length=formulas.MAX_LENGTH)}
    replay = staticmethod(formula_column)
    name: str
    expression: str

    def validate(self) -> None:
        _parsed(self.expression)  # refuses forbidden syntax when the step is made

    def columns_in(self) -> list[str]:
        return list(_parsed(self.expression).columns)

    def _fit(self, frame, context) -> dict:
        self.new_columns(frame, [self.name])
        for column in self.columns_in():
            kind = column_kind(frame, column, context)
            if kind not in NUMERIC:
                raise ValidationError(f"The formula uses {column!r}, which is a {kind} column, not a number.",
                                      hint="Encode it with a category or date step first, or pick a number column.")
        return {}

    def to_code(self, state: dict | None = None) -> str:
        parsed = _parsed(self.expression)
        return "\n".join([
            f"# {self.name!r} = {self.expression!r}",
            f"c = {{name: as_numbers(df[name]) for name in {list(parsed.columns)!r}}}",
            "with np.errstate(all='ignore'):",
            f"    values = np.asarray({formulas.to_code(parsed, 'c')}, dtype=float)",
            "values = np.broadcast_to(values, (len(df),)).copy()",
            "values[~np.isfinite(values)] = np.nan",
            f"df = with_columns(df, {{{self.name!r}: values}})",
        ])

    def describe(self) -> str:
        return f"{self.name!r} = {self.expression}"
