"""Two sessions editing the same dataset's recipe on the Clean page: no edit is lost
silently. The second writer is told, the first writer's step stays, and after a reload
the second can add their step on top."""

from __future__ import annotations

import pandas as pd
import pytest

from core import store
from core.recipe import Recipe
from tests.app.conftest import shown


@pytest.fixture
def dataset_id(demo_project) -> int:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [4.0, None, 6.0], "c": ["x", "y", "z"]})
    with store.write_session() as s:
        return store.save_dataset(s, demo_project, "shared", frame).id


def _steps(dataset_id) -> list[str]:
    with store.read_session() as s:
        head = store.head_recipe(s, dataset_id)
    return [step.describe() for step in Recipe.from_dict(head.steps if head else {}).clean]


def _open(new_app):
    at = new_app().run()
    at.switch_page("views/clean.py").run()
    assert not at.exception
    return at


def _fill(at, column: str):
    """Choose 'Drop columns' with ``column`` in the form (each choice reruns the page)."""
    at.selectbox(key="clean.kind").set_value("drop_columns").run()
    generation = at.session_state["clean.form_generation"]
    at.multiselect(key=f"clean.form.{generation}.drop_columns.columns").set_value([column]).run()
    assert not at.exception


def _add(at):
    at.button(key="clean.add").click().run()
    assert not at.exception


def _drop(at, column: str):
    _fill(at, column)
    _add(at)


def test_the_second_writer_is_told_and_nothing_is_lost(new_app, dataset_id):
    alice, bob = _open(new_app), _open(new_app)  # both load the page: no steps yet
    _fill(alice, "a")
    _fill(bob, "c")
    _add(alice)
    assert _steps(dataset_id) == ["Drop 'a'"]

    _add(bob)  # bob's screen still shows the recipe without alice's step
    assert any("The recipe was changed by someone else while you were editing it; your change was not saved."
               in e for e in shown(bob.error)), shown(bob.error)
    assert _steps(dataset_id) == ["Drop 'a'"], "alice's step stays; bob's did not overwrite it"

    bob.run()  # bob reloads: now he sees alice's step and can add his own on top
    assert "**1.** Drop 'a'" in [m.value.replace("\\", "") for m in bob.markdown]
    _drop(bob, "c")
    assert not bob.error
    assert _steps(dataset_id) == ["Drop 'a'", "Drop 'c'"]

    alice.run()  # and alice sees both
    assert [m.value.replace("\\", "") for m in alice.markdown if m.value.startswith("**")][:2] == [
        "**1.** Drop 'a'", "**2.** Drop 'c'"]
