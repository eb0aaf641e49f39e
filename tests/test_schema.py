"""core.schema helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.schema import count_missing


@pytest.mark.parametrize("series", [
    pd.Series([1.0, np.nan, 3.0, np.nan]),
    pd.Series([1, 2, 3]),
    pd.Series([True, False]),
    pd.Series(pd.Categorical(["a", None, "b", None, None])),
    pd.Series(["x", None, np.nan, "y"], dtype=object),
    pd.Series(pd.array([1, None, 3], dtype="Int64")),
    pd.Series(pd.to_datetime(["2024-01-01", None])),
    pd.Series([], dtype=float),
], ids=["float", "int", "bool", "categorical", "object", "Int64", "datetime", "empty"])
def test_count_missing_matches_isna(series):
    assert count_missing(series) == int(series.isna().sum())
