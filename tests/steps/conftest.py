"""A small messy table with every column type the cleaning steps meet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def messy_frame(n: int = 48) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    amount = rng.normal(100, 15, n).round(2)
    amount[[3, 11, 20]] = np.nan
    amount[5] = 900.0  # an outlier
    count = pd.array(rng.integers(0, 9, n), dtype="Int64")
    count[[2, 9]] = pd.NA
    cities = np.array([" Paris", "paris ", "Lyon", "Lyon", "Nice", "Lyon", "Brest", None], dtype=object)
    names = np.array(["Ａｌｉｃｅ", "bob\u00a0 smith", "  Chloé  ", "ÉMILE", "", None], dtype=object)
    whens = np.array(["31/01/2024", "01/02/2024", "15/03/2023", "not a date", None, "29/02/2024"], dtype=object)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "amount": amount,
        "count": count,
        "price_text": np.array(["1 000", "2.5", "x", None, "1_250", "7"], dtype=object)[np.arange(n) % 6],
        "flag": np.array(["yes", "No", " Y", "maybe", None, "off", "1", "TRUE"], dtype=object)[np.arange(n) % 8],
        "city": pd.Categorical(cities[np.arange(n) % 8]),
        "name": names[np.arange(n) % 6],
        "when": whens[np.arange(n) % 6],
        "code": np.array(["A-1-x", "B-2", "C", None], dtype=object)[np.arange(n) % 4],
        "seen": pd.to_datetime("2024-01-01") + pd.to_timedelta(np.arange(n) * 7, unit="D"),
        "ratio": rng.uniform(0, 1, n),
    })
    frame.loc[[1, 7, 11], "ratio"] = np.nan
    frame.iloc[10] = frame.iloc[4]  # a duplicate row (also its id)
    frame.loc[[0, 25], "city"] = np.nan
    return frame


@pytest.fixture
def messy() -> pd.DataFrame:
    return messy_frame()
