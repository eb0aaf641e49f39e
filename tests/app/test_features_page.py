"""The Features page driven through Streamlit's AppTest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import datasets, ingest, store
from core.recipe import Recipe
from tests.app.conftest import shown
from tests.conftest import dataset_path
from ui.features import KINDS


def _save(project_id: int, name: str, frame: pd.DataFrame, roles: dict) -> int:
    with store.write_session() as s:
        return store.save_dataset(s, project_id, name, frame, roles=roles,
                                  schema={"columns": {c: {"kind": k} for c, k in _kinds(frame).items()}}).id


def _kinds(frame: pd.DataFrame) -> dict:
    from core.schema import infer_column

    return {c: infer_column(frame[c]).kind.value for c in frame.columns}


@pytest.fixture
def shop(demo_project) -> int:
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        "store": rng.choice(["north", "south", "east"], n),
        "note": rng.choice(["fast delivery and kind staff", "slow, broken box", "ok nothing special to say here"], n),
        "amount": rng.lognormal(3, 1, n).round(2),
        "items": rng.integers(1, 9, n),
    })
    frame["spend"] = frame["amount"] * 2 + rng.normal(0, 1, n)
    return _save(demo_project, "shop", frame, {"target": "spend", "time": "when"})


@pytest.fixture
def bikes(demo_project) -> int:
    loaded = ingest.load(dataset_path("bikeshare.csv"))
    with store.write_session() as s:
        return datasets.save_loaded(s, demo_project, "bikeshare", loaded, {"target": "bikers"}).id


def _open(new_app):
    at = new_app().run()
    at.switch_page("views/features.py").run()
    assert not at.exception
    return at


def _form(at, name: str, generation: int = 0) -> str:
    return f"features.form.{generation}.{at.selectbox(key='features.kind').value}.{name}"


def _features(dataset_id: int) -> list[str]:
    with store.read_session() as s:
        head = store.head_recipe(s, dataset_id)
    return [step.describe() for step in Recipe.from_dict(head.steps if head else {}).features]


def test_every_feature_kind_has_a_form_that_draws(new_app, shop):
    at = _open(new_app)
    for kind in KINDS:
        at.selectbox(key="features.kind").set_value(kind).run()
        assert not at.exception, kind
        assert not at.error, (kind, shown(at.error))


def test_preview_then_add_a_feature_and_see_it_in_the_list(new_app, shop):
    at = _open(new_app)
    assert "No feature steps yet: models use the cleaned columns as they are." in [c.value for c in at.caption]
    at.selectbox(key="features.kind").set_value("one_hot").run()
    at.multiselect(key=_form(at, "columns")).set_value(["store"]).run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["New columns"] == "3" and metrics["Dropped"] == "1" and metrics["Sample rows"] == "300"
    table = at.dataframe[1].value  # [0] is what is dropped and why
    assert sorted(table["column"]) == ["store=east", "store=north", "store=south"]
    assert not table["possible leak"].any()
    assert len(at.get("plotly_chart")) == 2  # the distribution, and the target across it
    at.button(key="features.add").click().run()
    assert not at.exception
    assert _features(shop) == ["One-hot of 'store'"]
    assert any("1.** One" in m.value and "store" in m.value for m in at.markdown), [m.value for m in at.markdown]
    # the next step can use the columns the first one made
    at.selectbox(key="features.kind").set_value("combine").run()
    at.selectbox(key=_form(at, "left", 1)).set_value("store=north").run()
    at.selectbox(key=_form(at, "right", 1)).set_value("amount").run()
    at.selectbox(key=_form(at, "op", 1)).set_value("product").run()
    assert not at.error
    at.button(key="features.add").click().run()
    assert _features(shop) == ["One-hot of 'store'", "'store=north_times_amount' = 'store=north' × 'amount'"]


def test_a_leaking_feature_is_flagged_and_needs_confirmation(new_app, bikes):
    at = _open(new_app)
    at.selectbox(key="features.kind").set_value("combine").run()
    at.selectbox(key=_form(at, "left")).set_value("casual").run()
    at.selectbox(key=_form(at, "right")).set_value("registered").run()
    at.selectbox(key=_form(at, "op")).set_value("sum").run()
    assert any("Possible leak: On its own, 'casual_plus_registered' predicts 'bikers' almost perfectly" in e
               for e in shown(at.error))
    assert at.button(key="features.add").disabled
    next(c for c in at.checkbox if c.label.startswith("I know this column is available")).check().run()
    at.button(key="features.add").click().run()
    assert _features(bikes) == ["'casual_plus_registered' = 'casual' + 'registered'"]


@pytest.mark.parametrize("expression, message", [
    ("__import__('os').system('id')", "The formula calls a method or an expression"),
    ("amount.real", "attribute access"),
    ("amount * nope", "uses the column 'nope', which is not in the data"),
    ("log(store)", "'store', which is a categorical column, not a number"),
])
def test_a_bad_formula_is_refused_and_nothing_is_saved(new_app, shop, expression, message):
    at = _open(new_app)
    at.selectbox(key="features.kind").set_value("formula").run()
    at.text_input(key=_form(at, "name")).set_value("f").run()
    at.text_input(key=_form(at, "expression")).set_value(expression).run()
    assert not at.exception
    assert any(message in e for e in shown(at.error)), shown(at.error)
    assert not [b for b in at.button if b.key == "features.add"]
    assert _features(shop) == []


def test_steps_that_need_a_target_or_a_time_column_say_so(new_app, demo_project):
    frame = pd.DataFrame({"shop": ["a", "b"] * 20, "sales": np.arange(40.0)})
    _save(demo_project, "no roles", frame, {})
    at = _open(new_app)
    assert any("This dataset has no target yet" in i for i in shown(at.info))
    at.selectbox(key="features.kind").set_value("target_encode").run()
    at.multiselect(key=_form(at, "columns")).set_value(["shop"]).run()
    assert any("Target encoding needs a target, and this dataset has none" in e for e in shown(at.error))
    at.selectbox(key="features.kind").set_value("lag").run()
    at.multiselect(key=_form(at, "columns")).set_value(["sales"]).run()
    assert any("Lags need a time column" in e for e in shown(at.error))
    at.selectbox(key="features.kind").set_value("date_parts").run()
    assert any("the table has no column of a kind this step works on (datetime)" in i for i in shown(at.info))


def test_lags_default_to_the_datasets_time_column_and_export_as_python(new_app, shop):
    at = _open(new_app)
    at.selectbox(key="features.kind").set_value("lag").run()
    assert at.selectbox(key=_form(at, "time")).value == "when"
    at.multiselect(key=_form(at, "columns")).set_value(["amount", "spend"]).run()
    at.text_input(key=_form(at, "lags")).set_value("1, 7").run()
    assert not at.error, shown(at.error)
    assert sorted(at.dataframe[0].value["column"]) == ["amount_lag1", "amount_lag7", "spend_lag1", "spend_lag7"]
    at.button(key="features.add").click().run()
    at.toggle(key="features.show_code").set_value(True).run()
    assert not at.exception
    code = at.code[0].value
    assert "class AssayFeatures(TransformerMixin, BaseEstimator)" in code and "def past_value_columns" in code


def test_a_move_that_would_break_a_later_step_is_refused(new_app, shop):
    recipe = Recipe.from_dict({"features": [{"kind": "combine", "left": "amount", "right": "items", "op": "ratio"},
                                            {"kind": "log1p", "columns": ["amount_per_items"]}]})
    with store.write_session() as s:
        store.save_recipe(s, shop, recipe.to_dict(), note="two steps")
    at = _open(new_app)
    at.button(key="features_recipe_down_0").click().run()
    assert not at.exception
    assert any("uses the column 'amount_per_items'" in e for e in shown(at.error)), shown(at.error)
    assert _features(shop) == ["'amount_per_items' = 'amount' / 'items'", "Log1p of 'amount_per_items'"]
    at.button(key="features_recipe_remove_1").click().run()  # removing the last one is fine
    assert _features(shop) == ["'amount_per_items' = 'amount' / 'items'"]
