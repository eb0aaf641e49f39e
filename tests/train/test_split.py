"""Validation splits: no time leakage, groups never split, stratified folds, rare classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ValidationError
from core.train.split import auto_folds, make_split


def _all_positions(split):
    return np.sort(np.concatenate([split.holdout, split.search]))


def test_time_ordered_folds_never_train_on_the_future():
    rng = np.random.default_rng(0)
    days = pd.Series(pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, 600), unit="D"))
    y = rng.normal(size=600)
    split = make_split(y, "regression", folds=4, seed=0, time=days)
    assert split.scheme == "time" and len(split.folds) == 4
    assert (_all_positions(split) == np.arange(600)).all()
    assert days.iloc[split.search].max() < days.iloc[split.holdout].min()  # the holdout is the latest part
    for train, valid in split.folds:
        train_days, valid_days = days.iloc[split.search[train]], days.iloc[split.search[valid]]
        assert train_days.max() < valid_days.min()  # ties never straddle a cut
    sizes = [len(t) for t, _ in split.folds]
    assert sizes == sorted(sizes)  # expanding window


def test_groups_never_split_across_folds_or_the_holdout():
    rng = np.random.default_rng(0)
    groups = pd.Series(rng.integers(0, 40, 800)).map(lambda g: f"customer {g}")
    y = rng.integers(0, 2, 800)
    split = make_split(y, "binary", folds=5, seed=3, groups=groups)
    assert split.scheme == "group" and len(split.folds) == 5
    holdout_groups = set(groups.iloc[split.holdout])
    assert holdout_groups and not holdout_groups & set(groups.iloc[split.search])
    for train, valid in split.folds:
        assert not set(groups.iloc[split.search[train]]) & set(groups.iloc[split.search[valid]])


def test_stratified_folds_keep_every_class_and_the_split_depends_only_on_the_seed():
    y = np.repeat([0, 1, 2], [500, 80, 20])
    split = make_split(y, "multiclass", folds=5, seed=7)
    assert np.bincount(y[split.holdout]).tolist() == [100, 16, 4]
    for _, valid in split.folds:
        assert set(y[split.search[valid]]) == {0, 1, 2}
    assert make_split(y, "multiclass", folds=5, seed=7).fingerprint() == split.fingerprint()
    assert make_split(y, "multiclass", folds=5, seed=8).fingerprint() != split.fingerprint()


def test_a_class_rarer_than_the_folds_gives_fewer_folds_with_a_note():
    y = np.array([0] * 100 + [1] * 4)
    split = make_split(y, "binary", folds=5, seed=0)
    assert len(split.folds) == 3
    assert "only 3 rows for the search, so 3 folds" in split.notes[0]


def test_a_class_with_too_few_rows_is_refused_with_its_name():
    y = np.array([0] * 50 + [1] * 2)
    with pytest.raises(ValidationError, match=r"class 'rare' has only 2 row\(s\); each class needs at least 3"):
        make_split(y, "binary", folds=5, seed=0, class_names=["common", "rare"])


def test_one_fold_is_a_single_validation_part():
    y = np.random.default_rng(0).normal(size=1000)
    split = make_split(y, "regression", folds=1, seed=0)
    (train, valid), = split.folds
    assert len(valid) == 160 and len(train) == 640 and not set(train) & set(valid)
    assert split.method == "one validation part"


def test_the_holdout_is_capped_on_large_tables():
    y = np.zeros(100_000)
    split = make_split(y, "regression", folds=1, seed=0)
    assert len(split.holdout) == 10_000


def test_missing_times_are_refused():
    times = pd.Series([1.0, 2.0, None] * 10)
    with pytest.raises(ValidationError, match="time column .* has 10 missing"):
        make_split(np.arange(30.0), "regression", folds=3, seed=0, time=times)


@pytest.mark.parametrize("rows, cols, budget, folds", [
    (300, 8, 60, 5), (4_000, 13, 60, 5), (20_000, 9, 60, 3), (40_000, 9, 60, 1), (40_000, 9, 600, 5),
])
def test_automatic_folds_follow_size_and_budget(rows, cols, budget, folds):
    assert auto_folds(rows, cols, budget) == folds
