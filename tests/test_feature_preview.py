"""The feature preview: what a step adds, how the target varies with it, and the leak check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.charts.features import distribution_figure, target_figure
from core.errors import ValidationError
from core.feature_preview import preview
from core.recipe import Recipe
from core.steps import FitContext, step_from_dict
from tests.conftest import dataset_path


@pytest.fixture(scope="module")
def bikes() -> pd.DataFrame:
    return pd.read_csv(dataset_path("bikeshare.csv"))


def test_a_feature_that_adds_up_to_the_target_is_flagged(bikes):
    """bikers = casual + registered: their sum predicts the target exactly."""
    step = step_from_dict({"kind": "combine", "left": "casual", "right": "registered", "op": "sum"})
    p = preview(bikes, Recipe(), step, FitContext(target="bikers", seed=0))
    assert p.added == ["casual_plus_registered"] and p.changed == [] and p.removed == []
    assert p.leaking and p.leaks[0].columns == ("casual_plus_registered",)
    assert "predicts 'bikers' almost perfectly" in p.leaks[0].sentence
    assert p.columns[0].score == pytest.approx(1.0)
    assert p.table()["possible leak"].tolist() == [True]


def test_an_ordinary_feature_is_not_flagged_and_its_association_is_shown(bikes):
    step = step_from_dict({"kind": "combine", "left": "temp", "right": "hum", "op": "ratio"})
    p = preview(bikes, Recipe(), step, FitContext(target="bikers", seed=0))
    assert not p.leaking
    col = p.columns[0]
    assert 0.0 < col.score < 0.5 and p.metric == "held-out R²"
    assert sum(col.distribution["counts"]) == p.rows == 5_000 and p.total_rows == len(bikes)
    means = col.by_target["series"]["mean bikers"]
    labels = col.by_target["labels"]
    assert len(means) == len(labels) and labels[-1] == "missing"  # hum = 0: no ratio
    assert means[-2] > means[0]  # more bikers when warm and dry


def test_out_of_fold_target_encoding_of_noise_is_not_a_leak():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"code": rng.integers(0, 800, 3000).astype(str), "y": rng.integers(0, 2, 3000)})
    p = preview(frame, Recipe(), step_from_dict({"kind": "target_encode", "columns": ["code"]}),
                FitContext(target="y"))
    assert not p.leaking and p.columns[0].score < 0.6 and p.metric == "held-out balanced accuracy"
    assert p.removed == ["code"] and p.removed_table()["why"].tolist() == ["replaced by the new columns"]
    shares = p.columns[0].by_target["series"]
    assert set(shares) == {"0", "1"}


def test_preview_runs_after_the_recipes_feature_steps():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 10, "b": [2.0, 1.0, 4.0, 3.0] * 10, "y": [0, 1] * 20})
    recipe = Recipe.from_dict({"features": [{"kind": "combine", "left": "a", "right": "b", "op": "product"}]})
    p = preview(frame, recipe, step_from_dict({"kind": "log1p", "columns": ["a_times_b"]}), FitContext(target="y"))
    assert p.added == [] and p.changed == ["a_times_b"]
    with pytest.raises(ValidationError, match=r"Feature step 2 \(Log1p of 'nope'\) uses the column 'nope'"):
        preview(frame, recipe, step_from_dict({"kind": "log1p", "columns": ["nope"]}), FitContext(target="y"))


def test_selection_previews_say_why_each_column_goes():
    frame = pd.DataFrame({"a": np.arange(50.0), "a2": np.arange(50.0) * 2, "k": 1, "y": np.arange(50) % 2})
    p = preview(frame, Recipe(), step_from_dict({"kind": "drop_correlated"}), FitContext(target="y"))
    assert p.removed_table().to_dict("records") == [
        {"column": "a2", "why": "correlation 1.000 with 'a', which is kept"}]
    p = preview(frame, Recipe(), step_from_dict({"kind": "drop_constant"}), FitContext(target="y"))
    assert p.removed_table()["why"].tolist() == ["100.0% of rows have one value"]


def test_without_a_target_there_is_no_association_or_leak_check():
    frame = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 3})
    p = preview(frame, Recipe(), step_from_dict({"kind": "standardize", "columns": ["a"], "keep_original": True}),
                FitContext())
    assert p.task is None and p.columns[0].by_target is None and p.columns[0].score is None
    assert target_figure(p.columns[0]) is None
    assert p.columns[0].summary["mean"] == pytest.approx(0.0)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _strings(v)]
    return []


def test_charts_show_user_text_as_text():
    frame = pd.DataFrame({"c": ["<img src=x onerror=alert(1)>"] * 5 + ["<b>x</b>"] * 3 + ["y"] * 2,
                          "t": ["<i>yes</i>", "no"] * 5})
    p = preview(frame, Recipe(), step_from_dict({"kind": "rare_categories", "columns": ["c"], "min_share": 0.25}),
                FitContext(target="t"))
    figures = [distribution_figure(p.columns[0]), target_figure(p.columns[0])]
    texts = _strings([f.to_plotly_json() for f in figures])
    assert not any("<img" in t or "<b>" in t or "<i>" in t for t in texts)
    escaped = {"&lt;img src=x onerror=alert(1)&gt;", "&lt;b&gt;x&lt;/b&gt;", "Other", "&lt;i&gt;yes&lt;/i&gt;"}
    assert escaped <= set(texts)


def test_leakage_check_can_report_every_columns_score():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"noise": rng.normal(size=300), "copy": np.arange(300.0)})
    frame["y"] = frame["copy"] * 3
    scores: dict = {}
    from core.leakage import leakage_check

    suspects = leakage_check(frame, "y", scores=scores)
    assert suspects == leakage_check(frame, "y")  # asking for scores changes nothing else
    assert set(scores) == {"noise", "copy"} and scores["copy"][1] == "r2"
    assert scores["copy"][0] > 0.99 > 0.1 > scores["noise"][0]


def test_fit_context_of_a_stored_dataset():
    context = FitContext.of_dataset({"target": "y", "time": "t", "group": "g"},
                                    {"columns": {"t": {"kind": "datetime"}, "g": {"kind": "categorical"}}}, seed=4)
    assert (context.target, context.time, context.group, context.id, context.seed) == ("y", "t", "g", None, 4)
    assert context.kinds == {"t": "datetime", "g": "categorical"}
    assert FitContext.of_dataset(None, None) == FitContext()
