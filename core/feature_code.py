"""Fitted feature steps as Python code that runs without Assay.

The code is a scikit-learn compatible transformer (``fit``/``transform``) whose
``transform`` replays each feature step with the state it learned on the training
rows. The functions it calls are the very kernels Assay runs (their source is
copied, see ``core.steps.codegen``), so the columns match exactly.

``fit`` does not learn again: the state is the one the model was trained with, and
re-learning it on other rows would give the model columns it has never seen.

Everything taken from the user (column names, formulas, learned categories) enters
the code only through ``repr`` of plain values, and comments are kept on one line,
so no name can inject code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.errors import ValidationError
from core.steps.base import Step
from core.steps.codegen import kernel_sources

__all__ = ["transformer_class", "transformer_code", "CLASS_NAME"]

CLASS_NAME = "AssayFeatures"


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", " ", str(text))


def transformer_class(steps: Sequence[Step], states: Sequence[dict]) -> list[str]:
    """Source lines of the ``AssayFeatures`` class replaying ``steps`` with ``states``
    (the kernels it calls are found with ``core.steps.codegen.kernel_sources``)."""
    if len(states) != len(steps):
        raise ValidationError("The learned feature states do not match the recipe's feature steps.")
    body = []
    for i, (step, state) in enumerate(zip(steps, states), start=1):
        body += ["", f"# Feature step {i}: {_one_line(step.describe())}", *step.to_code(state).splitlines()]
    return [
        "",
        f"class {CLASS_NAME}(TransformerMixin, BaseEstimator):",
        f'    """The recipe\'s {len(steps)} feature step(s), with what they learned on the training rows.',
        "",
        "    fit() keeps that learned state (it does not learn again), so the columns are",
        "    exactly those the model was trained on; transform() returns a new frame.",
        '    """',
        "",
        "    def fit(self, X, y=None):",
        "        return self",
        "",
        "    def transform(self, X):",
        "        df = X",
        *["        " + line if line else "" for line in body],
        "        return df",
    ]


def transformer_code(steps: Sequence[Step], states: Sequence[dict]) -> str:
    """A Python module defining ``AssayFeatures``: the fitted feature steps as a transformer.

    Needs numpy, pandas and scikit-learn (``from features import AssayFeatures``).
    """
    lines = transformer_class(steps, states)
    helpers = kernel_sources("\n".join(lines))
    head = [
        f'"""Feature steps exported by Assay: {CLASS_NAME}().fit(df).transform(df) adds the model\'s columns."""',
        "import json",
        "",
        "import numpy as np",
        "import pandas as pd",
        "from sklearn.base import BaseEstimator, TransformerMixin",
    ]
    for helper in helpers:
        head += ["", "", helper]
    return "\n".join([*head, "", *lines]) + "\n"
