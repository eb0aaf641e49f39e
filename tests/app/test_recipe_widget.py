"""ui/recipe.py (the recipe list the Clean and Features pages share), driven by AppTest."""

from __future__ import annotations

from tests.app.conftest import shown

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import store
from core.recipe import Recipe


def _script():
    import streamlit as st

    from core.steps import step_from_dict
    from ui import recipe as recipe_ui

    view = recipe_ui.current(st.session_state["test.dataset"], key="t.recipe")
    if st.button("Add", key="add"):
        step = step_from_dict({"kind": "drop_columns", "columns": [f"c{len(view.recipe.clean)}"]})
        recipe_ui.commit(view, view.recipe.add(step), note=f"Add: {step.describe()}")
    recipe_ui.editor(view, "clean")


@pytest.fixture
def dataset_id(demo_project) -> int:
    with store.write_session() as s:
        return store.save_dataset(s, demo_project, "data", pd.DataFrame({"c0": [1], "c1": [2]})).id


def _steps(dataset_id) -> list[str]:
    with store.read_session() as s:
        head = store.head_recipe(s, dataset_id)
    return [step.describe() for step in Recipe.from_dict(head.steps if head else {}).clean]


def _shown(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**")]


def test_add_undo_redo_move_and_remove(dataset_id):
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state["test.dataset"] = dataset_id
    at.run()
    assert not at.exception
    assert "No steps yet." in [c.value for c in at.caption]
    assert at.button(key="t_recipe_undo").disabled and at.button(key="t_recipe_redo").disabled
    at.button(key="add").click().run()
    at.button(key="add").click().run()
    assert _steps(dataset_id) == ["Drop 'c0'", "Drop 'c1'"]
    assert _shown(at) == ["**1.** Drop 'c0'", "**2.** Drop 'c1'"]
    assert at.button(key="t_recipe_up_0").disabled and at.button(key="t_recipe_down_1").disabled

    at.button(key="t_recipe_undo").click().run()
    assert _steps(dataset_id) == ["Drop 'c0'"] and _shown(at) == ["**1.** Drop 'c0'"]
    assert "Drop 'c1'" in at.button(key="t_recipe_redo").help
    at.button(key="t_recipe_redo").click().run()
    assert _steps(dataset_id) == ["Drop 'c0'", "Drop 'c1'"]

    at.button(key="t_recipe_down_0").click().run()
    assert _steps(dataset_id) == ["Drop 'c1'", "Drop 'c0'"]
    at.button(key="t_recipe_remove_1").click().run()
    assert _steps(dataset_id) == ["Drop 'c1'"] and not at.exception


def test_an_edit_on_a_stale_screen_is_refused_and_loses_nothing(dataset_id):
    at = AppTest.from_function(_script, default_timeout=30)
    at.session_state["test.dataset"] = dataset_id
    at.run()
    at.button(key="add").click().run()
    with store.write_session() as s:  # someone else, in another tab, adds a step meanwhile
        head = store.head_recipe(s, dataset_id)
        theirs = Recipe.from_dict(head.steps).to_dict()
        theirs["clean"].append({"kind": "rename_columns", "mapping": {"c1": "theirs"}})
        store.save_recipe(s, dataset_id, theirs, expected_head=head.id, note="their edit")
    at.button(key="t_recipe_remove_0").click().run()  # our screen still shows one step
    assert not at.exception
    assert any("changed by someone else" in e for e in shown(at.error))
    assert _steps(dataset_id) == ["Drop 'c0'", "Rename 'c1' → 'theirs'"]
    assert len(_shown(at)) == 2, "the page now shows their version"
    at.button(key="t_recipe_undo").click().run()  # now the user has seen it: undo works
    assert _steps(dataset_id) == ["Drop 'c0'"] and not at.error
