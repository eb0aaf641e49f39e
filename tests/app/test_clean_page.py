"""The Clean page driven through Streamlit's AppTest."""

from __future__ import annotations

from tests.app.conftest import shown

import pytest

from core import datasets, ingest, store
from core.recipe import Recipe
from core.steps import STEPS
from tests.conftest import dataset_path
from ui.cleaning import KINDS


@pytest.fixture
def penguins(demo_project) -> int:
    loaded = ingest.load(dataset_path("penguins.csv"))
    with store.write_session() as s:
        return datasets.save_loaded(s, demo_project, "penguins", loaded, {"target": "species"}).id


def _open(new_app):
    at = new_app().run()
    at.switch_page("views/clean.py").run()
    assert not at.exception
    return at


def _steps(dataset_id) -> list[str]:
    with store.read_session() as s:
        head = store.head_recipe(s, dataset_id)
    return [step.describe() for step in Recipe.from_dict(head.steps if head else {}).clean]


def _form(at, name: str, generation: int = 0):
    return f"clean.form.{generation}.{at.selectbox(key='clean.kind').value}.{name}"


def test_every_cleaning_kind_has_a_form_that_draws(new_app, penguins):
    assert sorted(KINDS) == sorted(k for k, c in STEPS.items() if c.stage == "clean")
    at = _open(new_app)
    for kind in KINDS:
        at.selectbox(key="clean.kind").set_value(kind).run()
        assert not at.exception, kind
        assert not at.error, (kind, [e.value for e in at.error])


def test_a_lossy_cast_asks_first_then_add_undo_redo(new_app, penguins):
    at = _open(new_app)
    assert "No steps yet: the table is as it was uploaded." in [c.value for c in at.caption]
    at.selectbox(key="clean.kind").set_value("cast").run()
    at.multiselect(key=_form(at, "columns")).set_value(["sex"]).run()
    at.selectbox(key=_form(at, "to")).set_value("boolean").run()
    assert not at.exception
    assert any("333 of 333 values of sex become missing" in w.value for w in at.warning)
    add = at.button(key="clean.add")
    assert add.disabled, "a cast losing most of a column must be confirmed first"
    confirm = next(c for c in at.checkbox if c.label.startswith("Yes, turn more than half"))
    confirm.check().run()
    at.button(key="clean.add").click().run()
    assert not at.exception
    assert _steps(penguins) == ["Cast 'sex' to boolean"]

    at.selectbox(key="clean.kind").set_value("impute").run()
    at.multiselect(key=_form(at, "columns", 1)).set_value(["bill_length_mm"]).run()
    assert [m.value for m in at.metric][:3] == ["344", "2", "2"]
    at.button(key="clean.add").click().run()
    assert _steps(penguins) == ["Cast 'sex' to boolean", "Fill missing 'bill_length_mm' with median"]
    assert "after 2 step(s)" in " ".join(c.value for c in at.caption)

    at.button(key="clean_recipe_undo").click().run()
    assert _steps(penguins) == ["Cast 'sex' to boolean"]
    at.button(key="clean_recipe_redo").click().run()
    assert len(_steps(penguins)) == 2 and not at.exception


def test_a_filter_preview_then_the_cleaned_table(new_app, penguins):
    at = _open(new_app)
    at.selectbox(key="clean.kind").set_value("filter_rows").run()
    at.selectbox(key=_form(at, "column")).set_value("island").run()
    at.selectbox(key=_form(at, "op.island")).set_value("==").run()
    at.selectbox(key=_form(at, "value.island.==")).set_value("Dream").run()
    assert not at.exception
    assert [m.value for m in at.metric][0] == "124"
    assert any("Training-only step" in i.value for i in at.info)
    at.button(key="clean.add").click().run()
    assert _steps(penguins) == ["Keep rows where 'island' == 'Dream'"]
    table = at.dataframe[-1].value
    assert set(table["island"]) == {"Dream"} and "The first 200 of 124 rows." in [c.value for c in at.caption]


def test_a_broken_recipe_shows_the_step_and_can_still_be_fixed(new_app, penguins):
    broken = Recipe.from_dict({"clean": [{"kind": "drop_columns", "columns": ["year"]},
                                         {"kind": "cast", "columns": ["year"], "to": "text"}]})
    with store.write_session() as s:
        store.save_recipe(s, penguins, broken.to_dict(), expected_head=None, note="hand-made")
    at = _open(new_app)
    assert any("Clean step 2 (Cast 'year' to text) uses the column 'year'" in e for e in shown(at.error))
    at.button(key="clean_recipe_remove_1").click().run()
    assert not at.exception and not at.error
    assert _steps(penguins) == ["Drop 'year'"]


def test_a_move_that_breaks_the_column_flow_is_refused(new_app, penguins):
    recipe = Recipe.from_dict({"clean": [{"kind": "rename_columns", "mapping": {"year": "when"}},
                                         {"kind": "cast", "columns": ["when"], "to": "text"}]})
    with store.write_session() as s:
        store.save_recipe(s, penguins, recipe.to_dict(), expected_head=None)
    at = _open(new_app)
    at.button(key="clean_recipe_up_1").click().run()
    assert any("uses the column 'when', which is not in the data" in e for e in shown(at.error))
    assert _steps(penguins) == ["Rename 'year' → 'when'", "Cast 'when' to text"]


def test_load_a_recipe_file_and_show_its_script(new_app, penguins):
    at = _open(new_app)
    bad = b'{"clean": [{"kind": "impute", "columns": ["sex"], "strategy": "avg"}]}'
    at.file_uploader(key="clean.load_recipe").set_value(("bad.json", bad, "application/json")).run()
    at.button(key="clean.use_recipe").click().run()
    assert any("Clean step 1: The 'strategy' parameter of Impute must be one of" in e for e in shown(at.error))
    assert _steps(penguins) == []
    good = Recipe.from_dict({"clean": [{"kind": "impute", "columns": ["sex"], "strategy": "mode"}]}).to_json()
    at.file_uploader(key="clean.load_recipe").set_value(("good.json", good.encode(), "application/json")).run()
    at.button(key="clean.use_recipe").click().run()
    assert _steps(penguins) == ["Fill missing 'sex' with mode"]
    at.toggle(key="clean.show_script").set_value(True).run()
    code = at.code[0].value
    assert "def clean(df: pd.DataFrame, scoring: bool = False)" in code
    assert "impute_values(df, values={'sex': 'male'}" in code
