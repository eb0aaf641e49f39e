"""Recipes: JSON round trips, validation messages, and replay."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import ValidationError
from core.recipe import Recipe
from core.steps import STEPS, step_from_dict
from core.steps.columns import DropColumns, RenameColumns


@pytest.fixture
def frame():
    return pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 1.5]})


def test_steps_never_change_their_input(frame):
    before = frame.copy()
    out = RenameColumns(mapping={"a": "A"}).apply(DropColumns(columns=["b"]).apply(frame))
    assert list(out.columns) == ["A", "c"]
    pd.testing.assert_frame_equal(frame, before)


def test_recipe_round_trips_through_json(frame):
    recipe = Recipe().add(DropColumns(columns=["b"])).add(RenameColumns(mapping={"a": "alpha"}))
    again = Recipe.from_json(recipe.to_json())
    assert again == recipe and again.sha == recipe.sha
    assert again.apply_clean(frame)[0].columns.tolist() == ["alpha", "c"]


def test_edits_return_new_recipes():
    one = Recipe().add(DropColumns(columns=["a"]))
    two = one.add(DropColumns(columns=["b"]))
    assert len(one) == 1 and len(two) == 2
    assert two.move("clean", 1, 0).clean[0] == DropColumns(columns=["b"])
    assert two.remove("clean", 0).clean == (DropColumns(columns=["b"]),)
    with pytest.raises(ValidationError, match="no clean step number 5"):
        two.remove("clean", 4)


def test_a_step_on_a_column_an_earlier_step_removed_names_both(frame):
    recipe = Recipe().add(RenameColumns(mapping={"a": "alpha"})).add(DropColumns(columns=["a"]))
    with pytest.raises(ValidationError, match=r"Clean step 2 \(Drop 'a'\) uses the column 'a', which is not in the data"):
        recipe.apply_clean(frame)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"clean": [{"kind": "explode"}]}, r"Clean step 1: The 'kind' parameter of recipe step must be one of \["),
        ({"clean": [{"kind": "drop_columns"}]}, "needs the parameter 'columns'"),
        ({"clean": [{"kind": "drop_columns", "columns": []}]}, "must be a list of at least 1"),
        ({"clean": [{"kind": "drop_columns", "columns": ["a"], "extra": 1}]}, "has no parameter 'extra'"),
        ({"clean": "drop"}, "must be a list of steps"),
        ({"format": "other"}, "not an Assay recipe"),
        ({"version": 99}, "reads up to 1"),
        ({"cleaning": []}, "unknown field 'cleaning'"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_bad_recipes_are_refused_with_a_message(data, message):
    with pytest.raises(ValidationError, match=message):
        Recipe.from_dict(data)


def test_invalid_json_says_where():
    with pytest.raises(ValidationError, match="not valid JSON: .* at line 2"):
        Recipe.from_json('{"clean": [\n  oops ]}')


@pytest.mark.parametrize("kind", sorted(STEPS))
def test_every_registered_step_declares_itself(kind):
    cls = STEPS[kind]
    assert cls.kind == kind
    assert cls.stage in ("clean", "feature")
    assert cls.__doc__, f"{cls.__name__} needs a docstring"


def test_step_from_dict_checks_parameter_types():
    with pytest.raises(ValidationError, match=r"The 'columns' parameter of DropColumns must be a list"):
        step_from_dict({"kind": "drop_columns", "columns": "a"})
