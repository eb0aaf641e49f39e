"""Task detection, metrics and the binary threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from core.errors import ValidationError
from core.train.tasks import (
    check_task, class_order, detect_task, encode_target, get_metric, metrics_for, tune_threshold,
)


@pytest.mark.parametrize("values, task", [
    (["yes", "no", "no", None], "binary"),
    ([True, False, True], "binary"),
    ([0, 1, 1, 0], "binary"),
    ([0.0, 1.0, 1.0], "binary"),
    (["Adelie", "Gentoo", "Chinstrap", "Adelie"], "multiclass"),
    ([1, 2, 3, 4, 5] * 20, "multiclass"),  # a few whole numbers, many rows: ratings
    (list(range(100)), "regression"),  # many whole numbers: counts
    ([1, 2, 3, 4, 5], "regression"),  # five distinct values in five rows are not classes
    ([0.5, 1.25, 3.0, 9.75], "regression"),
    (pd.Series(["a", "b", "c"], dtype="category"), "multiclass"),
])
def test_task_detection(values, task):
    assert detect_task(pd.Series(values, name="y")).task == task


def test_a_date_target_is_refused():
    with pytest.raises(ValidationError, match="holds dates"):
        detect_task(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]), name="when"))


@pytest.mark.parametrize("values, task, message", [
    (["a"] * 30, "binary", r"single value \('a'\) in every row"),
    (["a", "b", "c"], "binary", "exactly 2 classes; 'y' has 3"),
    (["a", "b", "c"], "regression", "needs a numeric target"),
    ([f"id{i}" for i in range(300)], "multiclass", "300 distinct values; classification supports up to 200"),
])
def test_a_task_the_target_cannot_support_is_refused(values, task, message):
    with pytest.raises(ValidationError, match=message):
        check_task(pd.Series(values, name="y"), task)


@pytest.mark.parametrize("values, positive, expected", [
    (["no", "yes", "no"], None, ["no", "yes"]),  # the value that reads as yes
    ([0, 1, 1, 1], None, [0, 1]),
    (["good", "bad", "good", "good"], None, ["good", "bad"]),  # else the rarer class
    (["good", "bad", "good"], "good", ["bad", "good"]),  # or the analyst's choice
])
def test_the_positive_class_comes_last(values, positive, expected):
    assert class_order(pd.Series(values, name="y"), "binary", positive) == expected


def test_encoding_follows_the_class_order():
    y = pd.Series(["b", "a", "c", "a"])
    classes = class_order(y, "multiclass")
    assert classes == ["a", "b", "c"]
    assert encode_target(y, "multiclass", classes).tolist() == [1, 0, 2, 0]


def test_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    assert get_metric("binary", "roc_auc")(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    assert get_metric("binary", "log_loss")(y, p) == pytest.approx(skm.log_loss(y, p))
    assert get_metric("binary", "f1")(y, p, 0.5) == pytest.approx(skm.f1_score(y, p >= 0.5))
    assert get_metric("binary", "balanced_accuracy")(y, p, 0.4) == pytest.approx(
        skm.balanced_accuracy_score(y, p >= 0.4))
    P = rng.dirichlet([1, 1, 1], 300)
    yk = rng.integers(0, 3, 300)
    assert get_metric("multiclass", "log_loss")(yk, P) == pytest.approx(skm.log_loss(yk, P, labels=[0, 1, 2]))
    assert get_metric("multiclass", "macro_f1")(yk, P) == pytest.approx(
        skm.f1_score(yk, P.argmax(1), average="macro"))
    yr, pr = rng.normal(size=200), rng.normal(size=200)
    assert get_metric("regression", "rmse")(yr, pr) == pytest.approx(np.sqrt(skm.mean_squared_error(yr, pr)))
    assert get_metric("regression", "r2")(yr, pr) == pytest.approx(skm.r2_score(yr, pr))
    assert get_metric("regression", "mae")(yr, pr) == pytest.approx(skm.mean_absolute_error(yr, pr))


def test_metric_names_per_task_with_the_default_first():
    assert metrics_for("binary")[0] == "roc_auc"
    assert metrics_for("multiclass") == ["log_loss", "accuracy", "macro_f1"]
    assert metrics_for("regression")[0] == "rmse"
    with pytest.raises(ValidationError, match=r"'metric' parameter of training must be one of \['rmse'"):
        get_metric("regression", "roc_auc")


@pytest.mark.parametrize("metric", ["f1", "accuracy", "balanced_accuracy"])
def test_the_tuned_threshold_is_the_best_cut(metric):
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.2).astype(int)
    p = np.clip(0.35 * y + rng.random(400) * 0.65, 0, 1)
    threshold, best = tune_threshold(y, p, metric)
    scorer = get_metric("binary", metric)
    assert scorer(y, p, threshold) == pytest.approx(best)
    grid = max(scorer(y, p, t) for t in np.linspace(0, 1, 501))
    assert best >= grid - 1e-12
