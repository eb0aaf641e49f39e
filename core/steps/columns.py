"""Column-level cleaning steps: drop and rename."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from core.errors import ValidationError
from core.steps.base import Columns, Step, register


@register
@dataclass(frozen=True, kw_only=True)
class DropColumns(Step):
    """Remove columns.

    >>> DropColumns(columns=["b"]).apply(pd.DataFrame({"a": [1], "b": [2]})).columns.tolist()
    ['a']
    """

    kind: ClassVar[str] = "drop_columns"
    label: ClassVar[str] = "Drop columns"
    constraints: ClassVar[dict] = {"columns": Columns()}
    columns: tuple[str, ...]

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def transform(self, frame: pd.DataFrame, state: dict) -> pd.DataFrame:
        return frame.drop(columns=list(self.columns))

    def to_code(self, state: dict | None = None) -> str:
        return f"df = df.drop(columns={list(self.columns)!r})"

    def describe(self) -> str:
        return f"Drop {', '.join(map(repr, self.columns))}"


@register
@dataclass(frozen=True, kw_only=True)
class RenameColumns(Step):
    """Rename columns: ``mapping`` is ``{old: new}``."""

    kind: ClassVar[str] = "rename_columns"
    label: ClassVar[str] = "Rename columns"
    mapping: dict[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.mapping, dict) or not self.mapping:
            raise ValidationError(
                "The 'mapping' parameter of RenameColumns must be a non-empty object {old: new}. "
                f"Got {self.mapping!r} instead."
            )
        for old, new in self.mapping.items():
            if not isinstance(new, str) or not new.strip():
                raise ValidationError(
                    f"The new name for {old!r} in RenameColumns must be non-empty text. Got {new!r} instead."
                )
        if len(set(self.mapping.values())) != len(self.mapping):
            raise ValidationError("RenameColumns gives two columns the same new name.",
                                  hint="Give each column its own name.")
        super().__post_init__()

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted(self.mapping.items()))))

    def columns_in(self) -> list[str]:
        return list(self.mapping)

    def transform(self, frame: pd.DataFrame, state: dict) -> pd.DataFrame:
        clash = sorted(set(self.mapping.values()) & (set(frame.columns) - set(self.mapping)))
        if clash:
            raise ValidationError(f"Renaming would create a second column named {clash[0]!r}.",
                                  hint="Pick a name that is not already in the data.")
        return frame.rename(columns=dict(self.mapping))

    def to_code(self, state: dict | None = None) -> str:
        return f"df = df.rename(columns={dict(self.mapping)!r})"

    def describe(self) -> str:
        return "Rename " + ", ".join(f"{k!r} → {v!r}" for k, v in self.mapping.items())
