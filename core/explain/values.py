"""SHAP values for every model family Assay trains, in one additive space per model.

Each family is explained by the tool made for it:

- ``catboost``: CatBoost's own ``ShapValues`` (categorical features handled natively);
- ``rf`` / ``et``: ``shap.TreeExplainer`` on the forest, after the pipeline's ordinal coding;
- ``hgb``: TreeSHAP with the model's own categorical routing (:mod:`core.explain.hgb`);
- ``linear``: ``shap.LinearExplainer`` against the mean of the training sample, on the
  imputed, scaled and one-hot coded columns, summed back to the model-input features
  (a number's value and its missing-value flag, a label's one-hot columns).

**The space.** Base value plus the sum of a row's values equals the model's output in
one space, the one the model adds up in:

- regression: the predicted value;
- one boosted or linear classifier: its raw score: log-odds of the positive class
  (binary), or each class's softmax score (multiclass);
- one forest classifier: the class probability (trees vote with probabilities);
- an ensemble of classifiers: the class probability, because the ensemble averages
  its members' probabilities (:meth:`core.bundle.ModelBundle.raw_prediction`).
  A member that adds up in log-odds is carried over to probability along the straight
  path from its base score to the row's score: each feature gets the share of the
  probability change that its score contribution makes along that path (for a binary
  model ``value * (p(row) - p(base)) / (score(row) - score(base))``; for multiclass the
  same rule with the softmax Jacobian averaged along the path). This keeps the sum
  exact and every sign; per feature it is an attribution of the probability, not a
  Shapley value of it. The member's base value becomes the probability at its base score.

An ensemble's values are the weighted sum of its members' values in that space, so
the ensemble stays additive: ``base = sum(w * member_base)``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from core.errors import ValidationError

__all__ = ["SPACES", "Explainer", "explanation_space", "output_names"]

# space -> how a value is described to users (a unit they can read)
SPACES = {
    "value": "the predicted value",
    "log-odds": "log-odds of the positive class",
    "class score": "the class's raw score (softmax scale)",
    "probability": "probability",
}
_FOREST = ("rf", "et")
_GAUSS = np.polynomial.legendre.leggauss(8)
_PATH_PIECES = 8  # composite Gauss-Legendre: 8 pieces x 8 nodes along the score path
_CHUNK = 256


def explanation_space(bundle) -> str:
    """Where the values of ``bundle``'s explanation add up (see the module docstring)."""
    if bundle.task == "regression":
        return "value"
    if len(bundle.members) > 1 or bundle.members[0].family in _FOREST:
        return "probability"
    return "log-odds" if bundle.task == "binary" else "class score"


def output_names(bundle) -> list[str]:
    """What each explained output is: the target, the positive class, or every class."""
    if bundle.task == "regression":
        return [str(bundle.target)]
    if bundle.task == "binary":
        return [str(bundle.classes[-1])]
    return [str(c) for c in bundle.classes]


class Explainer:
    """SHAP values of one bundle's model-input rows. Build once per model; reuse for many rows.

    >>> ex = Explainer(bundle)                                  # doctest: +SKIP
    >>> values, base = ex.shap_values(bundle.transform(rows))   # (n, outputs, features), (outputs,)
    """

    def __init__(self, bundle, *, threads: int = 2):
        self.bundle = bundle
        self.space = explanation_space(bundle)
        self.outputs = output_names(bundle)
        self.features = list(bundle.feature_names)
        self.threads = threads
        self._k = len(bundle.classes) if bundle.task == "multiclass" else 1
        self._prepared: dict[int, object] = {}

    # -- values -------------------------------------------------------------------

    def shap_values(self, X: pd.DataFrame, progress: Callable[[float, str], None] | None = None):
        """``(values (n, outputs, features), base (outputs,))``; ``base + values.sum(2)`` is :meth:`output`.

        Members are explained one after the other; tree models whose cost grows with
        the rows (HistGradientBoosting, forests) in chunks, so that ``progress(fraction,
        message)`` moves (a job raises from it to cancel). CatBoost and linear members
        take all rows in one call: CatBoost precomputes per call, which chunks would repeat.
        """
        from core.train.zoo import FAMILY_LABELS

        members = self.bundle.members
        total = sum(m.weight for m in members)
        values = np.zeros((len(X), self._k, len(self.features)))
        base = np.zeros(self._k)
        for i, member in enumerate(members):
            name = FAMILY_LABELS.get(member.family, member.family)
            chunk = _CHUNK if member.family in ("hgb", *_FOREST) and progress is not None else max(len(X), 1)
            parts = []
            for start in range(0, len(X), chunk):
                v, b, natural = self._member_values(i, member, X.iloc[start:start + chunk])
                parts.append(v)
                if progress is not None:
                    done = min(start + chunk, len(X))
                    progress((i + done / len(X)) / len(members),
                             f"{name} ({i + 1} of {len(members)}): {done:,} of {len(X):,} rows")
            if not parts:
                continue
            v = np.concatenate(parts)
            if natural != self.space:
                v, b = _to_probability(v, b, self.bundle.task)
            values += v * (member.weight / total)
            base += b * (member.weight / total)
        return values, base

    @property
    def costly(self) -> bool:
        """Does a member cost time for every row (HistGradientBoosting, forests)? CatBoost and linear do not."""
        return any(m.family in ("hgb", *_FOREST) for m in self.bundle.members)

    def seconds_per_row(self, X: pd.DataFrame) -> float:
        """Estimated seconds a row for the members whose cost grows with every row (0 when there are none).

        Timed on one row and on a few more, so that a call's fixed cost (encoding,
        setting up) does not count as rows' cost. Call it after a first warm-up call.
        """
        import time

        slow = [(i, m) for i, m in enumerate(self.bundle.members) if m.family in ("hgb", *_FOREST)]
        if not slow or X.empty:
            return 0.0

        def timed(rows: pd.DataFrame) -> float:
            started = time.monotonic()
            for i, member in slow:
                self._member_values(i, member, rows)
            return time.monotonic() - started

        one = timed(X.iloc[:1])
        m = min(len(X), 64 if one < 0.05 else 16 if one < 0.5 else 4)
        if m < 2:
            return one
        many = timed(X.iloc[:m])
        return max((many - one) / (m - 1), many / m / 20)

    def output(self, X: pd.DataFrame) -> np.ndarray:
        """The model's own output ``(n, outputs)`` in the explanation space (its predict functions, not SHAP)."""
        if self.space in ("value", "probability"):
            out = np.asarray(self.bundle.raw_prediction(X), dtype=float)
            return out.reshape(len(X), -1)
        member = self.bundle.members[0]
        return self._margin(member, X)

    # -- one member ---------------------------------------------------------------

    def _member_values(self, i: int, member, X: pd.DataFrame):
        family = member.family
        if family == "catboost":
            return self._catboost(member.estimator, X)
        if family == "hgb":
            return self._hgb(member.estimator, X)
        if family in _FOREST:
            return self._forest(i, member.estimator, X)
        if family == "linear":
            return self._linear(i, member.estimator, X)
        raise ValidationError(f"Assay cannot explain models of family {family!r}.")

    def _catboost(self, model, X):
        from catboost import Pool

        pool = Pool(X, cat_features=self.bundle.input_spec.categorical)
        raw = np.asarray(model.get_feature_importance(pool, type="ShapValues", thread_count=self.threads))
        if raw.ndim == 2:
            raw = raw[:, None, :]
        values, base = raw[:, :, :-1], raw[0, :, -1] if len(raw) else np.zeros(raw.shape[1])
        return values, np.asarray(base, dtype=float), self._margin_space()

    def _hgb(self, pipeline, X):
        from core.explain.hgb import hgb_shap_values

        prep, model = pipeline.named_steps["prep"], pipeline.named_steps["model"]
        encoded = prep.transform(X)
        values, base = hgb_shap_values(model, encoded)
        values = _by_name(values, list(prep.get_feature_names_out()), self.features)
        if self.bundle.task == "multiclass":
            self._check_classes(model)
        return values, base, self._margin_space()

    def _forest(self, i, pipeline, X):
        prep, model = pipeline.named_steps["prep"], pipeline.named_steps["model"]
        explainer = self._prepared.get(i)
        if explainer is None:
            import shap

            explainer = self._prepared[i] = shap.TreeExplainer(model)
        encoded = prep.transform(X)
        raw = np.asarray(explainer.shap_values(encoded, check_additivity=False), dtype=float)
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        if self.bundle.task == "regression":
            values, base = raw[:, None, :], expected[:1]
        else:
            values, base = self._class_axis(model, np.moveaxis(raw.reshape(len(X), raw.shape[1], -1), 2, 1), expected)
        values = _by_name(values, list(prep.get_feature_names_out()), self.features)
        return values, base, "value" if self.bundle.task == "regression" else "probability"

    def _linear(self, i, pipeline, X):
        prep, model = pipeline.named_steps["prep"], pipeline.named_steps["model"]
        prepared = self._prepared.get(i)
        if prepared is None:
            prepared = self._prepared[i] = self._linear_setup(prep, model)
        explainer, groups = prepared
        encoded = _dense(prep.transform(X))
        raw = np.asarray(explainer.shap_values(encoded), dtype=float)
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        raw = raw[:, None, :] if raw.ndim == 2 else np.moveaxis(raw, 2, 1)
        if self.bundle.task == "multiclass":
            self._check_classes(model)
        return raw @ groups, expected[: raw.shape[1]], self._margin_space()

    def _linear_setup(self, prep, model):
        import shap

        reference = self.bundle.reference_frame()
        if reference.empty:
            raise ValidationError("The model has no sample of its training rows, so its linear part cannot be "
                                  "explained.", hint="Train the model again with this version of Assay.")
        background = _dense(prep.transform(self.bundle.transform(reference)))
        mean = background.mean(axis=0)
        explainer = shap.LinearExplainer(model, (mean, np.diag(background.var(axis=0))))
        return explainer, _linear_groups(prep, self.bundle.input_spec, self.features)

    # -- helpers -------------------------------------------------------------------

    def _margin_space(self) -> str:
        return {"regression": "value", "binary": "log-odds"}.get(self.bundle.task, "class score")

    def _margin(self, member, X: pd.DataFrame) -> np.ndarray:
        """A boosted or linear member's raw score ``(n, outputs)``."""
        model = member.estimator
        if member.family == "catboost":
            from catboost import Pool

            pool = Pool(X, cat_features=self.bundle.input_spec.categorical)
            out = model.predict(pool, prediction_type="RawFormulaVal")
        elif self.bundle.task == "regression":
            out = model.predict(X)
        else:
            out = model.decision_function(X)
        return np.asarray(out, dtype=float).reshape(len(X), -1)

    def _check_classes(self, model) -> None:
        if [int(c) for c in model.classes_] != list(range(self._k)):
            raise ValidationError("This model was fitted without some of the classes, so its scores cannot be "
                                  "explained class by class.", hint="Train it again on rows holding every class.")

    def _class_axis(self, model, values, expected):
        """Forest classifier values ``(n, classes_, f)`` -> ``(n, outputs, f)`` in the task's class order."""
        codes = [int(c) for c in model.classes_]
        n_classes = len(self.bundle.classes)
        full = np.zeros((values.shape[0], n_classes, values.shape[2]))
        full_base = np.zeros(n_classes)
        full[:, codes, :] = values
        full_base[codes] = expected
        if self.bundle.task == "binary":
            return full[:, 1:, :], full_base[1:]
        return full, full_base


def _by_name(values: np.ndarray, encoded_names: list[str], features: list[str]) -> np.ndarray:
    """Reorder the last axis from the encoder's column order to the bundle's feature order."""
    position = {name: j for j, name in enumerate(encoded_names)}
    return values[:, :, [position[f] for f in features]]


def _dense(matrix) -> np.ndarray:
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)


def _linear_groups(prep, spec, features: list[str]) -> np.ndarray:
    """``(encoded columns, features)`` 0/1 matrix: which model-input feature each coded column comes from."""
    slices = prep.output_indices_
    width = max((s.stop for s in slices.values()), default=0)
    groups = np.zeros((width, len(features)))
    index = {f: j for j, f in enumerate(features)}
    columns_of = {name: list(columns) for name, _, columns in prep.transformers_}
    for part in ("num", "num_plain"):  # numbers with missing-value flags, and without
        if part not in prep.named_transformers_ or not columns_of.get(part):
            continue
        imputer = prep.named_transformers_[part].named_steps["impute"]
        start = slices[part].start
        sources = columns_of[part]
        if imputer.indicator_ is not None:
            sources = sources + [sources[k] for k in imputer.indicator_.features_]
        if len(sources) != slices[part].stop - start:
            raise ValidationError("The linear model's number columns do not match its features.")
        for offset, name in enumerate(sources):
            groups[start + offset, index[name]] = 1.0
    if "cat" in prep.named_transformers_ and spec.categorical:
        encoder = prep.named_transformers_["cat"]
        position = slices["cat"].start
        for k, name in enumerate(spec.categorical):
            infrequent = (encoder.infrequent_categories_[k]
                          if getattr(encoder, "infrequent_categories_", None) is not None else None)
            count = len(encoder.categories_[k])
            if infrequent is not None:
                count = count - len(infrequent) + 1
            groups[position:position + count, index[name]] = 1.0
            position += count
        if position != slices["cat"].stop:
            raise ValidationError("The linear model's label columns do not match its features.")
    return groups


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _to_probability(values: np.ndarray, base: np.ndarray, task: str):
    """Carry raw-score values ``(n, outputs, f)`` over to probability (module docstring: the path rule)."""
    score = base[None, :] + values.sum(axis=2)  # (n, outputs)
    if task == "binary":
        b, s = base[0], score[:, 0]
        step = s - b
        tiny = np.abs(step) < 1e-9
        ratio = np.where(tiny, _sigmoid(b) * (1 - _sigmoid(b)),
                         (_sigmoid(s) - _sigmoid(b)) / np.where(tiny, 1.0, step))
        return values * ratio[:, None, None], np.array([_sigmoid(b)])
    step = score - base[None, :]  # (n, k)
    nodes, weights = _GAUSS
    jacobian = np.zeros((len(score), len(base), len(base)))
    for piece in range(_PATH_PIECES):
        for node, weight in zip(nodes, weights):
            t = (piece + (node + 1) / 2) / _PATH_PIECES
            p = _softmax(base[None, :] + t * step)
            jacobian += (weight / 2 / _PATH_PIECES) * (np.einsum("nk,kc->nkc", p, np.eye(len(base)))
                                                      - p[:, :, None] * p[:, None, :])
    return np.einsum("nkc,ncf->nkf", jacobian, values), _softmax(base)
