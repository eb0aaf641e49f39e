"""Declarative steps. Importing this package registers every step kind.

Cleaning steps (``stage = "clean"``) and feature steps (``stage = "feature"``)
share one protocol (``core.steps.base.Step``) and one recipe JSON format.
"""

from core.steps import (  # noqa: F401  (each module registers its steps)
    cast,
    columns,
    dates,
    features,
    filter,
    impute,
    outliers,
    rows,
    split,
    text,
    values,
)
from core.steps.base import STEPS, FitContext, Step, register, step_from_dict

__all__ = ["STEPS", "FitContext", "Step", "register", "step_from_dict"]
