"""Explanation charts show the stored numbers, escape user text, and handle label columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.charts import explain as charts
from core.explain import explain, permutation_importance
from tests.conftest import dataset_path
from tests.model_helpers import kinds_of, make_bundle


def _make(frame, target, task, families=("catboost",), **kwargs):
    """A small real bundle, the column kinds inferred as the Data page does."""
    return make_bundle(frame, kinds_of(frame), target, task, families=families, **kwargs)


@pytest.fixture(scope="module")
def results():
    penguins = pd.read_csv(dataset_path("penguins.csv"))
    renamed = penguins.rename(columns={"island": "<b>island</b>"})
    regression = _make(renamed, "body_mass_g", "regression", ("catboost",))
    binary = _make(penguins, "sex", "binary", ("catboost",))
    ensemble = _make(penguins, "species", "multiclass", ("catboost", "rf"))
    return {
        "regression": explain(regression, renamed), "binary": explain(binary, penguins),
        "multiclass": explain(ensemble, penguins, max_rows=150),
        "importance": permutation_importance(regression, renamed, repeats=2),
    }


def test_the_bar_chart_is_mean_absolute_shap_largest_on_top(results):
    expl = results["regression"]
    fig = charts.importance_figure(expl)
    bar = fig.data[0]
    ranked = expl.mean_abs()
    assert list(bar.x)[::-1] == pytest.approx(list(ranked.to_numpy()))
    assert bar.y[-1] == charts._t(ranked.index[0])
    assert "&lt;b&gt;island&lt;/b&gt;" in bar.y and "<b>island</b>" not in bar.y  # plotly would render the tags
    assert "body_mass_g" in fig.layout.xaxis.title.text


def test_permutation_bars_follow_the_shap_order_when_given(results):
    expl, importance = results["regression"], results["importance"]
    order = list(expl.mean_abs().index)
    fig = charts.permutation_figure(importance, order)
    assert list(fig.data[0].y)[::-1] == [charts._t(f) for f in order]
    by = dict(zip(importance.features, importance.mean))
    assert list(fig.data[0].x)[::-1] == pytest.approx([by[f] for f in order])


def test_the_waterfall_walks_from_the_base_to_the_rows_output(results):
    expl = results["binary"]
    label = expl.X.index[7]
    fig = charts.waterfall_figure(expl, label, limit=3)
    steps = fig.data[0]
    measures = list(steps.measure)
    assert measures[0] == "absolute" and measures[-1] == "total"
    assert sum(steps.x[:-1]) == pytest.approx(float(expl.output(0)[7]))  # base + shown steps + "other columns"
    assert steps.x[-1] == pytest.approx(float(expl.output(0)[7]))
    assert steps.y[-2].startswith(f"{len(expl.features) - 3} other column")
    probability = float(expl.predictions.loc[label, f"proba:{expl.outputs[0]}"])
    assert f"{probability:.1%}" in fig.layout.title.text  # probability alongside log-odds
    table = charts.row_table(expl, label)
    assert list(table["column"]) == list(expl.row(label)["feature"]) and len(table) == len(expl.features)


def test_the_beeswarm_greys_labels_and_colours_numbers_by_rank(results):
    expl = results["multiclass"]
    fig = charts.beeswarm_figure(expl, k=2)
    grey, coloured = fig.data
    labels = [f for f in expl.features if f in expl.categorical]
    missing = int(expl.X.drop(columns=labels).isna().sum().sum())  # a missing number has no colour either
    assert missing > 0 and len(grey.x) == expl.n * len(labels) + missing
    assert len(coloured.x) == expl.n * (len(expl.features) - len(labels)) - missing
    assert np.nanmin(coloured.marker.color) == 0.0 and np.nanmax(coloured.marker.color) == 1.0
    assert any("island = " in t for t in grey.text)
    assert "probability of Gentoo" in fig.layout.xaxis.title.text


def test_dependence_of_a_label_column_places_labels_in_effect_order(results):
    expl = results["regression"]
    feature = "species"
    fig = charts.dependence_figure(expl, feature, colour_by="sex")
    order = list(fig.layout.xaxis.ticktext)
    means = expl.frame().groupby(expl.X[feature])[feature].mean().sort_values()
    assert order == [charts._t(v) for v in means.index]
    assert {t.name for t in fig.data} == {charts._t(v) for v in expl.X["sex"].map(charts.short_value).unique()}
    numeric = charts.dependence_figure(expl, "flipper_length_mm", colour_by="bill_depth_mm")
    assert list(numeric.data[0].x) == pytest.approx(expl.X["flipper_length_mm"].to_numpy(float), nan_ok=True)


@pytest.mark.parametrize("value, space, sign, text", [
    (17814.6, "value", False, "17,815"), (277.93, "value", True, "+277.9"), (0.0812, "probability", False, "8.1%"),
    (-1.4186, "log-odds", True, "-1.42"), (float("nan"), "value", False, "nan"),
])
def test_numbers_read_as_people_write_them(value, space, sign, text):
    assert charts.number(value, space, sign) == text


def test_colours_run_from_the_lowest_to_the_highest_value():
    got = charts._low_high(pd.Series([False, True, True, None], dtype=object).astype(float))
    np.testing.assert_array_equal(got, [0.0, 1.0, 1.0, np.nan])
    assert list(charts._low_high(pd.Series([5.0, 5.0, 5.0]))) == [0.5, 0.5, 0.5]  # one value: the middle colour
