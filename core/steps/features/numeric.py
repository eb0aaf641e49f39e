"""Number transforms, learned on the training rows: log1p, Yeo-Johnson, standardise,
min-max, quantile binning and winsorising.

Each replaces its columns by default; with ``keep_original`` it adds
``<column>_<suffix>`` instead. Learned values (means, bin edges, lambdas) are stored
per column as plain numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core.errors import ValidationError
from core.steps.features.base import NUMERIC, FeatureStep, as_numbers, with_columns
from core.steps.codegen import kernel
from core.steps.base import Boolean, Columns, Interval, register


@kernel
def map_numbers(df, p, s, fn):
    """Apply ``fn(values, learned)`` to each column of ``p["columns"]``."""
    new = {}
    for col in p["columns"]:
        name = f"{col}_{s['suffix']}" if p["keep_original"] else col
        with np.errstate(all="ignore"):
            new[name] = fn(as_numbers(df[col]), s.get("columns", {}).get(col, {}))
    return with_columns(df, new)


@kernel
def log1p_columns(df, p, s):
    return map_numbers(df, p, s, lambda x, _: np.where(x > -1, np.log1p(x), np.nan))


@kernel
def yeo_johnson_columns(df, p, s):
    def transform(x, learned):
        lam = learned["lambda"]
        out = np.full_like(x, np.nan)
        pos, neg = x >= 0, x < 0
        if abs(lam) < np.spacing(1.0):
            out[pos] = np.log1p(x[pos])
        else:
            out[pos] = (np.power(x[pos] + 1, lam) - 1) / lam
        if abs(lam - 2) > np.spacing(1.0):
            out[neg] = -(np.power(-x[neg] + 1, 2 - lam) - 1) / (2 - lam)
        else:
            out[neg] = -np.log1p(-x[neg])
        if learned.get("scale"):
            out = (out - learned["mean"]) / learned["scale"]
        return out

    return map_numbers(df, p, s, transform)


@kernel
def standardize_columns(df, p, s):
    return map_numbers(df, p, s, lambda x, m: (x - m["mean"]) / m["scale"])


@kernel
def min_max_columns(df, p, s):
    return map_numbers(df, p, s, lambda x, m: (x - m["min"]) / m["range"])


@kernel
def quantile_bin_columns(df, p, s):
    def binned(x, learned):
        edges = np.asarray(learned["edges"], dtype="float64")
        return np.where(np.isnan(x), np.nan, np.searchsorted(edges, x, side="right").astype("float64"))

    return map_numbers(df, p, s, binned)


@kernel
def winsorize_columns(df, p, s):
    return map_numbers(df, p, s, lambda x, m: np.clip(x, m["low"], m["high"]))


@dataclass(frozen=True, kw_only=True)
class _NumberTransform(FeatureStep):
    group: ClassVar[str] = "Numbers"
    accepts: ClassVar[dict] = {"columns": NUMERIC}
    constraints: ClassVar[dict] = {"columns": Columns(), "keep_original": Boolean()}
    suffix: ClassVar[str] = ""  # of the new columns with keep_original
    columns: tuple[str, ...]
    keep_original: bool = False

    def columns_in(self) -> list[str]:
        return list(self.columns)

    def _fit(self, frame, context) -> dict:
        if self.keep_original:
            self.new_columns(frame, [f"{c}_{self.suffix}" for c in self.columns])
        learned = {}
        for col in self.columns:
            x = as_numbers(frame[col])
            x = x[~np.isnan(x)]
            if len(x) == 0:
                raise ValidationError(f"{self.label}: {col!r} has no numbers in the training rows.",
                                      hint="Pick a column with values, or impute it first.")
            learned[col] = self._learn(col, x)
        return {"columns": learned, "suffix": self.suffix}

    def _learn(self, column: str, x: np.ndarray) -> dict:
        return {}

    def describe(self) -> str:
        return f"{self.label} of {', '.join(map(repr, self.columns))}"


@register
@dataclass(frozen=True, kw_only=True)
class Log1p(_NumberTransform):
    """log(1 + x): tames right-skewed amounts. Needs values above -1 in the training rows;
    later values at or below -1 become missing."""

    kind: ClassVar[str] = "log1p"
    suffix: ClassVar[str] = "log1p"
    label: ClassVar[str] = "Log1p"
    summary: ClassVar[str] = "log(1 + x), for skewed positive amounts."
    replay = staticmethod(log1p_columns)

    def _learn(self, column: str, x: np.ndarray) -> dict:
        if x.min() <= -1:
            raise ValidationError(f"Log1p needs values above -1; {column!r} goes down to {x.min():g}.",
                                  hint="Use Yeo-Johnson for columns with negative values.")
        return {}


@register
@dataclass(frozen=True, kw_only=True)
class YeoJohnson(_NumberTransform):
    """Yeo-Johnson power transform (works for negative values too); its lambda is
    learned by maximum likelihood (scikit-learn's PowerTransformer). With
    ``standardize`` the result is also centred and scaled."""

    kind: ClassVar[str] = "yeo_johnson"
    suffix: ClassVar[str] = "yeojohnson"
    label: ClassVar[str] = "Yeo-Johnson"
    summary: ClassVar[str] = "A power transform that makes a skewed column more symmetric."
    constraints: ClassVar[dict] = {**_NumberTransform.constraints, "standardize": Boolean()}
    replay = staticmethod(yeo_johnson_columns)
    standardize: bool = False

    def _learn(self, column: str, x: np.ndarray) -> dict:
        from sklearn.preprocessing import PowerTransformer

        if np.ptp(x) == 0:
            return {"lambda": 1.0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            power = PowerTransformer(method="yeo-johnson", standardize=False).fit(x.reshape(-1, 1))
        learned = {"lambda": float(power.lambdas_[0])}
        if self.standardize:
            y = power.transform(x.reshape(-1, 1)).ravel()
            learned.update(mean=float(y.mean()), scale=float(y.std()) or 1.0)
        return learned


@register
@dataclass(frozen=True, kw_only=True)
class Standardize(_NumberTransform):
    """(x - mean) / standard deviation, both learned on the training rows."""

    kind: ClassVar[str] = "standardize"
    suffix: ClassVar[str] = "std"
    label: ClassVar[str] = "Standardise"
    summary: ClassVar[str] = "Centre on the training mean and divide by the standard deviation."
    replay = staticmethod(standardize_columns)

    def _learn(self, column: str, x: np.ndarray) -> dict:
        return {"mean": float(x.mean()), "scale": float(x.std()) or 1.0}


@register
@dataclass(frozen=True, kw_only=True)
class MinMaxScale(_NumberTransform):
    """(x - min) / (max - min) with the training rows' minimum and maximum; new values
    outside that range fall outside [0, 1]."""

    kind: ClassVar[str] = "min_max_scale"
    suffix: ClassVar[str] = "minmax"
    label: ClassVar[str] = "Min-max scale"
    summary: ClassVar[str] = "Rescale to [0, 1] using the training minimum and maximum."
    replay = staticmethod(min_max_columns)

    def _learn(self, column: str, x: np.ndarray) -> dict:
        return {"min": float(x.min()), "range": float(np.ptp(x)) or 1.0}


@register
@dataclass(frozen=True, kw_only=True)
class QuantileBin(_NumberTransform):
    """Bin number 0, 1, ... by the training rows' quantiles (equal-count bins; bins whose
    edges coincide are merged)."""

    kind: ClassVar[str] = "quantile_bin"
    suffix: ClassVar[str] = "bin"
    label: ClassVar[str] = "Quantile bins"
    summary: ClassVar[str] = "Replace a number by its quantile bin (0 = lowest)."
    constraints: ClassVar[dict] = {**_NumberTransform.constraints, "bins": Interval(2, 100, integer=True)}
    replay = staticmethod(quantile_bin_columns)
    bins: int = 5

    def _learn(self, column: str, x: np.ndarray) -> dict:
        inner = np.quantile(x, np.linspace(0, 1, self.bins + 1)[1:-1])
        return {"edges": np.unique(inner).tolist()}


@register
@dataclass(frozen=True, kw_only=True)
class Winsorize(_NumberTransform):
    """Clip to the training rows' ``lower`` and ``upper`` quantiles (default 1% and 99%)."""

    kind: ClassVar[str] = "winsorize"
    suffix: ClassVar[str] = "winsor"
    label: ClassVar[str] = "Winsorise"
    summary: ClassVar[str] = "Clip extreme values to training quantiles."
    constraints: ClassVar[dict] = {**_NumberTransform.constraints, "lower": Interval(0, 0.5),
                                   "upper": Interval(0.5, 1)}
    replay = staticmethod(winsorize_columns)
    lower: float = 0.01
    upper: float = 0.99

    def validate(self) -> None:
        if self.lower >= self.upper:
            raise ValidationError(f"Winsorise needs 'lower' below 'upper'. Got {self.lower} and {self.upper}.")

    def _learn(self, column: str, x: np.ndarray) -> dict:
        low, high = np.quantile(x, [self.lower, self.upper])
        return {"low": float(low), "high": float(high)}
