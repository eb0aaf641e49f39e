"""Scoring new rows with a model: the schema check, the conversion to the training types, the predictions.

The Predict page, ``assay predict`` and the HTTP service (:mod:`core.serve`) all call
:func:`score`, so the same rows give the same predictions everywhere.

1. :func:`conform` checks the new table against the columns the model was trained
   with (``bundle.input_schema``): a missing column is an error naming it; extra
   columns are ignored (and reported); a column whose values do not read as the
   training kind is reported with how many values could not be read (they count as
   missing) and a few examples. Each expected column is then stored the way the
   training table stored it (numbers, labels as categories, dates, true/false), so a
   CSV, a Parquet file and JSON records of the same rows score identically.
2. The model replays the recipe (training-only row steps such as filters skipped),
   builds its input table and predicts: ``prediction`` plus ``proba:<class>`` columns.

>>> scored = score(bundle, new_rows)                                   # doctest: +SKIP
>>> scored.check.notices(), scored.predictions.head()                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from core.errors import InputError
from core.schema import Kind, coerce

__all__ = ["ColumnProblem", "SchemaCheck", "Scored", "ModelInfo", "FAMILIES", "family_of", "conform", "check_schema",
           "score", "top_reasons", "model_columns", "MAX_EXPLAINED_ROWS", "result_table", "label_text", "drift_inputs", "drift_against_training", "list_models"]

# What a kind means to a model: numbers, labels, dates or true/false.
FAMILIES = {"integer": "numbers", "float": "numbers", "boolean": "true/false values", "datetime": "dates",
            "categorical": "labels", "text": "text", "id": "identifiers"}
_LABELS = ("labels", "text", "identifiers")
_EXAMPLES = 3


def family_of(kind: str) -> str:
    return FAMILIES.get(str(kind), "labels")


@dataclass
class ColumnProblem:
    """An expected column whose values do not read as the kind they had in training."""

    column: str
    expected: str  # the training kind
    found: str  # what the new column holds (a family: numbers, labels, dates ...)
    unreadable: int  # values that could not be read as the training kind (now missing)
    rows: int
    examples: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        text = (f"Column {self.column!r} held {family_of(self.expected)} in training ({self.expected}); "
                f"the new data has {self.found}")
        if self.unreadable:
            shown = ", ".join(repr(e) for e in self.examples)
            text += (f": {self.unreadable:,} of the {self.rows:,} value(s) given cannot be read as {family_of(self.expected)} "
                     f"(e.g. {shown}) and count as missing")
        elif family_of(self.expected) in _LABELS:
            text += ", read as labels: labels the model never saw count as unknown"
        return text + "."


@dataclass
class SchemaCheck:
    """How a new table compares with the columns the model was trained with."""

    expected: dict[str, str]
    rows: int
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    target: str | None = None  # the target column, when the new table has it (not used to predict)
    mismatches: list[ColumnProblem] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # expected columns with every value missing

    @property
    def ok(self) -> bool:
        """Can the table be scored (no expected column missing)?"""
        return not self.missing

    def error(self) -> InputError | None:
        if not self.missing:
            return None
        shown = ", ".join(repr(c) for c in self.missing[:10]) + (" ..." if len(self.missing) > 10 else "")
        return InputError(
            f"The new data lacks {len(self.missing)} column(s) the model was trained with: {shown}.",
            hint="Add them (empty values are allowed) or score a table with the training columns; "
                 "names must match exactly, including case.",
        )

    def notices(self) -> list[str]:
        """Things to know that change nothing in the predictions."""
        out = []
        if self.extra:
            shown = ", ".join(repr(c) for c in self.extra[:10]) + (" ..." if len(self.extra) > 10 else "")
            out.append(f"{len(self.extra)} column(s) the model does not use are ignored: {shown}.")
        if self.target is not None:
            out.append(f"The table has the target column {self.target!r}; it is not used to predict.")
        return out

    def warnings(self) -> list[str]:
        """Type mismatches and empty columns: predictions are made, but may suffer."""
        out = [p.sentence() for p in self.mismatches]
        if self.empty and self.rows:
            shown = ", ".join(repr(c) for c in self.empty[:10]) + (" ..." if len(self.empty) > 10 else "")
            out.append(f"Every value is missing in {len(self.empty)} column(s) the model uses: {shown}.")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Scored:
    """Predictions for the rows that were scored, the schema check, and (optionally) top reasons."""

    predictions: pd.DataFrame
    check: SchemaCheck
    reasons: pd.DataFrame | None = None

    def table(self, frame: pd.DataFrame, *, keep_input: bool = True) -> pd.DataFrame:
        return result_table(frame, self, keep_input=keep_input)


# --------------------------------------------------------------------------- conversion


_FOUND = {"boolean": "true/false values", "integer": "numbers", "float": "numbers", "datetime": "dates",
          "other": "labels"}


def _found(series: pd.Series) -> str:
    from core.schema import dtype_family

    return _FOUND[dtype_family(series)]


def label_text(value) -> str:
    """A value as a label: ``3.0`` and ``3`` are the same label ``"3"`` (CSV floats vs ints)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _as_labels(series: pd.Series, kind: str) -> pd.Series:
    if kind == "categorical" and isinstance(series.dtype, pd.CategoricalDtype):
        return series
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series.astype("category") if kind == "categorical" else series  # text already: one step
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.astype(object)
        series = values.where(values.isna(), values.map(label_text))
    return coerce(series, kind)[0]


def _whole(series: pd.Series) -> pd.Series:
    """Floats that are all whole numbers as integers (``Int64`` when some are missing), as ingest stores them."""
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    present = values[~np.isnan(values)]
    if not (np.isfinite(present).all() and (present == np.round(present)).all()):
        return series
    if len(present) == len(values):
        return pd.Series(values.astype(np.int64), index=series.index, name=series.name)
    return series.astype("Int64")


def _convert(series: pd.Series, kind: str) -> tuple[pd.Series, bool]:
    """``series`` stored as training stored ``kind`` (see :func:`core.schema.coerce`), and whether
    the conversion may have turned values it could not read into missing ones."""
    family = family_of(kind)
    if family in _LABELS:
        return _as_labels(series, kind), False
    if family == "numbers":
        lossy = not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
        if lossy:
            series = coerce(series, Kind.FLOAT)[0]
        return (_whole(series) if kind == "integer" and series.dtype.kind == "f" else series), lossy
    if family == "dates" and pd.api.types.is_datetime64_any_dtype(series):
        return series, False
    if family == "true/false values" and str(series.dtype) == "boolean":
        return series, False
    return coerce(series, kind)[0], True


def _compatible(expected: str, found: str) -> bool:
    """Can values the new column holds stand for the training kind (unreadable ones aside)?"""
    family = family_of(expected)
    if family in _LABELS:
        return found == "labels"  # numbers as labels: "3" never matches a training label "three"
    if family == "dates":
        return found in ("dates", "labels")  # text dates are read as dates
    return True  # numbers and true/false values: what does not read is counted as unreadable


def conform(bundle, frame: pd.DataFrame, *, strict: bool = True) -> tuple[pd.DataFrame, SchemaCheck]:
    """Check ``frame`` against the model's columns and store them as in training.

    Returns the table to score (the expected columns converted, extra columns left
    as they are) and the :class:`SchemaCheck`. With ``strict`` a missing column
    raises the check's :class:`~core.errors.InputError`.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError("The rows to score must be a table.")
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InputError(f"The new data has the column {dup!r} twice.", hint="Give each column a unique name.")
    expected = dict(bundle.input_schema)
    names = [str(c) for c in frame.columns]
    if names != list(frame.columns):
        frame = frame.set_axis(names, axis=1)
    check = SchemaCheck(expected=expected, rows=len(frame))
    check.missing = [c for c in expected if c not in frame.columns]
    check.extra = [c for c in names if c not in expected and c != bundle.target]
    check.target = bundle.target if bundle.target in frame.columns else None
    if strict and check.missing:
        raise check.error()
    converted = {}
    for column, kind in expected.items():
        if column not in frame.columns:
            continue
        series = frame[column]
        present = int(series.count())
        if not present:
            check.empty.append(column)
        out, lossy = _convert(series, kind)
        n_lost = present - int(out.count()) if lossy else 0
        found = _found(series)
        if n_lost or (present and not _compatible(kind, found)):
            lost = series.notna().to_numpy(dtype=bool) & out.isna().to_numpy(dtype=bool)
            examples = pd.unique(series[lost].astype(str))[:_EXAMPLES].tolist() if n_lost else []
            check.mismatches.append(ColumnProblem(column, kind, found, n_lost, present, examples))
        if out is not series:
            converted[column] = out
    if converted:
        frame = frame.copy(deep=False)  # the caller's table stays as it was; no data copied
        for column, series in converted.items():
            frame[column] = series
    return frame, check


def check_schema(bundle, frame: pd.DataFrame) -> SchemaCheck:
    """The :class:`SchemaCheck` of ``frame`` (never raises for missing columns)."""
    return conform(bundle, frame, strict=False)[1]


# --------------------------------------------------------------------------- scoring


def score(bundle, frame: pd.DataFrame, *, threshold: float | None = None, explain: int = 0,
          effects: bool = False) -> Scored:
    """Predictions for ``frame`` (rows keep their index), after :func:`conform`.

    ``explain`` > 0 adds each row's ``explain`` top reasons (:func:`top_reasons`; with
    ``effects``, each reason's SHAP value as a number too).
    """
    rows, check = conform(bundle, frame)
    predictions = bundle.predict(rows, threshold=threshold)
    reasons = top_reasons(bundle, rows, predictions, explain, effects=effects) if explain else None
    return Scored(predictions, check, reasons)


MAX_EXPLAINED_ROWS = 100_000
MAX_REASONS = 10
_EFFECT = {"log-odds": "{:+.2f} log-odds", "class score": "{:+.2f} score", "value": "{:+,.4g}",
           "probability": None}


def _effect_text(value: float, space: str) -> str:
    if space == "probability":
        return f"{100 * value:+.1f} pts"
    return _EFFECT.get(space, "{:+.3g}").format(value)


def _value_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)


def top_reasons(bundle, rows: pd.DataFrame, predictions: pd.DataFrame, k: int = 3, *,
                effects: bool = False) -> pd.DataFrame:
    """Each row's ``k`` features with the largest SHAP values (:mod:`core.explain`), largest first.

    Columns ``reason 1`` .. ``reason k`` read ``feature = value (effect)``. For
    classification the effect is toward the row's predicted class (``+`` supports the
    prediction, ``-`` argues against it); for regression ``+`` raises the predicted
    value. Effects are in the model's explanation space: log-odds or a class score for
    one boosted or linear classifier, percentage points of probability for forests and
    ensembles, the target's unit for regression.

    With ``effects``, each ``reason i`` is followed by ``reason i effect``: the same
    SHAP value as a number, unrounded, with the same sign (toward the predicted class).
    """
    from core.errors import ValidationError
    from core.explain import Explainer

    with_effects = effects
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_REASONS:
        raise ValidationError(f"The number of reasons per row must be a whole number from 1 to {MAX_REASONS}. "
                              f"Got {k!r} instead.")
    if len(rows) > MAX_EXPLAINED_ROWS:
        raise ValidationError(f"Top reasons are computed for at most {MAX_EXPLAINED_ROWS:,} rows at a time; "
                              f"this table has {len(rows):,}.", hint="Score without reasons, or split the table.")
    columns = [f"reason {i + 1}" for i in range(k)]
    if rows.empty:
        names = [n for c in columns for n in ((c, f"{c} effect") if with_effects else (c,))]
        return pd.DataFrame(columns=names, index=rows.index)
    explainer = Explainer(bundle)
    X = bundle.transform(rows)
    values, _ = explainer.shap_values(X)
    n = len(X)
    if bundle.task == "multiclass":
        position = {str(c): i for i, c in enumerate(bundle.classes)}
        chosen = predictions.loc[X.index, "prediction"].map(lambda c: position[str(c)]).to_numpy()
        effects = values[np.arange(n), chosen, :]
    else:
        effects = values[:, 0, :].copy()
        if bundle.task == "binary":  # toward the predicted class: flip rows predicted negative
            negative = (predictions.loc[X.index, "prediction"].astype(str) != str(bundle.positive_class)).to_numpy()
            effects[negative] *= -1
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :k]
    names = np.asarray(explainer.features, dtype=object)
    cells = X.to_numpy(dtype=object)
    out = {}
    for j, column in enumerate(columns):
        if j >= len(names):
            out[column] = [None] * n
            if with_effects:
                out[f"{column} effect"] = np.full(n, np.nan)
            continue
        idx = order[:, j]
        out[column] = [f"{names[f]} = {_value_text(cells[r, f])} ({_effect_text(effects[r, f], explainer.space)})"
                       for r, f in enumerate(idx)]
        if with_effects:
            out[f"{column} effect"] = effects[np.arange(n), idx]
    return pd.DataFrame(out, index=X.index).reindex(rows.index)


def result_table(frame: pd.DataFrame, scored: Scored, *, keep_input: bool = True) -> pd.DataFrame:
    """What a download holds: the input columns (unless not wanted), predictions, reasons.

    Prediction columns whose names clash with input columns get a " (model)" suffix.
    """
    parts = [scored.predictions]
    if scored.reasons is not None:
        parts.append(scored.reasons)
    out = pd.concat(parts, axis=1) if len(parts) > 1 else scored.predictions
    if not keep_input:
        return out.reset_index(drop=True)
    return frame.join(out.set_axis(model_columns(frame, scored), axis=1)).reset_index(drop=True)


def model_columns(frame: pd.DataFrame, scored: Scored) -> list[str]:
    """The names the model's columns get next to ``frame``'s (a clash gets " (model)")."""
    names = list(scored.predictions.columns) + (list(scored.reasons.columns) if scored.reasons is not None else [])
    taken = {str(c) for c in frame.columns}
    return [f"{n} (model)" if n in taken else n for n in names]


# --------------------------------------------------------------------------- drift


def drift_inputs(bundle, frame: pd.DataFrame, name: str = "the new rows") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``(reference, current, keyword arguments)`` for :func:`core.drift.compare` against the training rows.

    Both sides keep only the columns the model reads (and the target when the new rows
    have it, for performance drift); the new rows are stored as training stored them,
    so a column is compared value for value, not text against numbers.
    """
    rows, _ = conform(bundle, frame)
    keep = list(bundle.input_schema) + ([bundle.target] if bundle.target in rows.columns else [])
    reference = bundle.reference_frame()
    reference = reference[[c for c in keep if c in reference.columns]]
    kwargs = {"reference_name": "the model's training rows", "current_name": name,
              "kinds": dict(bundle.input_schema), "model": bundle}
    return reference, rows[keep], kwargs


def drift_against_training(bundle, frame: pd.DataFrame, name: str = "the new rows", *, config=None):
    """A :class:`core.drift.DriftResult` of ``frame`` against the model's training rows."""
    from core import drift

    reference, current, kwargs = drift_inputs(bundle, frame, name)
    return drift.compare(reference, current, config=config, **kwargs)


# --------------------------------------------------------------------------- the project's models


@dataclass(frozen=True)
class ModelInfo:
    """A stored model as the Predict page lists it (plain values, no session needed)."""

    id: int
    name: str
    kind: str
    blob_sha: str
    created_at: str
    run_id: int
    dataset: str
    target: str
    task: str
    metric: str
    holdout: float | None
    dataset_id: int | None = None

    @property
    def label(self) -> str:
        score = f" · holdout {self.metric} {self.holdout:.4g}" if self.holdout is not None else ""
        return f"#{self.id} {self.name} ({self.dataset}, {self.created_at[:16].replace('T', ' ')}){score}"


def list_models(session, project_id: int) -> list[ModelInfo]:
    """The project's models, newest first, with their run and dataset (the caller checked access)."""
    from core import store
    from core.drift_model import list_models as models_of

    out = []
    for model in models_of(session, project_id):
        run = session.get(store.Run, model.run_id)
        dataset = session.get(store.Dataset, run.dataset_id) if run is not None else None
        metrics = model.metrics or {}
        holdout = metrics.get("holdout")
        out.append(ModelInfo(model.id, model.name, model.kind, model.blob_sha, model.created_at.isoformat(),
                             model.run_id, dataset.name if dataset else "?", run.target if run else "",
                             run.task if run else "", str(metrics.get("metric") or (run.metric if run else "")),
                             float(holdout) if isinstance(holdout, (int, float)) else None,
                             run.dataset_id if run else None))
    return out
