"""A trained model as one value: recipe, model input, models, metadata and a reference sample.

A :class:`ModelBundle` scores raw rows the way the training rows were scored: the
fitted recipe replays (training-only row steps skipped), the model-input table is
built (:class:`core.train.prep.InputSpec`), and the members' predictions are
averaged with the ensemble weights. It is stored as a zip that never runs code
when loaded::

    bundle.json        what the model is: task, target, classes, threshold, input schema,
                       feature names, members with their weights, metadata
    recipe.json        the fitted recipe (steps and what they learned), plain JSON
    members/0.cbm      a CatBoost model in CatBoost's own format
    members/1.skops    a scikit-learn pipeline through skops, loaded with an explicit
                       list of trusted types (TRUSTED_TYPES below); no pickle
    reference.parquet  up to 5,000 raw training rows (the baseline for drift and SHAP)
    README.md          how to load it without Assay

>>> bundle = ModelBundle.from_bytes(data)                     # doctest: +SKIP
>>> bundle.predict(new_rows)[["prediction"]]                  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import io
import json
import platform
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core import jsonutil
from core.errors import InputError, ValidationError
from core.recipe import FittedRecipe
from core.train.prep import InputSpec

__all__ = ["ModelBundle", "Member", "TRUSTED_TYPES", "BUNDLE_FORMAT", "BUNDLE_VERSION", "REFERENCE_ROWS"]

BUNDLE_FORMAT = "assay.model"
BUNDLE_VERSION = 1
REFERENCE_ROWS = 5_000
_MAX_UNPACKED = 2 * 1024**3  # refuse zips that would unpack to more than this
_MAX_FILES = 200

# Every type a stored scikit-learn pipeline may contain besides skops' own defaults
# (builtins, numpy arrays, scikit-learn estimators it already trusts). Reviewed by hand:
# none of them can run code on load. ``functools.partial`` is safe to trust because
# skops still checks the function it wraps (a partial of ``os.system`` is refused).
TRUSTED_TYPES = [
    "numpy.dtype",
    "functools.partial",
    "sklearn.utils.validation.check_array",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.Interval",
]

_README = """# Assay model bundle

This zip holds a model trained by Assay. Nothing in it runs code when it is loaded.

| file | what it is |
|---|---|
| `bundle.json` | task, target, classes, decision threshold, input columns, feature names, members and weights, scores |
| `recipe.json` | the cleaning and feature recipe with what its steps learned (plain JSON) |
| `members/N.cbm` | a CatBoost model (CatBoost's own format) |
| `members/N.skops` | a scikit-learn pipeline saved with skops |
| `reference.parquet` | a sample of the raw training rows |

## Load it with Assay

```python
from core.bundle import ModelBundle
bundle = ModelBundle.from_bytes(open("model.zip", "rb").read())
scores = bundle.predict(new_rows)      # "prediction" (+ "proba:<class>" columns)
```

or from the command line: `assay predict model.zip new_rows.csv --out predictions.csv`.

## Load the parts without Assay

```python
import catboost, skops.io
model = catboost.CatBoost().load_model("members/0.cbm")
pipe = skops.io.load("members/1.skops", trusted=skops.io.get_untrusted_types(file="members/1.skops"))
```

Review the list `get_untrusted_types` returns before trusting it. Each member expects the
model-input table described by `bundle.json` (`input_spec`: numbers as floats, labels as
text with missing values as "(missing)", dates split into parts), after the recipe.
The bundle's prediction is the weighted average of the members' outputs (`members[].weight`);
for a binary task the class is the positive one when its probability reaches `threshold`.
"""


@dataclass
class Member:
    """One model of the bundle: its family, the fitted estimator and its ensemble weight."""

    family: str
    estimator: Any
    weight: float = 1.0
    params: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class ModelBundle:
    """A trained model with everything needed to score raw rows.

    ``input_schema`` maps each raw column expected at scoring (before the recipe)
    to its kind; ``feature_names`` are the model-input columns after the recipe.
    For binary tasks ``classes`` is ``[negative, positive]`` and ``threshold`` is the
    positive-class probability from which the positive class is predicted.
    """

    task: str
    target: str
    classes: list | None
    input_schema: dict[str, str]
    feature_names: list[str]
    fitted_recipe: FittedRecipe
    input_spec: InputSpec
    members: list[Member]
    metadata: dict = field(default_factory=dict)
    threshold: float | None = None
    importance: dict[str, float] = field(default_factory=dict)
    _reference: bytes | None = None

    # -- scoring ------------------------------------------------------------------

    @property
    def positive_class(self):
        return self.classes[-1] if self.task == "binary" else None

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Raw rows -> the model-input table (recipe replayed for scoring; index kept)."""
        if not isinstance(frame, pd.DataFrame):
            raise InputError("The rows to score must be a table (a pandas DataFrame).")
        frame = frame.drop(columns=[self.target], errors="ignore")
        missing = [c for c in self.input_schema if c not in frame.columns]
        if missing:
            shown = ", ".join(repr(c) for c in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise InputError(
                f"The rows lack {len(missing)} column(s) the model was trained with: {shown}.",
                hint="Score rows with the same columns as the training data (extra columns are ignored).",
            )
        cleaned = self.fitted_recipe.transform(frame, scoring=True)
        return self.input_spec.transform(cleaned)

    def raw_prediction(self, model_input: pd.DataFrame) -> np.ndarray:
        """Weighted members' output: positive-class probability, class probabilities, or values."""
        from core.train import zoo

        ctx = self._context()
        total = sum(m.weight for m in self.members)
        out = None
        for member in self.members:
            part = zoo.predict(member.family, member.estimator, model_input, ctx) * (member.weight / total)
            out = part if out is None else out + part
        return out

    def predict(self, frame: pd.DataFrame, *, threshold: float | None = None) -> pd.DataFrame:
        """Score raw rows: column ``prediction`` and, for classification, ``proba:<class>`` per class."""
        model_input = self.transform(frame)
        if model_input.empty:
            columns = ["prediction"] + [f"proba:{c}" for c in self.classes or []]
            return pd.DataFrame(columns=columns, index=model_input.index)
        raw = self.raw_prediction(model_input)
        if self.task == "regression":
            return pd.DataFrame({"prediction": raw}, index=model_input.index)
        if self.task == "binary":
            cut = self.threshold if threshold is None else threshold
            proba = np.column_stack([1 - raw, raw])
            codes = (raw >= (0.5 if cut is None else cut)).astype(int)
        else:
            proba = raw
            codes = raw.argmax(axis=1)
        labels = np.asarray(self.classes, dtype=object)[codes]
        out = pd.DataFrame({"prediction": labels}, index=model_input.index)
        for i, label in enumerate(self.classes):
            out[f"proba:{label}"] = proba[:, i]
        return out

    def feature_importance(self) -> dict[str, float]:
        """``{feature: share}`` over ``feature_names``, summing to 1 (learned at training time)."""
        if self.importance:
            return dict(self.importance)
        return {name: 1.0 / len(self.feature_names) for name in self.feature_names}

    def learn_importance(self, model_input: pd.DataFrame, seed: int = 0,
                         deadline: float | None = None) -> dict[str, float]:
        """Compute and keep :meth:`feature_importance` from a sample of model-input rows.

        CatBoost and the forests give their own importances; the other members are
        measured by permutation (mean absolute change of their output when one column
        is shuffled, on at most 500 rows). Each member's shares are weighted by its
        ensemble weight. Members that are one trial fitted on different folds (the
        cross-validation models, averaged: they share a name) are measured once, on
        the first copy, with their weights summed. With ``deadline`` (a
        ``time.monotonic()`` value), members still unmeasured when it passes are left
        out, once at least one member has been measured.
        """
        import time

        sample = model_input.sample(min(len(model_input), 500), random_state=seed) if len(model_input) else model_input
        weights: dict[str, float] = {}
        first: dict[str, Member] = {}
        for i, member in enumerate(self.members):
            key = member.name or f"member {i}"
            weights[key] = weights.get(key, 0.0) + member.weight
            first.setdefault(key, member)
        total = np.zeros(len(self.feature_names))
        for key, member in first.items():
            if deadline is not None and total.sum() > 0 and time.monotonic() > deadline:
                break
            shares = _member_importance(member, sample, self._context(), self.feature_names, seed)
            if shares is not None and shares.sum() > 0:
                total += weights[key] * shares / shares.sum()
        if total.sum() > 0:
            total = total / total.sum()
            self.importance = {name: float(v) for name, v in zip(self.feature_names, total)}
        return self.feature_importance()

    def reference_frame(self) -> pd.DataFrame:
        """A sample (at most 5,000) of the raw training rows, target included."""
        if not self._reference:
            return pd.DataFrame(columns=[*self.input_schema, self.target])
        from core.store import parquet_to_frame

        return parquet_to_frame(self._reference)

    def set_reference(self, frame: pd.DataFrame, seed: int = 0) -> None:
        from core.store import frame_to_parquet

        if len(frame) > REFERENCE_ROWS:
            frame = frame.sample(REFERENCE_ROWS, random_state=seed).sort_index()
        self._reference = frame_to_parquet(frame.reset_index(drop=True))

    def _context(self):
        from core.train import zoo

        n_classes = len(self.classes) if self.classes else 0
        return zoo.ZooContext(task=self.task, n_classes=n_classes, spec=self.input_spec)

    # -- storage ------------------------------------------------------------------

    def manifest(self) -> dict:
        return {
            "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
            "task": self.task, "target": self.target, "classes": self.classes, "threshold": self.threshold,
            "input_schema": self.input_schema, "feature_names": self.feature_names,
            "input_spec": self.input_spec.to_dict(), "importance": self.importance,
            "members": [
                {"file": _member_file(i, m.family), "family": m.family, "weight": m.weight,
                 "params": m.params, "name": m.name}
                for i, m in enumerate(self.members)
            ],
            "metadata": self.metadata,
        }

    def to_bytes(self) -> bytes:
        """The bundle as zip bytes (deterministic member order; no pickle anywhere)."""
        sink = io.BytesIO()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("bundle.json", jsonutil.dumps(self.manifest(), indent=2))
            zf.writestr("recipe.json", jsonutil.dumps(self.fitted_recipe.to_dict(), indent=2))
            for i, member in enumerate(self.members):
                zf.writestr(_member_file(i, member.family), _dump_member(member))
            if self._reference:
                zf.writestr("reference.parquet", self._reference)
            zf.writestr("README.md", _README)
        return sink.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelBundle:
        """Load a bundle; refuses anything that is not a well-formed Assay model zip."""
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, TypeError, ValueError):
            raise InputError("This file is not an Assay model bundle (not a zip).",
                             hint="Download the model again from the Train page or use `assay train --out`.") from None
        with zf:
            infos = zf.infolist()
            if len(infos) > _MAX_FILES or sum(i.file_size for i in infos) > _MAX_UNPACKED:
                raise InputError("The model bundle is too large to be a model.", hint="Check the file.")
            names = {i.filename for i in infos}
            if "bundle.json" not in names or "recipe.json" not in names:
                raise InputError("This zip is not an Assay model bundle (bundle.json is missing).",
                                 hint="Download the model again.")
            try:
                manifest = json.loads(zf.read("bundle.json"))
                recipe = FittedRecipe.from_dict(json.loads(zf.read("recipe.json")))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InputError("The model bundle is damaged (its JSON cannot be read).") from None
            _check_manifest(manifest)
            members = []
            for entry in manifest["members"]:
                if entry["file"] not in names or entry["file"] != _member_file(len(members), entry["family"]):
                    raise InputError(f"The model bundle is damaged ({entry['file']!r} is missing).")
                estimator = _load_member(entry["family"], zf.read(entry["file"]), manifest["task"])
                members.append(Member(entry["family"], estimator, float(entry["weight"]),
                                      dict(entry.get("params", {})), str(entry.get("name", ""))))
            reference = zf.read("reference.parquet") if "reference.parquet" in names else None
        return cls(
            task=manifest["task"], target=manifest["target"], classes=manifest["classes"],
            input_schema=dict(manifest["input_schema"]), feature_names=list(manifest["feature_names"]),
            fitted_recipe=recipe, input_spec=InputSpec.from_dict(manifest["input_spec"]), members=members,
            metadata=dict(manifest.get("metadata", {})), threshold=manifest.get("threshold"),
            importance={str(k): float(v) for k, v in manifest.get("importance", {}).items()},
            _reference=reference,
        )


_PERMUTATION_MAX_FEATURES = 300
_PERMUTATION_BATCH_CELLS = 4_000_000  # rows x columns scored per call


def _member_importance(member: Member, sample: pd.DataFrame, ctx, names: list[str], seed: int):
    from core.train import zoo

    if member.family == "catboost":
        return np.asarray(member.estimator.get_feature_importance(), dtype=float)
    model = member.estimator
    if member.family in ("rf", "et"):
        encoded_names = list(model.named_steps["prep"].get_feature_names_out())
        values = dict(zip(encoded_names, model.named_steps["model"].feature_importances_))
        return np.array([values.get(n, 0.0) for n in names], dtype=float)
    if len(names) > _PERMUTATION_MAX_FEATURES or sample.empty:
        return None
    rng = np.random.default_rng(seed)
    n = len(sample)
    base = zoo.predict(member.family, model, sample, ctx)
    out = np.zeros(len(names))
    # Shuffled copies are scored in batches, not one call per column: tree models pay a
    # fixed cost per tree and call, which dominated on small samples.
    per_batch = max(1, _PERMUTATION_BATCH_CELLS // max(n * len(names), 1))
    for start in range(0, len(names), per_batch):
        batch = names[start:start + per_batch]
        copies = []
        for name in batch:
            shuffled = sample.copy()
            shuffled[name] = sample[name].to_numpy()[rng.permutation(n)]
            copies.append(shuffled)
        predicted = zoo.predict(member.family, model, pd.concat(copies, ignore_index=True), ctx)
        for k, _name in enumerate(batch):
            out[start + k] = np.mean(np.abs(predicted[k * n:(k + 1) * n] - base))
    return out


def _member_file(index: int, family: str) -> str:
    return f"members/{index}.{'cbm' if family == 'catboost' else 'skops'}"


def _dump_member(member: Member) -> bytes:
    if member.family == "catboost":
        import os
        import tempfile

        # CatBoost writes models to files only; a private temporary file, removed at once
        fd, path = tempfile.mkstemp(suffix=".cbm")
        os.close(fd)
        try:
            member.estimator.save_model(path, format="cbm")
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)
    import skops.io as sio

    return sio.dumps(member.estimator, compression=zipfile.ZIP_DEFLATED)


def _load_member(family: str, data: bytes, task: str):
    from core.train.zoo import FAMILIES

    if family not in FAMILIES:
        raise InputError(f"The model bundle names an unknown model family {family!r}.")
    if family == "catboost":
        from catboost import CatBoostClassifier, CatBoostError, CatBoostRegressor

        try:
            return (CatBoostRegressor() if task == "regression" else CatBoostClassifier()).load_model(blob=data)
        except CatBoostError:
            raise InputError("The model bundle is damaged (a CatBoost model cannot be read).") from None
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.loads(data, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as exc:
        raise InputError(f"The model bundle holds objects Assay does not trust, so it was not loaded: {exc}",
                         hint="Only load bundles made by Assay.") from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        raise InputError("The model bundle is damaged (a scikit-learn model cannot be read).") from None


def _check_manifest(manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise InputError("This zip is not an Assay model bundle.", hint="Download the model again.")
    if int(manifest.get("version", 0)) > BUNDLE_VERSION:
        raise InputError(f"The model bundle is version {manifest['version']}; this Assay reads up to "
                         f"{BUNDLE_VERSION}.", hint="Upgrade Assay to use it.")
    needed = ("task", "target", "classes", "input_schema", "feature_names", "input_spec", "members")
    lacking = [k for k in needed if k not in manifest]
    if lacking or manifest["task"] not in ("binary", "multiclass", "regression") or not manifest["members"]:
        raise InputError("The model bundle is damaged (its description is incomplete).")
    if manifest["task"] != "regression" and not manifest["classes"]:
        raise ValidationError("The model bundle is damaged (a classifier without classes).")


def library_versions() -> dict[str, str]:
    """Versions that produced a model (kept in its metadata)."""
    import catboost
    import optuna
    import sklearn
    import skops

    return {"python": platform.python_version(), "catboost": catboost.__version__,
            "scikit-learn": sklearn.__version__, "optuna": optuna.__version__, "skops": skops.__version__,
            "pandas": pd.__version__, "numpy": np.__version__}


def utc_now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
