"""The preview of a cleaning step, and the checks behind the page's edits."""

from __future__ import annotations

import pandas as pd
import pytest

from core.cleaning import check_replay, preview, value_for
from core.errors import ValidationError
from core.recipe import MissingColumnError, Recipe
from core.steps import step_from_dict
from tests.steps.conftest import messy_frame


@pytest.fixture
def messy():
    return messy_frame()


def test_preview_of_a_cast_counts_failures_and_asks_when_most_values_are_lost(messy):
    p = preview(messy, step_from_dict({"kind": "cast", "columns": ["price_text", "flag"], "to": "number"}))
    by = {c.column: c for c in p.columns}
    assert (by["price_text"].became_missing, by["price_text"].present_before) == (8, 40)
    assert by["price_text"].examples == ("x",)
    assert by["flag"].became_missing == 35
    assert [c.column for c in p.needs_confirmation] == ["flag"]
    assert p.rows_changed == 48 and p.rows_removed == 0
    assert p.before.columns.tolist() == ["price_text", "flag"]
    assert p.before.loc[0, "price_text"] == "1 000" and p.after.loc[0, "price_text"] == "1000.0"


def test_preview_of_a_filter_shows_removed_rows(messy):
    p = preview(messy, step_from_dict({"kind": "filter_rows", "column": "amount", "operator": ">", "value": 100}))
    assert (p.rows_before, p.rows_after, p.rows_removed) == (48, 18, 30)
    assert p.changed == [] and len(p.before) == 8 and p.after.empty
    assert not set(p.before.index) & set(messy.index[messy["amount"] > 100])


def test_preview_of_a_split_counts_new_and_removed_cells(messy):
    p = preview(messy, step_from_dict({"kind": "split_column", "column": "code", "delimiter": "-",
                                       "into": ["a", "b"]}))
    kinds = {c.column: c.change for c in p.changed}
    assert kinds == {"code": "removed", "a": "added", "b": "added"}
    assert p.rows_changed == 36 and p.cells_changed == 36 + 36 + 25
    assert p.after.columns.tolist() == ["a", "b"] and p.after.iloc[0].tolist() == ["A", "1-x"]


def test_preview_of_an_impute_counts_cells(messy):
    p = preview(messy, step_from_dict({"kind": "impute", "columns": ["amount"], "strategy": "median"}))
    assert p.cells_changed == 3 and p.rows_changed == 3 and p.needs_confirmation == []
    assert p.summary_table().iloc[0].tolist() == ["amount", "values", "3 → 0", 3, 0, ""]


def test_preview_names_the_step_number_in_errors(messy):
    with pytest.raises(ValidationError, match=r"Clean step 4 \(Fill missing 'city' with mean\)"):
        preview(messy, step_from_dict({"kind": "impute", "columns": ["city"], "strategy": "mean"}), number=4)


def test_check_replay_refuses_moves_that_break_the_column_flow(messy):
    recipe = Recipe.from_dict({"clean": [
        {"kind": "rename_columns", "mapping": {"amount": "total"}},
        {"kind": "impute", "columns": ["total"]},
    ]})
    check_replay(recipe, messy)
    with pytest.raises(MissingColumnError, match=r"Clean step 1 \(Fill missing 'total' with median\) uses the column"):
        check_replay(recipe.move("clean", 1, 0), messy)


@pytest.mark.parametrize("series, text, expected", [
    (pd.Series([1, 2]), " 12 ", 12),
    (pd.Series([1.5]), "3", 3.0),
    (pd.Series([1.5]), "1_000.5", 1000.5),
    (pd.Series([True]), "False", False),
    (pd.Series(pd.to_datetime(["2024-01-01"])), "2024-02-03", "2024-02-03T00:00:00"),
    (pd.Series(["a"]), " Paris ", "Paris"),
])
def test_value_for_reads_typed_text_in_the_columns_terms(series, text, expected):
    got = value_for(series, text)
    assert got == expected and type(got) is type(expected)


def test_value_for_refuses_text_in_a_number_column():
    with pytest.raises(ValidationError, match="'n' holds numbers; 'ten' is not a number"):
        value_for(pd.Series([1], name="n"), "ten")
