"""core.drift: per-column tests, schema diff, verdicts, domain classifier, time slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import drift
from core.errors import InputError, ValidationError
from tests.conftest import dataset_path


@pytest.fixture(scope="module")
def diamonds() -> pd.DataFrame:
    return pd.read_csv(dataset_path("diamonds.csv"))


def halves(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    return frame.iloc[order[:half]].reset_index(drop=True), frame.iloc[order[half:]].reset_index(drop=True)


# --------------------------------------------------------------------------- no drift


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_two_random_halves_are_stable(diamonds, seed):
    ref, cur = halves(diamonds, seed)
    result = drift.compare(ref, cur, config=drift.DriftConfig(seed=seed))
    assert result.status == "stable", result.headline
    assert [c.status for c in result.columns] == ["stable"] * 10
    assert result.drift_share == 0.0
    assert 0.45 < result.domain.auc < 0.55 and result.domain.status == "stable"
    assert result.headline.startswith("No drift: none of the 10 compared columns changed materially. A classifier "
                                      "cannot tell the rows apart (ROC-AUC 0.5")


@pytest.mark.parametrize("name", ["penguins.csv", "credit_scoring.csv", "bikeshare.csv"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_halves_of_small_tables_never_drift(name, seed):
    """Small samples make effect sizes noisy: significance keeps them from being flagged."""
    ref, cur = halves(pd.read_csv(dataset_path(name)), seed)
    result = drift.compare(ref, cur, config=drift.DriftConfig(seed=seed))
    assert result.drifted == [] and result.domain.status != "drift", result.headline
    assert result.status in ("stable", "warning")


def test_a_tiny_shift_in_a_big_sample_is_significant_but_not_drift():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 200_000)})
    cur = pd.DataFrame({"x": rng.normal(0.03, 1, 200_000)})
    result = drift.compare(ref, cur, config=drift.DriftConfig(classifier_rows=0))
    column = result.column("x")
    assert column.p_adjusted < 1e-6  # a p-value alone would call this drift
    assert column.status == "stable" and column.wasserstein < 0.05
    assert "a real but small change" in column.reasons[0]


# --------------------------------------------------------------------------- injected drift


def _shift_carat(cur, diamonds):
    cur["carat"] = cur["carat"] + 0.3 * diamonds["carat"].std()


def _move_colour(cur, diamonds):
    rows = cur.sample(frac=0.2, random_state=0).index
    cur.loc[rows, "color"] = "J"


def _blank_depth(cur, diamonds):
    cur.loc[cur.sample(frac=0.1, random_state=0).index, "depth"] = np.nan


@pytest.mark.parametrize("inject, column, words", [
    (_shift_carat, "carat", "Wasserstein 0.3"),
    (_move_colour, "color", "'J'"),
    (_blank_depth, "depth", "missing 0.0% → 10.0%"),
])
def test_a_shift_in_one_column_is_found_there_only(diamonds, inject, column, words):
    ref, cur = halves(diamonds, 7)
    inject(cur, diamonds)
    result = drift.compare(ref, cur)
    assert [c.name for c in result.drifted] == [column]
    assert all(c.status == "stable" for c in result.columns if c.name != column)
    assert words in "; ".join(result.column(column).reasons)
    assert result.status == "drift"
    assert result.headline.startswith(f"Drift: 1 of 10 columns drifted ({column})")
    assert result.drift_share == pytest.approx(0.1)


def test_the_domain_classifier_names_the_shifted_column(diamonds):
    ref, cur = halves(diamonds, 3)
    cur["table"] = cur["table"] + 2.0 * diamonds["table"].std()
    result = drift.compare(ref, cur)
    assert result.domain.status == "drift" and result.domain.auc > 0.9
    assert result.domain.top[0]["column"] == "table"
    assert result.domain.rows == [10_000, 10_000]


def test_the_domain_classifier_sees_a_changed_relation_no_column_shows():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20_000)
    ref = pd.DataFrame({"a": a[:10_000], "b": a[:10_000] + rng.normal(0, 0.1, 10_000)})
    cur = pd.DataFrame({"a": a[10_000:], "b": -a[10_000:] + rng.normal(0, 0.1, 10_000)})
    result = drift.compare(ref, cur)
    assert result.drifted == []  # each column alone still looks the same
    assert result.domain.status == "drift" and result.status == "drift"
    assert result.headline.startswith("Drift: no single column moved enough, but the rows as a whole differ.")


# --------------------------------------------------------------------------- categories and schema


def test_a_new_category_is_listed_and_warned_about(diamonds):
    ref, cur = halves(diamonds, 0)
    cur["cut"] = cur["cut"].astype(object)
    cur.loc[cur.sample(frac=0.02, random_state=1).index, "cut"] = "Astor"
    result = drift.compare(ref, cur)
    [new] = result.schema.new_categories
    assert new["column"] == "cut" and list(new["labels"]) == ["Astor"]
    assert new["share"] == pytest.approx(0.02, abs=0.001)
    column = result.column("cut")
    assert column.status == "warning" and column.details["n_new"] == 1
    assert "1 new category ('Astor'; 2.0% of current rows)" in column.reasons
    assert "Column 'cut' has new categories: 'Astor' (2.0%)." in result.schema.lines()


def test_a_large_new_category_is_drift(diamonds):
    ref, cur = halves(diamonds, 0)
    cur["cut"] = cur["cut"].astype(object)
    cur.loc[cur.sample(frac=0.3, random_state=1).index, "cut"] = "Astor"
    column = drift.compare(ref, cur).column("cut")
    assert column.status == "drift" and column.js > 0.2 and column.psi > 0.25


def test_different_schemas_give_a_clear_diff_and_no_crash(diamonds):
    ref, cur = halves(diamonds, 0)
    cur = cur.rename(columns={"price": "Price", "table": "width"}).drop(columns=["z"])
    cur["depth"] = cur["depth"].astype(str)
    cur.loc[:4, "depth"] = "n/a"
    cur["vendor"] = "acme"
    result = drift.compare(ref, cur)
    s = result.schema
    assert s.removed == ["table", "price", "z"] and s.added == ["width", "Price", "vendor"]
    assert s.renamed == [{"reference": "price", "current": "Price", "why": "same name but for case and spacing"},
                         {"reference": "table", "current": "width", "why": "same values"}]
    assert s.type_changes == [{"column": "depth", "reference": "number", "current": "text", "unreadable": 5}]
    assert s.lines()[:4] == [
        "Column 'price' is missing; 'Price' is probably it renamed (same name but for case and spacing).",
        "Column 'table' is missing; 'width' is probably it renamed (same values).",
        "Column 'z' is missing from the current table.",
        "Column 'vendor' is new in the current table.",
    ]
    assert "Column 'depth' changed type: number → text; 5 value(s) could not be read as a number and count as " \
           "missing." in s.lines()
    depth = result.column("depth")  # compared as numbers: the unreadable values are missing ones
    assert depth.test == "numeric" and depth.missing_cur == pytest.approx(5 / len(cur))
    assert [c.name for c in result.columns] == ["carat", "cut", "color", "clarity", "depth", "x", "y"]
    assert result.status == "warning"
    assert result.headline.startswith("Warning: no material drift, but the schema changed (2 columns renamed, "
                                      "1 column missing, 1 new column, 1 type change). A classifier cannot tell")


def test_tables_with_no_column_in_common():
    result = drift.compare(pd.DataFrame({"a": [1, 2, 3]}), pd.DataFrame({"b": ["x", "y", "z"]}))
    assert result.columns == [] and result.schema.removed == ["a"] and result.schema.added == ["b"]
    assert result.domain.auc is None and "No column could be compared" in result.domain.note
    assert result.status == "warning"


def test_dates_text_and_ids_are_described_not_tested():
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    frame = pd.DataFrame({"when": days, "row_id": np.arange(40),
                          "note": [f"customer wrote a long complaint number {i}" for i in range(40)],
                          "amount": np.arange(40.0) % 7})
    result = drift.compare(frame.iloc[:20], frame.iloc[20:])
    statuses = {c.name: (c.status, c.test) for c in result.columns}
    assert statuses == {"when": ("not tested", "none"), "row_id": ("not tested", "none"),
                        "note": ("not tested", "none"), "amount": ("stable", "numeric")}
    when = next(r for r in result.schema.ranges if r["column"] == "when")
    assert when["reference"] == ["2024-01-01 00:00:00", "2024-01-20 00:00:00"] and when["outside"] == 1.0


@pytest.mark.parametrize("dtype", ["float64", "Int64", "Float64"])
def test_missing_values_and_infinities_count_as_missing(dtype):
    ref = pd.Series(np.arange(100) % 10, dtype="float64")
    cur = ref.copy()
    if dtype == "float64":
        cur[:10] = np.inf
    cur = cur.astype(dtype)
    if dtype != "float64":
        cur[:10] = pd.NA
    column = drift.compare(pd.DataFrame({"v": ref}), pd.DataFrame({"v": cur}),
                           config=drift.DriftConfig(classifier_rows=0)).column("v")
    assert (column.missing_ref, column.missing_cur) == (0.0, 0.1)
    assert column.details["cur"]["count"] == 90


def test_a_column_missing_everywhere_in_the_current_table():
    ref = pd.DataFrame({"v": np.arange(50.0), "w": np.arange(50.0) % 5})
    cur = pd.DataFrame({"v": [None] * 50, "w": np.arange(50.0) % 5})
    result = drift.compare(ref, cur)
    v = result.column("v")
    assert v.status == "drift" and v.reasons[0] == "missing 0.0% → 100.0%"
    assert "every value is missing in the current table" in v.reasons
    assert result.schema.type_changes == []


def test_booleans_unicode_names_and_category_dtypes():
    ref = pd.DataFrame({"größe ✓": [True, False] * 50, "farbe": pd.Categorical(["rot", "blau"] * 50)})
    cur = pd.DataFrame({"größe ✓": [True] * 100, "farbe": pd.Categorical(["rot", "blau"] * 50)})
    result = drift.compare(ref, cur)
    assert result.column("größe ✓").test == "categorical" and result.column("größe ✓").status == "drift"
    assert result.column("farbe").status == "stable"
    assert result.column("größe ✓").details["lost"] == {"False": 0.5}


@pytest.mark.parametrize("frames, message", [
    ((pd.DataFrame({"a": []}), pd.DataFrame({"a": [1]})), "The reference table is empty (0 rows, 1 columns)."),
    ((pd.DataFrame({"a": [1]}), pd.DataFrame(index=range(3))), "The current table is empty (3 rows, 0 columns)."),
    ((pd.DataFrame([[1, 2]], columns=["a", "a"]), pd.DataFrame({"a": [1]})),
     "The reference table has two columns named 'a'."),
])
def test_unusable_tables_are_refused_with_a_reason(frames, message):
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        drift.compare(*frames)


@pytest.mark.parametrize("changes, message", [
    ({"alpha": 1.5}, "The 'alpha' parameter of DriftConfig must be a number strictly between 0 and 1. Got 1.5"),
    ({"bins": 1}, "The 'bins' parameter of DriftConfig must be an integer >= 2. Got 1 instead."),
    ({"psi_warning": 0.3}, "DriftConfig: psi_warning must not be above psi_drift."),
])
def test_config_is_validated(changes, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(".", r"\.")):
        drift.DriftConfig(**changes)


def test_result_round_trips_through_its_dict(diamonds):
    ref, cur = halves(diamonds, 0)
    result = drift.compare(ref.head(2000), cur.head(2000))
    again = drift.DriftResult.from_dict(result.to_dict())
    assert again.to_dict() == result.to_dict()
    assert result.to_dict()["format"] == "assay.drift"
    with pytest.raises(InputError, match="This is not an Assay drift report."):
        drift.DriftResult.from_dict({"columns": []})


def test_same_seed_same_result(diamonds):
    ref, cur = halves(diamonds, 0)
    first = drift.compare(ref, cur, config=drift.DriftConfig(seed=5)).to_dict()
    second = drift.compare(ref, cur, config=drift.DriftConfig(seed=5)).to_dict()
    first.pop("created_at"), second.pop("created_at")
    assert first == second


# --------------------------------------------------------------------------- time slices


def test_split_by_a_date_and_by_a_number():
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=10, freq="D", tz="Europe/Oslo"),
                          "day": np.arange(10), "v": np.arange(10.0)})
    frame.loc[3, "when"] = pd.NaT
    before, after = drift.split_by(frame, "when", "2024-01-06")
    assert before["day"].tolist() == [0, 1, 2, 4] and after["day"].tolist() == [5, 6, 7, 8, 9]
    before, after = drift.split_by(frame, "day", 7)
    assert len(before) == 7 and len(after) == 3


@pytest.mark.parametrize("column, cut, message", [
    ("v", 100, "No rows from 100.0 in 'v': it runs from 0.0 to 9.0."),
    ("label", "b", "Column 'label' holds neither dates nor numbers"),
    ("nope", 1, "There is no column 'nope' to slice on."),
    ("v", "soon", "'soon' is not a number, and 'v' holds numbers."),
])
def test_split_by_explains_a_bad_cut(column, cut, message):
    frame = pd.DataFrame({"v": np.arange(10.0), "label": list("ab") * 5})
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        drift.split_by(frame, column, cut)


def test_column_names_that_are_not_strings():
    ref = pd.DataFrame({0: np.arange(30.0), 1: list("ab") * 15})
    result = drift.compare(ref, ref.copy())
    assert [c.name for c in result.columns] == ["0", "1"] and result.status == "stable"


def test_kinds_override_how_a_column_is_compared():
    ref = pd.DataFrame({"zone": [1, 2, 3, 4] * 25})
    cur = pd.DataFrame({"zone": [1, 2, 3, 5] * 25})
    as_labels = drift.compare(ref, cur, kinds={"zone": "categorical"}).column("zone")
    assert as_labels.test == "categorical" and as_labels.details["new"] == {"5": 0.25}
    assert drift.compare(ref, cur).column("zone").test == "numeric"
    with pytest.raises(ValidationError, match=r"The \"kinds\['zone'\]\" parameter of compare must be one of"):
        drift.compare(ref, cur, kinds={"zone": "number"})
