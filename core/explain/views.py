"""Ways into an explanation: which rows to look at, which feature interacts, and probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InputError, param_error
from core.explain.result import Explanation

__all__ = ["PICKS", "pick_rows", "strongest_interaction", "to_probability", "numeric_view"]

PICKS = ("largest errors", "highest predicted", "lowest predicted")


def _proba_column(expl: Explanation, output: str) -> str | None:
    for column in expl.predictions.columns:
        if column.startswith("proba:") and column[len("proba:"):] == output:
            return column
    return None


def _score(expl: Explanation, k: int) -> pd.Series:
    """What "predicted" means for output ``k``: the value, or the class's probability."""
    if expl.task == "regression":
        return expl.predictions["prediction"].astype(float)
    return expl.predictions[_proba_column(expl, expl.outputs[k])].astype(float)


def pick_rows(expl: Explanation, how: str, k: int = 0, limit: int = 25) -> pd.DataFrame:
    """The rows worth a look, best first: ``row``, ``prediction``, ``actual`` and the score used to rank.

    ``how`` is one of :data:`PICKS`. For "largest errors" the error is ``|actual -
    prediction|`` (regression) or one minus the probability given to the actual
    class (classification); rows without a target value are left out.
    """
    if how not in PICKS:
        raise param_error("row picking", "how", list(PICKS), how)
    out = pd.DataFrame({"row": expl.X.index, "prediction": expl.predictions["prediction"].to_numpy()},
                       index=expl.X.index)
    if expl.actual is not None:
        out["actual"] = expl.actual.to_numpy()
    if how == "largest errors":
        if expl.actual is None or expl.actual.isna().all():
            raise InputError("These rows have no target values, so errors cannot be ranked.",
                             hint="Explain data that holds the target, or pick rows by prediction.")
        if expl.task == "regression":
            score = (expl.actual.astype(float) - expl.predictions["prediction"].astype(float)).abs()
            label = "error"
        else:
            given = [_given(expl, i, actual) for i, actual in enumerate(expl.actual.to_numpy())]
            score = pd.Series(1.0 - np.asarray(given, dtype=float), index=expl.X.index)
            label = "1 - probability of the actual class"
        out[label] = score.to_numpy()
        out = out[out[label].notna()].sort_values(label, ascending=False, kind="stable")
    else:
        label = "predicted value" if expl.task == "regression" else f"probability of {expl.outputs[k]}"
        out[label] = _score(expl, k).to_numpy()
        out = out.sort_values(label, ascending=how == "lowest predicted", kind="stable")
    return out.head(limit).reset_index(drop=True)


def _given(expl: Explanation, i: int, actual) -> float:
    if actual is None or (isinstance(actual, float) and np.isnan(actual)):
        return np.nan
    column = _proba_column(expl, str(actual))
    return float(expl.predictions[column].iloc[i]) if column else 0.0


def numeric_view(expl: Explanation) -> pd.DataFrame:
    """Model-input values as numbers (labels as their sorted position), for colours and interactions."""
    out = {}
    for f in expl.features:
        column = expl.X[f]
        if f in expl.categorical:
            labels = sorted(column.dropna().astype(str).unique())
            out[f] = column.astype(str).map({v: float(i) for i, v in enumerate(labels)}).where(column.notna())
        else:
            out[f] = pd.to_numeric(column, errors="coerce").astype(float)
    return pd.DataFrame(out, index=expl.X.index)


def strongest_interaction(expl: Explanation, feature: str, k: int = 0) -> str | None:
    """The feature whose values best explain the spread of ``feature``'s SHAP values (shap's heuristic)."""
    from shap.utils import approximate_interactions

    if len(expl.features) < 2 or expl.n < 10:
        return None
    numbers = numeric_view(expl).iloc[:10_000]  # shap samples with numpy's global state above 10,000 rows
    j = expl.features.index(feature)
    order = approximate_interactions(j, expl.values[:10_000, k, :], numbers.to_numpy(), feature_names=expl.features)
    best = [expl.features[i] for i in order if i != j]
    return best[0] if best else None


def to_probability(expl: Explanation, k: int, scores: np.ndarray) -> np.ndarray | None:
    """Probabilities for scores of output ``k`` in the explanation's space (None for regression).

    Log-odds go through the logistic function. A multiclass class score alone does not
    fix a probability (it depends on the other classes' scores), so None is returned.
    """
    scores = np.asarray(scores, dtype=float)
    if expl.space == "probability":
        return scores
    if expl.space == "log-odds":
        return 1.0 / (1.0 + np.exp(-scores))
    return None
