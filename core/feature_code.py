"""Fitted feature steps as Python code that runs without Assay.

The code is a scikit-learn compatible transformer (``fit``/``transform``) whose
``transform`` replays each feature step with the state it learned on the training
rows. The functions it calls are the very functions Assay runs (their source is
copied, see ``core.steps.features.base.exported``), so the columns match exactly.

``fit`` does not learn again: the state is the one the model was trained with, and
re-learning it on other rows would give the model columns it has never seen.

Everything taken from the user (column names, formulas, learned categories) enters
the code only through ``repr`` of plain values, and comments are kept on one line,
so no name can inject code.
"""

from __future__ import annotations

from core.recipe import FittedRecipe
from core.steps.features.base import FeatureStep, export_sources

__all__ = ["transformer_code", "script"]


def _comment(text: str) -> str:
    return "# " + " ".join(str(text).splitlines())


def transformer_code(fitted: FittedRecipe, class_name: str = "AssayFeatures") -> str:
    """Python source defining ``class_name``: the fitted feature steps as a transformer."""
    steps = [s for s in fitted.recipe.features if isinstance(s, FeatureStep)]
    helpers = export_sources([fn for step in steps for fn in step.code_helpers()])
    body = []
    for i, (step, state) in enumerate(zip(fitted.recipe.features, fitted.feature_states), start=1):
        body += ["", _comment(f"Feature step {i}: {step.describe()}"), *step.to_code(state).splitlines()]
    lines = [
        "import numpy as np",
        "import pandas as pd",
        "from sklearn.base import BaseEstimator, TransformerMixin",
        *[part for source in helpers for part in ("", "", source)],
        "",
        "",
        f"class {class_name}(TransformerMixin, BaseEstimator):",
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
    return "\n".join(lines) + "\n"


def script(fitted: FittedRecipe, load_code: str = 'df = pd.read_parquet("data.parquet")') -> str:
    """A runnable script: the transformer, then load the data, clean it and add the features."""
    return "\n".join([
        transformer_code(fitted),
        "",
        fitted.recipe.to_code(load_code).rstrip("\n"),
        "",
        "# Feature steps, with the state they learned on the training rows",
        "df = AssayFeatures().fit(df).transform(df)",
        "",
    ])
