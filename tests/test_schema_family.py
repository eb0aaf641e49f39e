"""dtype_family: the one place that reads a column's pandas dtype family."""

import numpy as np
import pandas as pd
import pytest

from core.schema import dtype_family


@pytest.mark.parametrize("series, family", [
    (pd.Series([True, False]), "boolean"),
    (pd.Series([True, None], dtype="boolean"), "boolean"),
    (pd.Series([1, 2]), "integer"),
    (pd.Series([1, None], dtype="Int64"), "integer"),
    (pd.Series([1.5, np.nan]), "float"),
    (pd.to_datetime(pd.Series(["2024-01-01"])), "datetime"),
    (pd.to_datetime(pd.Series(["2024-01-01"])).dt.tz_localize("UTC"), "datetime"),
    (pd.Series(["a", "b"]), "other"),
    (pd.Series(["a", "b"], dtype="category"), "other"),
])
def test_each_dtype_has_one_family(series, family):
    assert dtype_family(series) == family
