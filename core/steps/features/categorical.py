"""Category encodings learned on the training rows: one-hot (top k plus "other"),
ordinal codes, frequencies, out-of-fold target means, and grouping of rare categories.

Category values are compared as text (``keys_of``: 1, 1.0 and "1" are one category;
a missing value is a category of its own). A category never seen in training gets
the "unknown" value of each encoding (the "other" column, -1, a frequency of 0, the
overall target mean).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.features.base import CATEGORY, FeatureStep, detect_task, keys_of, lookup, with_columns
from core.steps.codegen import kernel
from core.steps.base import Boolean, Columns, Interval, OneOf, Optional, Text, register

MISSING_LABEL = "(missing)"
MAX_CLASSES = 30


@kernel
def one_hot_columns(df, p, s):
    """One 0/1 column per learned category, plus "other" for everything else."""
    new = {}
    for col in p["columns"]:
        learned = s["columns"][col]
        codes = lookup(keys_of(df[col]), learned["categories"])
        for i, name in enumerate(learned["names"]):
            new[name] = (codes == i).astype("uint8")
        if learned["other"]:
            new[learned["other"]] = (codes < 0).astype("uint8")
    return with_columns(df, new, drop=() if p["keep_original"] else p["columns"])


@kernel
def ordinal_columns(df, p, s):
    """Category -> its position in the learned order (unknown: -1, missing: NaN)."""
    new = {}
    for col in p["columns"]:
        keys = keys_of(df[col])
        codes = lookup(keys, s["columns"][col]).astype("float64")
        codes[keys.isna().to_numpy() & (codes < 0)] = np.nan
        new[f"{col}_ordinal"] = codes
    return with_columns(df, new, drop=() if p["keep_original"] else p["columns"])


@kernel
def frequency_columns(df, p, s):
    """Category -> its share of the training rows (unknown: 0)."""
    new = {}
    for col in p["columns"]:
        learned = s["columns"][col]
        codes = lookup(keys_of(df[col]), learned["categories"])
        new[f"{col}_freq"] = np.append(np.asarray(learned["shares"], dtype="float64"), 0.0)[codes]
    return with_columns(df, new, drop=() if p["keep_original"] else p["columns"])


@kernel
def target_encode_columns(df, p, s):
    """Category -> the smoothed mean target of its training rows (per class for a
    multiclass target; unknown: the overall mean)."""
    new = {}
    for col in p["columns"]:
        learned = s["columns"][col]
        codes = lookup(keys_of(df[col]), learned["categories"])
        for name, means, default in zip(learned["names"], learned["encodings"], s["defaults"]):
            new[name] = np.append(np.asarray(means, dtype="float64"), default)[codes]
    return with_columns(df, new, drop=() if p["keep_original"] else p["columns"])


@kernel
def rare_category_columns(df, p, s):
    """Categories outside the learned common ones become ``p["other"]`` (missing stays missing)."""
    new = {}
    for col in p["columns"]:
        keys = keys_of(df[col])
        rare = keys.notna() & ~keys.isin(s["columns"][col])
        new[col] = keys.where(~rare, p["other"]).to_numpy(dtype=object)
    return with_columns(df, new)


def _counts(series: pd.Series) -> pd.Series:
    """Category counts, most common first, ties by name (deterministic); missing = None."""
    counts = keys_of(series).value_counts(dropna=False, sort=False)
    keys = counts.index.to_numpy(dtype=object)
    keys = np.where(pd.isna(keys), None, keys)
    table = pd.DataFrame({"n": counts.to_numpy(), "name": np.where(keys == None, "", keys)})  # noqa: E711
    order = table.sort_values(["n", "name"], ascending=[False, True], kind="stable").index.to_numpy()
    return pd.Series(counts.to_numpy()[order], index=pd.Index(keys[order], dtype=object))


def _label(key: str | None) -> str:
    return MISSING_LABEL if key is None else str(key)


@dataclass(frozen=True, kw_only=True)
class _Encoder(FeatureStep):
    group: ClassVar[str] = "Categories"
    accepts: ClassVar[dict] = {"columns": CATEGORY}
    constraints: ClassVar[dict] = {"columns": Columns(), "keep_original": Boolean()}
    columns: tuple[str, ...]
    keep_original: bool = False

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def describe(self) -> str:
        return f"{self.label} of {', '.join(map(repr, self.columns))}"


@register
@dataclass(frozen=True, kw_only=True)
class OneHot(_Encoder):
    """One 0/1 column ``<column>=<category>`` for each of the ``top_k`` most common
    categories in the training rows, plus ``<column>=other`` for the rest (when there is
    a rest). The original column is dropped unless ``keep_original``."""

    kind: ClassVar[str] = "one_hot"
    label: ClassVar[str] = "One-hot"
    summary: ClassVar[str] = "0/1 columns for the most common categories, plus 'other'."
    constraints: ClassVar[dict] = {**_Encoder.constraints, "top_k": Interval(1, 200, integer=True)}
    replay = staticmethod(one_hot_columns)
    top_k: int = 10

    def _fit(self, frame, context) -> dict:
        learned, names = {}, []
        for col in self.columns:
            counts = _counts(frame[col])
            top = list(counts.index[: self.top_k])
            cols = [f"{col}={_label(k)}" for k in top]
            other = f"{col}=other" if len(counts) > self.top_k else None
            learned[col] = {"categories": top, "names": cols, "other": other}
            names += cols + ([other] if other else [])
        self.new_columns(frame, names)
        return {"columns": learned}


@register
@dataclass(frozen=True, kw_only=True)
class OrdinalEncode(_Encoder):
    """``<column>_ordinal``: each category's position in an order: ``categories`` if given
    (e.g. ``["low", "medium", "high"]``), else by frequency in the training rows (0 = most
    common) or alphabetically (numbers in numeric order). Unknown categories get -1."""

    kind: ClassVar[str] = "ordinal"
    label: ClassVar[str] = "Ordinal codes"
    summary: ClassVar[str] = "Replace categories by their position in an order you choose."
    constraints: ClassVar[dict] = {**_Encoder.constraints, "order": OneOf("frequency", "alphabetical")}
    replay = staticmethod(ordinal_columns)
    order: str = "frequency"
    categories: tuple | None = None

    def validate(self) -> None:
        if self.categories is not None:
            ok = isinstance(self.categories, tuple) and len(self.categories) > 0 and all(
                isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in self.categories)
            keys = [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in self.categories or ()]
            if not ok or len(set(keys)) != len(keys):
                raise ValidationError(
                    "The 'categories' parameter of OrdinalEncode must be None or a non-empty list of distinct "
                    f"values. Got {self.categories!r} instead.")

    def _fit(self, frame, context) -> dict:
        self.new_columns(frame, [f"{c}_ordinal" for c in self.columns], replaced=self.columns)
        learned = {}
        for col in self.columns:
            if self.categories is not None:
                order = [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in self.categories]
            else:
                keys = [k for k in _counts(frame[col]).index if k is not None]
                if self.order == "alphabetical":
                    numbers = pd.to_numeric(pd.Series(keys, dtype=object), errors="coerce")
                    keys = (list(pd.Series(keys).iloc[numbers.argsort(kind="stable")]) if numbers.notna().all()
                            else sorted(keys))
                order = keys
            learned[col] = order
        return {"columns": learned}


@register
@dataclass(frozen=True, kw_only=True)
class FrequencyEncode(_Encoder):
    """``<column>_freq``: each category's share of the training rows (0 for a category
    never seen in training)."""

    kind: ClassVar[str] = "frequency"
    label: ClassVar[str] = "Frequency encoding"
    summary: ClassVar[str] = "Replace categories by how common they are in the training rows."
    replay = staticmethod(frequency_columns)

    def _fit(self, frame, context) -> dict:
        self.new_columns(frame, [f"{c}_freq" for c in self.columns], replaced=self.columns)
        learned = {}
        for col in self.columns:
            counts = _counts(frame[col])
            learned[col] = {"categories": list(counts.index), "shares": (counts / max(len(frame), 1)).tolist()}
        return {"columns": learned}


@register
@dataclass(frozen=True, kw_only=True)
class TargetEncode(_Encoder):
    """``<column>_te``: the mean target of each category (for a classification target,
    the share of each class: ``<column>_te_<class>``; for two classes, of the second),
    shrunk towards the overall mean (scikit-learn's TargetEncoder; ``smoothing`` None =
    empirical Bayes). The training rows get **out-of-fold** means: each row's value is
    learned from the other ``folds`` folds only, so no row sees its own target."""

    kind: ClassVar[str] = "target_encode"
    label: ClassVar[str] = "Target encoding"
    summary: ClassVar[str] = "Replace categories by their out-of-fold mean target."
    needs_target: ClassVar[bool] = True
    constraints: ClassVar[dict] = {**_Encoder.constraints, "smoothing": Optional(Interval(0, None)),
                                   "folds": Interval(2, 20, integer=True)}
    replay = staticmethod(target_encode_columns)
    smoothing: float | None = None
    folds: int = 5

    def fit(self, frame, context) -> dict:
        return self.fit_transform(frame, context)[1]

    def fit_transform(self, frame, context) -> tuple[pd.DataFrame, dict]:
        from sklearn.model_selection import KFold, StratifiedKFold
        from sklearn.preprocessing import TargetEncoder

        self.check_inputs(frame, context)
        y_all = frame[context.target]
        rows = y_all.notna().to_numpy()
        y_all = y_all[rows]
        if y_all.nunique() < 2:
            raise ValidationError(f"Target encoding needs at least two target values; {context.target!r} has "
                                  f"{y_all.nunique()} in the training rows.")
        if detect_task(y_all) == "regression":
            Y, kind, classes = y_all.to_numpy(dtype="float64")[:, None], "continuous", [None]
            labels = None
            splitter = KFold(self.folds, shuffle=True, random_state=context.seed)
        else:
            labels = keys_of(y_all).to_numpy(dtype=object)
            classes = sorted(set(labels))
            if len(classes) > MAX_CLASSES:
                raise ValidationError(f"Target encoding would add {len(classes)} columns per category column "
                                      f"(one per class of {context.target!r}); the limit is {MAX_CLASSES}.",
                                      hint="Use frequency or one-hot encoding instead.")
            kind = "binary" if len(classes) == 2 else "multiclass"
            classes = classes[1:] if kind == "binary" else classes
            # one 0/1 target per class: the mean is that class's share (as scikit-learn does for multiclass)
            Y = np.column_stack([labels == c for c in classes]).astype("float64")
            splitter = StratifiedKFold(self.folds, shuffle=True, random_state=context.seed)
        # each column as integer codes once (missing is a category of its own): the encoders then
        # take scikit-learn's fast numeric path, fold after fold
        factorized = [pd.factorize(keys_of(frame[c]), use_na_sentinel=False) for c in self.columns]
        X_all = np.column_stack([codes for codes, _ in factorized])
        X = X_all[rows]
        if len(Y) < self.folds:
            raise ValidationError(f"Target encoding with {self.folds} folds needs at least {self.folds} rows "
                                  f"with a target; there are {len(Y)}.")
        smooth = "auto" if self.smoothing is None else self.smoothing

        def encode(train: np.ndarray, test: np.ndarray | None):
            """Encoders fitted on ``train`` rows (one per class) and, for ``test`` rows, their values."""
            fitted = [TargetEncoder(target_type="continuous", smooth=smooth).fit(X[train], Y[train, j])
                      for j in range(Y.shape[1])]
            values = None if test is None else np.column_stack(
                [f.transform(X[test])[:, i] for i in range(len(self.columns)) for f in fitted])
            return fitted, values

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few members in a class for stratified folds
            full, _ = encode(np.arange(len(Y)), None)
            oof = np.empty((len(Y), len(self.columns) * len(classes)))
            for train, test in splitter.split(X, labels):
                oof[test] = encode(train, test)[1]

        learned, names, new = {}, [], {}
        defaults = [float(f.target_mean_) for f in full]
        for i, col in enumerate(self.columns):
            seen = full[0].categories_[i]  # codes of the categories the encoders learned
            uniques = factorized[i][1]
            cols = [f"{col}_te" if cls is None or kind == "binary" else f"{col}_te_{cls}" for cls in classes]
            learned[col] = {"categories": [None if pd.isna(uniques[c]) else uniques[c] for c in seen],
                            "names": cols, "encodings": [f.encodings_[i].tolist() for f in full]}
            position = np.full(len(uniques), len(seen))  # a category without a target row: the default
            position[seen] = np.arange(len(seen))
            for j, name in enumerate(cols):
                values = np.append(full[j].encodings_[i], defaults[j])[position[X_all[:, i]]]
                values[rows] = oof[:, i * len(classes) + j]  # rows without a target keep the full-data value
                new[name] = values
            names += cols
        self.new_columns(frame, names, replaced=self.columns)
        state = self.state_of({"columns": learned, "defaults": defaults, "classes": classes, "target_type": kind})
        return with_columns(frame, new, drop=() if self.keep_original else self.columns), state


@register
@dataclass(frozen=True, kw_only=True)
class RareCategories(FeatureStep):
    """Group categories rarer than ``min_share`` of the training rows into one ``other``
    category (new categories at scoring time join it too). The column keeps its name."""

    kind: ClassVar[str] = "rare_categories"
    label: ClassVar[str] = "Group rare categories"
    group: ClassVar[str] = "Categories"
    summary: ClassVar[str] = "Merge rare categories into one 'Other' category."
    accepts: ClassVar[dict] = {"columns": CATEGORY}
    constraints: ClassVar[dict] = {"columns": Columns(), "min_share": Interval(0, 0.5, closed="neither"),
                                   "other": Text(allow_empty=False, max_length=100)}
    replay = staticmethod(rare_category_columns)
    columns: tuple[str, ...]
    min_share: float = 0.01
    other: str = "Other"

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def _fit(self, frame, context) -> dict:
        learned = {}
        for col in self.columns:
            shares = _counts(frame[col]) / max(len(frame), 1)
            common = (shares >= self.min_share).to_numpy() & pd.notna(shares.index.to_numpy(dtype=object))
            learned[col] = list(shares.index[common])
        return {"columns": learned}

    def describe(self) -> str:
        return f"Group categories under {self.min_share:.1%} of {', '.join(map(repr, self.columns))} as {self.other!r}"
