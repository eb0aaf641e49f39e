"""Scoring new rows: the schema check, conversion to the training types, identical predictions from any format."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import export, ingest, scoring
from core.errors import InputError
from core.recipe import Recipe
from core.steps.filter import FilterRows
from tests.conftest import dataset_path
from tests.model_helpers import load, make_bundle


@pytest.fixture(scope="module")
def penguins():
    return load(dataset_path("penguins.csv"))


@pytest.fixture(scope="module")
def species_model(penguins):
    frame, kinds = penguins
    return make_bundle(frame, kinds, "species", "multiclass", families=("catboost", "rf"))


@pytest.fixture(scope="module")
def credit():
    frame, kinds = load(dataset_path("credit_scoring.csv"))
    return frame.iloc[:1500], kinds


@pytest.fixture(scope="module")
def credit_model(credit):
    frame, kinds = credit
    return make_bundle(frame, kinds, "Status", "binary")


def test_a_missing_column_is_an_error_that_names_it(species_model, penguins):
    frame = penguins[0].drop(columns=["island", "bill_depth_mm"])
    with pytest.raises(InputError, match=r"lacks 2 column\(s\) the model was trained with: 'island', 'bill_depth_mm'"):
        scoring.score(species_model, frame)
    check = scoring.check_schema(species_model, frame)  # the check itself never raises
    assert not check.ok and check.missing == ["island", "bill_depth_mm"]
    assert "names must match exactly" in str(check.error())


def test_extra_columns_and_the_target_are_ignored_with_a_notice(species_model, penguins):
    frame = penguins[0]
    plain = scoring.score(species_model, frame.drop(columns=["species"]))
    extra = scoring.score(species_model, frame.assign(note="x", weight_kg=1.0))
    pd.testing.assert_frame_equal(plain.predictions, extra.predictions)
    notices = extra.check.notices()
    assert notices[0] == "2 column(s) the model does not use are ignored: 'note', 'weight_kg'."
    assert notices[1] == "The table has the target column 'species'; it is not used to predict."
    assert plain.check.notices() == [] and plain.check.warnings() == []


def test_unreadable_values_are_reported_and_count_as_missing(species_model, penguins):
    frame = penguins[0].drop(columns=["species"]).head(40)
    broken = frame.astype({"bill_length_mm": object})
    broken.loc[broken.index[:3], "bill_length_mm"] = ["n/a", "=1+2", "39,1"]
    scored = scoring.score(species_model, broken)
    (problem,) = scored.check.mismatches
    assert (problem.column, problem.expected, problem.found, problem.unreadable) == \
        ("bill_length_mm", "float", "labels", 3)
    assert problem.examples == ["n/a", "=1+2", "39,1"]
    assert scored.check.warnings() == [
        "Column 'bill_length_mm' held numbers in training (float); the new data has labels: 3 of the 39 value(s) given "
        "cannot be read as numbers (e.g. 'n/a', '=1+2', '39,1') and count as missing."]
    as_missing = frame.copy()
    as_missing.loc[as_missing.index[:3], "bill_length_mm"] = np.nan
    pd.testing.assert_frame_equal(scored.predictions, scoring.score(species_model, as_missing).predictions)


def test_numbers_where_labels_were_expected_are_reported_and_read_as_labels(credit_model, credit):
    frame = credit[0].drop(columns=["Status"]).head(30)
    coded = frame.assign(Home=np.arange(30) % 3 * 1.0)  # 0.0, 1.0, 2.0: read as "0", "1", "2"
    scored = scoring.score(credit_model, coded)
    (problem,) = scored.check.mismatches
    assert (problem.column, problem.found, problem.unreadable) == ("Home", "numbers", 0)
    assert "read as labels: labels the model never saw count as unknown" in problem.sentence()
    rows, _ = scoring.conform(credit_model, coded)
    assert isinstance(rows["Home"].dtype, pd.CategoricalDtype)
    assert set(rows["Home"].astype(str)) == {"0", "1", "2"}


def test_an_all_missing_column_is_a_warning(species_model, penguins):
    frame = penguins[0].drop(columns=["species"]).head(10).assign(island=None)
    scored = scoring.score(species_model, frame)
    assert scored.check.empty == ["island"]
    assert "Every value is missing in 1 column(s) the model uses: 'island'." in scored.check.warnings()
    assert len(scored.predictions) == 10


def _json_records(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as a client would send them: JSON values, then a table again."""
    text = frame.to_json(orient="records", date_format="iso")
    return pd.DataFrame.from_records(json.loads(text))


@pytest.mark.parametrize("dataset", ["penguins", "credit"])
def test_csv_parquet_and_json_records_of_the_same_rows_score_identically(dataset, request):
    frame, _ = request.getfixturevalue(dataset)
    bundle = request.getfixturevalue("species_model" if dataset == "penguins" else "credit_model")
    rows = frame.drop(columns=[bundle.target]).iloc[::5].reset_index(drop=True)
    from_csv = ingest.load(export.to_bytes(rows, "csv"), name="new.csv").frame
    from_parquet = ingest.load(export.to_bytes(rows, "parquet"), name="new.parquet").frame
    expected = scoring.score(bundle, rows).predictions
    for other in (from_csv, from_parquet, _json_records(rows)):
        pd.testing.assert_frame_equal(scoring.score(bundle, other).predictions, expected)


def test_dates_score_the_same_as_text_or_timestamps():
    n = 120
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-01", periods=n, freq="D")
    frame = pd.DataFrame({"when": days, "x": rng.normal(size=n),
                          "y": np.where(days.month % 2 == 0, "even", "odd")})
    kinds = {"when": "datetime", "x": "float", "y": "categorical"}
    bundle = make_bundle(frame, kinds, "y", "binary")
    rows = frame.drop(columns=["y"])
    as_text = rows.assign(when=rows["when"].dt.strftime("%Y-%m-%d"))
    checked = scoring.score(bundle, as_text)
    assert checked.check.mismatches == []
    pd.testing.assert_frame_equal(checked.predictions, scoring.score(bundle, rows).predictions)
    bad = as_text.assign(when=["soon"] + as_text["when"].tolist()[1:])
    assert scoring.score(bundle, bad).check.mismatches[0].unreadable == 1


def test_training_only_steps_are_skipped_when_scoring(penguins):
    frame, kinds = penguins
    recipe = Recipe().add(FilterRows(column="body_mass_g", operator=">", value=4000))
    bundle = make_bundle(frame, kinds, "species", "multiclass", recipe=recipe)
    light = frame[frame["body_mass_g"] <= 4000].drop(columns=["species"])
    scored = scoring.score(bundle, light)
    assert len(light) > 100 and list(scored.predictions.index) == list(light.index)
    assert scored.predictions["prediction"].notna().all()


def test_no_rows_give_no_predictions(species_model, penguins):
    scored = scoring.score(species_model, penguins[0].head(0))
    assert scored.predictions.empty
    assert list(scored.predictions.columns) == ["prediction", *[f"proba:{c}" for c in species_model.classes]]


def test_duplicate_column_names_are_refused(species_model, penguins):
    frame = penguins[0].head(3)
    doubled = pd.concat([frame, frame[["island"]]], axis=1)
    with pytest.raises(InputError, match="has the column 'island' twice"):
        scoring.score(species_model, doubled)


def test_the_caller_table_is_never_changed(credit_model, credit):
    frame = credit[0].drop(columns=["Status"]).head(20).assign(Home=np.arange(20) % 3)
    before = frame.copy()
    scoring.score(credit_model, frame)
    pd.testing.assert_frame_equal(frame, before)


def test_the_result_table_keeps_the_input_and_suffixes_clashing_names(species_model, penguins):
    frame = penguins[0].drop(columns=["species"]).head(5).assign(prediction="mine")
    scored = scoring.score(species_model, frame)
    table = scored.table(frame)
    assert list(table.columns[:len(frame.columns)]) == list(frame.columns)
    assert table["prediction"].tolist() == ["mine"] * 5
    assert table["prediction (model)"].tolist() == scored.predictions["prediction"].tolist()
    only = scored.table(frame, keep_input=False)
    assert list(only.columns) == list(scored.predictions.columns)
    risky = frame.assign(sex="=HYPERLINK(1)")
    csv = export.to_bytes(scoring.score(species_model, risky).table(risky), "csv").decode()
    assert csv.count("'=HYPERLINK(1)") == 5 and ",=HYPERLINK" not in csv


@pytest.fixture(scope="module")
def signal_model():
    """The target is the sign of 'signal'; 'noise' carries nothing."""
    rng = np.random.default_rng(1)
    n = 600
    frame = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n),
                          "colour": rng.choice(["red", "blue"], size=n)})
    frame["y"] = np.where(frame["signal"] > 0, "yes", "no")
    kinds = {"signal": "float", "noise": "float", "colour": "categorical", "y": "categorical"}
    return make_bundle(frame, kinds, "y", "binary"), frame


def test_each_rows_top_reason_is_the_feature_that_decides_it_and_supports_the_prediction(signal_model):
    bundle, frame = signal_model
    rows = frame.drop(columns=["y"]).iloc[[0, 1, 2, 3, 4, 5]]
    scored = scoring.score(bundle, rows, explain=2)
    reasons = scored.reasons
    assert list(reasons.columns) == ["reason 1", "reason 2"] and list(reasons.index) == list(rows.index)
    assert set(scored.predictions["prediction"]) == {"yes", "no"}  # both classes among the rows
    for (_, row), text in zip(rows.iterrows(), reasons["reason 1"]):
        assert text.startswith(f"signal = {row['signal']:.4g} (+")  # for 'no' rows too: toward the prediction
        assert text.endswith(" log-odds)")
    table = scored.table(rows)
    assert list(table.columns[-2:]) == ["reason 1", "reason 2"]


def test_multiclass_reasons_speak_for_the_predicted_class(species_model, penguins):
    rows = penguins[0].drop(columns=["species"]).dropna().iloc[::40]
    scored = scoring.score(species_model, rows, explain=3)
    assert scored.reasons.notna().all().all()
    effects = scored.reasons["reason 1"].str.extract(r"\(([+-][\d.]+) pts\)")[0].astype(float)
    assert (effects.abs() >= scored.reasons["reason 2"].str.extract(r"\(([+-][\d.]+) pts\)")[0].astype(float)
            .abs()).all()  # largest effect first


@pytest.mark.parametrize("k", [0.5, 11, True])
def test_the_number_of_reasons_is_checked(signal_model, k):
    from core.errors import ValidationError

    bundle, frame = signal_model
    with pytest.raises(ValidationError, match="number of reasons per row must be a whole number from 1 to 10"):
        scoring.top_reasons(bundle, frame.head(2), bundle.predict(frame.head(2)), k)


def test_reasons_for_too_many_rows_are_refused_with_what_to_do(signal_model, monkeypatch):
    from core.errors import ValidationError

    bundle, frame = signal_model
    monkeypatch.setattr(scoring, "MAX_EXPLAINED_ROWS", 100)
    with pytest.raises(ValidationError, match="at most 100 rows at a time; this table has 600") as info:
        scoring.score(bundle, frame, explain=1)
    assert "Score without reasons, or split the table." in str(info.value)
    assert scoring.score(bundle, frame).reasons is None
