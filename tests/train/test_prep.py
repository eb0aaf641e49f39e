"""The model-input table: roles from kinds, date parts, left-out columns with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ValidationError
from core.train.prep import MISSING_LABEL, InputSpec, infer_spec


@pytest.fixture
def frame():
    n = 60
    return pd.DataFrame({
        "amount": np.linspace(1, 100, n),
        "flag": [True, False] * (n // 2),
        "city": ["Oslo", "Lima", None] * (n // 3),
        "when": pd.date_range("2024-01-01 08:00", periods=n, freq="7h"),
        "row_id": np.arange(n),
        "note": [f"free text number {i} with words" for i in range(n)],
        "constant": 1,
        "empty": np.nan,
        "code": [f"c{i}" for i in range(n)],
    })


def test_roles_date_parts_and_reasons(frame):
    kinds = {"row_id": "id", "note": "text"}
    spec, dropped = infer_spec(frame, kinds, exclude={"amount"})
    assert spec.columns == (("flag", "numeric"), ("city", "categorical"), ("when", "datetime"))
    assert spec.parts["when"] == ("day", "weekday", "hour", "days")  # 17 days of January 2024: no year or month
    assert dropped == {
        "row_id": "an identifier (one value per row): it cannot generalise",
        "note": "free text: add a text feature step to use it",
        "constant": "one value in every row",
        "empty": "every value is missing",
        "code": "a different label on almost every row (an identifier)",
    }
    table = spec.transform(frame)
    assert list(table.columns) == spec.feature_names and table.index.equals(frame.index)
    assert table["city"].tolist()[:3] == ["Oslo", "Lima", MISSING_LABEL]
    assert table["flag"].dtype == float and table["when.hour"].iloc[1] == 15.0


def test_scoring_text_and_infinities_become_numbers_or_missing():
    spec = InputSpec((("x", "numeric"), ("d", "datetime")), {"d": ("year", "days")})
    out = spec.transform(pd.DataFrame({"x": ["3", "inf", "n/a"], "d": ["2024-02-01", "bad", None]}))
    assert out["x"].tolist()[0] == 3.0 and out["x"].isna().tolist() == [False, True, True]
    assert out["d.year"].tolist()[0] == 2024.0 and out["d.year"].isna().sum() == 2


def test_a_spec_round_trips_and_refuses_unknown_entries():
    spec = InputSpec((("a", "numeric"), ("b", "categorical")))
    assert InputSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValidationError, match="unknown entry 'pickle'"):
        InputSpec.from_dict({"columns": [["a", "pickle"]]})


def test_missing_columns_are_named_unless_lenient():
    spec = InputSpec((("a", "numeric"), ("b", "categorical")))
    with pytest.raises(ValidationError, match=r"lack 1 column\(s\) the model needs: 'b'"):
        spec.transform(pd.DataFrame({"a": [1]}))
    assert spec.transform(pd.DataFrame({"a": [1]}), lenient=True)["b"].tolist() == [MISSING_LABEL]


def test_no_usable_column_is_refused():
    with pytest.raises(ValidationError, match="No column can be used as a model input"):
        infer_spec(pd.DataFrame({"k": np.arange(100)}), {"k": "id"})


def test_linear_models_flag_missing_numbers_only_when_enough_training_rows_miss_them():
    import numpy as np

    from core.train import zoo

    rows = pd.DataFrame({"rare": [np.nan] + [float(i) for i in range(39)],
                         "often": [np.nan] * 6 + [float(i) for i in range(34)],
                         "never": [float(i) for i in range(40)],
                         "label": ["a", "b"] * 20})
    spec, _ = infer_spec(rows)
    encoder = zoo._onehot_encoder(spec, rows).fit(rows)
    names = list(encoder.get_feature_names_out())
    assert "num__missingindicator_often" in names
    assert not any("missingindicator_rare" in n for n in names)  # one missing row teaches nothing
    assert {"num_plain__rare", "num_plain__never", "num__often"} <= set(names)
    # a row with every number missing is filled with the medians, flagged only where flags were learned
    out = np.asarray(encoder.transform(rows.iloc[:1].assign(often=np.nan, never=np.nan)))
    assert out.shape[1] == len(names)


def test_numbers_become_float_with_missing_for_na_and_infinities_and_the_input_is_untouched():
    from core.train.prep import _numbers

    cases = {
        "nullable": (pd.Series([1, None, 3], dtype="Int64"), [1.0, np.nan, 3.0]),
        "boolean": (pd.Series([True, None], dtype="boolean"), [1.0, np.nan]),
        "bool": (pd.Series([True, False]), [1.0, 0.0]),
        "infinite": (pd.Series([1.5, np.inf, -np.inf, 1e308]), [1.5, np.nan, np.nan, 1e308]),
        "text": (pd.Series(["2", "x", True, None], dtype=object), [2.0, np.nan, 1.0, np.nan]),
    }
    for name, (series, expected) in cases.items():
        before = series.copy()
        got = _numbers(series)
        assert got.dtype == "float64" and got.index.equals(series.index), name
        np.testing.assert_array_equal(got.to_numpy(), np.array(expected), err_msg=name)
        pd.testing.assert_series_equal(series, before)  # never written through to the caller's frame
