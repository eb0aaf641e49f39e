"""An explanation as a value: SHAP values of sampled rows, with everything the views need.

It is stored as one Parquet file (the same file ``assay explain`` writes): one row
per explained row, and the rest as JSON in the file's metadata (``assay.explain``)::

    row                      the row's label in the data (its position in the table)
    value:<feature>          the model-input value the model saw
    shap:<feature>           its SHAP value (multiclass: shap:<class>:<feature>)
    base, output             base value and the model's output in the explanation space
                             (multiclass: base:<class>, output:<class>)
    prediction, proba:<c>    what the model predicts for the row
    actual                   the target's value, when the data has it

Read it back with :meth:`Explanation.from_parquet`, or with any Parquet reader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import jsonutil
from core.errors import InputError

__all__ = ["Explanation", "Importance", "FORMAT"]

FORMAT = "assay.explain/1"
_META_KEY = b"assay.explain"


@dataclass
class Importance:
    """Permutation importance: how much the score drops when one feature's values are shuffled."""

    features: list[str]
    mean: list[float]
    std: list[float]
    metric: str
    metric_label: str
    rows: int
    repeats: int
    baseline: float
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> Importance:
        return cls(**data)


@dataclass
class Explanation:
    """SHAP values of ``n`` rows for ``outputs`` (one, or one per class) over ``features``.

    ``values`` is ``(n, outputs, features)``; ``base`` is ``(outputs,)``; ``X`` holds the
    model-input values (index: the rows' labels). For every row and output,
    ``base + values.sum(axis=2)`` equals the model's output in ``space``.
    """

    task: str
    space: str
    target: str
    outputs: list[str]
    features: list[str]
    categorical: list[str]
    base: np.ndarray
    values: np.ndarray
    X: pd.DataFrame
    predictions: pd.DataFrame
    actual: pd.Series | None = None
    total_rows: int = 0
    seed: int = 0
    importance: Importance | None = None  # on the explained rows (another dataset than the training one)
    holdout_importance: Importance | None = None  # measured at training time on the holdout (input columns)
    info: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    def output_index(self, output: str | None) -> int:
        if output is None or len(self.outputs) == 1:
            return 0
        return self.outputs.index(str(output))

    def output(self, k: int = 0) -> np.ndarray:
        """The model's output for each row in the explanation space: base + the row's values."""
        return self.base[k] + self.values[:, k, :].sum(axis=1)

    def frame(self, k: int = 0) -> pd.DataFrame:
        """SHAP values of output ``k`` as a table: rows x features."""
        return pd.DataFrame(self.values[:, k, :], index=self.X.index, columns=self.features)

    def mean_abs(self, k: int = 0) -> pd.Series:
        """Mean |SHAP| per feature, largest first: how far a feature moves predictions on average."""
        return pd.Series(np.abs(self.values[:, k, :]).mean(axis=0), index=self.features).sort_values(ascending=False)

    def row(self, label, k: int = 0) -> pd.DataFrame:
        """One row: each feature's value and SHAP value, largest effect first."""
        position = self.X.index.get_loc(label)
        out = pd.DataFrame({"feature": self.features, "value": self.X.iloc[position].to_list(),
                            "shap": self.values[position, k, :]})
        return out.reindex(out["shap"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    # -- storage ------------------------------------------------------------------

    def _columns(self, prefix: str) -> list[str]:
        if len(self.outputs) == 1:
            return [prefix]
        return [f"{prefix}:{o}" for o in self.outputs]

    def meta(self) -> dict:
        return {
            "format": FORMAT, "task": self.task, "space": self.space, "target": self.target,
            "outputs": self.outputs, "features": self.features, "categorical": self.categorical,
            "base": self.base.tolist(), "rows": self.n, "total_rows": self.total_rows, "seed": self.seed,
            "importance": self.importance.to_dict() if self.importance else None,
            "holdout_importance": self.holdout_importance.to_dict() if self.holdout_importance else None,
            "info": self.info,
        }

    def to_parquet(self) -> bytes:
        columns: dict[str, object] = {"row": _labels(self.X.index)}
        for j, f in enumerate(self.features):
            columns[f"value:{f}"] = self.X.iloc[:, j].to_numpy()
        for k, name in enumerate(self._columns("shap")):
            for j, f in enumerate(self.features):
                columns[f"{name}:{f}"] = self.values[:, k, j]
        for k, (b, o) in enumerate(zip(self._columns("base"), self._columns("output"))):
            columns[b] = np.full(self.n, self.base[k])
            columns[o] = self.output(k)
        for name in self.predictions.columns:
            columns[str(name)] = self.predictions[name].to_numpy()
        if self.actual is not None:
            columns["actual"] = self.actual.to_numpy()
        table = pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)
        meta = {**(table.schema.metadata or {}), _META_KEY: jsonutil.dumps(self.meta()).encode()}
        sink = pa.BufferOutputStream()
        pq.write_table(table.replace_schema_metadata(meta), sink, compression="zstd")
        return sink.getvalue().to_pybytes()

    @classmethod
    def from_parquet(cls, data: bytes) -> Explanation:
        try:
            table = pq.read_table(pa.BufferReader(data))
            meta = json.loads((table.schema.metadata or {})[_META_KEY])
        except (pa.ArrowInvalid, KeyError, json.JSONDecodeError, OSError):
            raise InputError("This file is not an Assay explanation (no SHAP metadata).",
                             hint="Write one with `assay explain` or from the Explanations page.") from None
        if meta.get("format") != FORMAT:
            raise InputError(f"This explanation has format {meta.get('format')!r}; this Assay reads {FORMAT}.")
        frame = table.to_pandas()
        features, outputs = meta["features"], meta["outputs"]
        index = pd.Index(frame["row"].to_list(), name=None)
        X = pd.DataFrame({f: frame[f"value:{f}"].to_numpy() for f in features}, index=index)
        shap_names = ["shap"] if len(outputs) == 1 else [f"shap:{o}" for o in outputs]
        values = np.stack([frame[[f"{s}:{f}" for f in features]].to_numpy(dtype=float) for s in shap_names], axis=1)
        prediction_columns = [c for c in frame.columns if c == "prediction" or c.startswith("proba:")]
        predictions = frame[prediction_columns].set_axis(index)
        actual = frame["actual"].set_axis(index).rename(meta["target"]) if "actual" in frame else None
        importance = Importance.from_dict(meta["importance"]) if meta.get("importance") else None
        holdout = Importance.from_dict(meta["holdout_importance"]) if meta.get("holdout_importance") else None
        return cls(task=meta["task"], space=meta["space"], target=meta["target"], outputs=outputs,
                   features=features, categorical=meta["categorical"], base=np.asarray(meta["base"], dtype=float),
                   values=values.reshape(len(frame), len(outputs), len(features)), X=X, predictions=predictions,
                   actual=actual, total_rows=int(meta["total_rows"]), seed=int(meta["seed"]), importance=importance,
                   holdout_importance=holdout, info=dict(meta.get("info") or {}))


def _labels(index: pd.Index) -> np.ndarray:
    """Row labels as Parquet can hold them: integers as integers, anything else as text."""
    if pd.api.types.is_integer_dtype(index):
        return index.to_numpy(dtype=np.int64)
    return index.astype(str).to_numpy(dtype=object)
