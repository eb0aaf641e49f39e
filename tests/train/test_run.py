"""Whole runs on real tables with tiny budgets: every task beats a trivial model; bad input is handled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from core.bundle import ModelBundle
from core.errors import ValidationError
from core.recipe import Recipe
from core.steps import STEPS, Step, register
from core.steps.columns import DropColumns
from core.train.config import TrainConfig
from core.train.run import prepare, train
from tests.conftest import dataset_path

BUDGET = 4.0


def _table(name: str, rows: int | None = None) -> pd.DataFrame:
    frame = pd.read_csv(dataset_path(name))
    return frame.sample(rows, random_state=0).reset_index(drop=True) if rows else frame


@pytest.mark.parametrize("name, target, rows, metric, better", [
    ("credit_scoring.csv", "Status", 1500, "roc_auc", lambda score, base: score > base + 0.2),
    ("penguins.csv", "species", None, "log_loss", lambda score, base: score < base / 4),
    ("diamonds.csv", "price", 2000, "rmse", lambda score, base: score < base / 2),
])
def test_each_task_beats_a_trivial_model_on_the_holdout(name, target, rows, metric, better):
    result = train(_table(name, rows), TrainConfig(target=target, time_budget=BUDGET, threads=1))
    summary = result.summary
    assert summary["metric"] == metric
    assert better(summary["holdout"], summary["holdout_baseline"]), summary
    assert summary["cv"]["mean"] is not None and summary["trials"].get("complete", 0) >= 1
    chosen = [r for r in result.leaderboard if r.get("chosen")]
    assert chosen and any(r.get("holdout") == summary["holdout"] for r in result.leaderboard)
    assert result.bundle.metadata["holdout"] == summary["holdout"] and result.bundle.metadata["seed"] == 0


def test_the_bundle_of_a_run_scores_new_rows_identically_after_a_round_trip():
    frame = _table("credit_scoring.csv", 1200)
    result = train(frame, TrainConfig(target="Status", time_budget=BUDGET, threads=1, seed=3))
    bundle = result.bundle
    again = ModelBundle.from_bytes(bundle.to_bytes())
    rows = frame.drop(columns=["Status"]).tail(100)
    pd.testing.assert_frame_equal(bundle.predict(rows), again.predict(rows))
    assert set(again.predict(rows)["prediction"]) <= {"good", "bad"}
    assert again.classes == ["good", "bad"] and again.threshold == result.summary["threshold"]
    assert 0 < again.threshold < 1
    assert set(again.input_schema) <= set(frame.columns) - {"Status"}
    assert again.input_schema["Home"] == "categorical"
    assert sum(again.feature_importance().values()) == pytest.approx(1.0)
    assert again.metadata["libraries"]["catboost"] and again.metadata["seed"] == 3


def test_rows_without_a_target_are_dropped_and_counted():
    frame = _table("penguins.csv")
    frame.loc[:9, "species"] = None
    result = train(frame, TrainConfig(target="species", time_budget=BUDGET, threads=1, families=("linear",)))
    assert result.preflight["dropped_missing_target"] == 10
    assert result.summary["rows"]["used"] == len(frame) - 10
    assert "10 row(s) with no target value (missing or infinite) were left out." in result.summary["warnings"]


def test_a_single_valued_target_is_refused_before_training():
    frame = _table("penguins.csv").assign(kind="bird")
    with pytest.raises(ValidationError, match=r"'kind' has a single value \('bird'\) in every row"):
        train(frame, TrainConfig(target="kind", time_budget=BUDGET))


def test_fewer_than_20_rows_are_refused():
    frame = _table("diamonds.csv").head(21)
    frame.loc[:1, "price"] = None
    with pytest.raises(ValidationError, match="at least 20 rows with a target value; this table has 19"):
        train(frame, TrainConfig(target="price", time_budget=BUDGET))


def test_a_copy_of_the_target_is_flagged_and_left_out():
    frame = _table("penguins.csv")
    frame["species_code"] = frame["species"].map({"Adelie": "A", "Gentoo": "G", "Chinstrap": "C"})
    result = train(frame, TrainConfig(target="species", time_budget=BUDGET, threads=1, families=("linear",)))
    assert result.summary["left_out"]["species_code"] == "suspected leak of the target"
    assert "species_code" not in result.bundle.feature_names
    assert any(w.startswith("Suspected leak (left out of the model): On its own, 'species_code'")
               for w in result.summary["warnings"])


def test_a_class_rarer_than_the_folds_gets_fewer_folds():
    frame = _table("penguins.csv")
    rare = frame.index[frame["species"] == "Chinstrap"][4:]
    frame = frame.drop(index=rare)  # 4 Chinstrap rows: 3 for the search, 1 for the holdout
    result = train(frame, TrainConfig(target="species", time_budget=BUDGET, threads=1, families=("linear",),
                                      folds=5))
    assert result.summary["folds"] == 3
    assert any("so 3 folds are used instead of 5" in w for w in result.summary["warnings"])


def test_infinite_values_are_missing_in_features_and_dropped_in_the_target():
    frame = _table("diamonds.csv", 600)
    frame.loc[:4, "carat"] = np.inf
    frame["price"] = frame["price"].astype(float)
    frame.loc[5:6, "price"] = -np.inf
    result = train(frame, TrainConfig(target="price", time_budget=BUDGET, threads=1, families=("linear", "hgb")))
    assert result.preflight["infinite_cells"] == 5 and result.preflight["dropped_missing_target"] == 2
    assert np.isfinite(result.summary["holdout"])


def test_a_thousand_columns_work_with_a_warning_about_time():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(120, 1000)), columns=[f"x{i}" for i in range(1000)])
    frame["y"] = frame["x0"] * 3 + rng.normal(size=120)
    result = train(frame, TrainConfig(target="y", time_budget=BUDGET, threads=1, families=("linear",)))
    assert any(w.startswith("The table has 1,000 columns: each model takes longer") for w in result.summary["warnings"])
    assert len(result.bundle.feature_names) == 1000 and np.isfinite(result.summary["holdout"])


@pytest.mark.parametrize("budget", [0, -5, float("nan"), True])
def test_a_time_budget_of_zero_or_less_is_refused(budget):
    with pytest.raises(ValidationError, match="time budget must be more than 0 seconds"):
        TrainConfig(target="y", time_budget=budget)


def test_settings_are_checked_with_their_allowed_values():
    with pytest.raises(ValidationError, match=r"'metric' parameter of training must be one of \['rmse'"):
        TrainConfig(target="y", task="regression", metric="f1x")
    with pytest.raises(ValidationError, match="'families' parameter of training must be a non-empty list"):
        TrainConfig(target="y", families=("xgboost",))
    with pytest.raises(ValidationError, match="Unknown training setting 'budget'"):
        TrainConfig.from_dict({"target": "y", "budget": 3})
    assert TrainConfig.from_dict(TrainConfig(target="y", seed=5).to_dict()) == TrainConfig(target="y", seed=5)


# ----------------------------------------------------------------------------- recipes


@dataclass(frozen=True, kw_only=True)
class _Centre(Step):
    """A test feature step: subtracts the mean ``column`` learned on the rows it was fitted on."""

    kind: ClassVar[str] = "test_centre"
    stage: ClassVar[str] = "feature"
    learns: ClassVar[bool] = True
    column: str

    def columns_in(self):
        return [self.column]

    def fit(self, frame, context):
        assert context.target in frame.columns  # the target travels with the training rows
        return {"mean": float(frame[self.column].mean()), "rows": len(frame)}

    def transform(self, frame, state):
        return frame.assign(**{f"{self.column}_centred": frame[self.column] - state["mean"]})


@pytest.fixture
def centre_step():
    register(_Centre)
    yield _Centre
    STEPS.pop(_Centre.kind, None)


def test_feature_steps_are_fitted_on_each_folds_training_rows_only(centre_step):
    frame = _table("penguins.csv")
    recipe = Recipe().add(DropColumns(columns=["year"])).add(centre_step(column="body_mass_g"))
    prep = prepare(frame, TrainConfig(target="species", time_budget=BUDGET, folds=4), recipe=recipe)
    assert "body_mass_g_centred" in prep.spec.feature_names and "year" not in prep.spec.feature_names
    search_rows = prep.frame.iloc[prep.split.search]
    for (train_pos, valid_pos), fold in zip(prep.split.folds, prep.setup.folds):
        train_mean = search_rows["body_mass_g"].iloc[train_pos].mean()
        expected = search_rows["body_mass_g"].iloc[valid_pos] - train_mean
        np.testing.assert_allclose(fold.X_valid["body_mass_g_centred"], expected.to_numpy())
    assert prep.search_recipe.feature_states[0]["rows"] == len(prep.split.search)


def test_without_time_to_refit_the_cross_validation_models_are_the_model(monkeypatch):
    from core.train.search import CostModel

    monkeypatch.setattr(CostModel, "seconds", lambda self, *a, **k: 1e6)  # every fit looks too long
    frame = _table("penguins.csv")
    result = train(frame, TrainConfig(target="species", time_budget=BUDGET, threads=1, folds=3,
                                      families=("linear", "hgb")))
    summary = result.summary
    assert summary["refit"] == "none (the cross-validation models, averaged)" and summary["trials"]["complete"] == 1
    bundle = ModelBundle.from_bytes(result.bundle.to_bytes())
    assert len(bundle.members) == 3 and sum(m.weight for m in bundle.members) == pytest.approx(1.0)
    scores = bundle.predict(frame.drop(columns=["species"]))
    assert (scores["prediction"] == frame["species"]).mean() > 0.9


def test_permutation_importance_on_the_holdout_finds_the_signal_and_survives_the_bundle():
    from core.steps.features.derived import FormulaColumn
    from tests.model_helpers import signal_and_noise, train_with_holdout_importance

    frame = signal_and_noise()
    recipe = Recipe().add(FormulaColumn(name="signal_sq", expression="signal * signal"))
    result = train_with_holdout_importance(frame, "y", recipe=recipe, families=("catboost",))
    stored = result.summary["holdout_importance"]
    assert stored["status"] == "done", stored
    assert "signal_sq" in result.bundle.feature_names
    # the data's columns, not the model-input features: shuffling signal also shuffles signal_sq
    assert sorted(stored["columns"]) == ["colour", "noise", "signal", "weak"]
    by = dict(zip(stored["columns"], stored["mean"]))
    assert max(by, key=by.get) == "signal" and by["signal"] > 3  # RMSE worse by more than half the signal's spread
    assert by["weak"] > 0.5 and abs(by["noise"]) < 0.05 and abs(by["colour"]) < 0.05
    assert (stored["metric"], stored["rows"], stored["holdout_rows"]) == ("rmse", 300, 300)
    assert stored["repeats"] == 5 and len(stored["std"]) == 4
    assert stored["baseline"] == pytest.approx(result.summary["holdout"])
    assert result.summary["timings"]["importance_s"] >= 0
    again = ModelBundle.from_bytes(result.bundle.to_bytes())
    assert again.metadata["holdout_importance"] == stored


def test_holdout_importance_is_skipped_with_a_reason_when_it_cannot_be_measured():
    import time

    from core.train.importance import holdout_importance
    from core.train.tasks import get_metric

    rows = pd.DataFrame({"a": np.arange(200.0), "b": np.ones(200)})
    y = 3 * rows["a"].to_numpy()

    def predict(frame):
        return 3 * frame["a"].to_numpy()

    rmse = get_metric("regression", "rmse")
    late = holdout_importance(predict, rows, y, ["a", "b"], rmse, deadline=time.monotonic())
    assert late["status"] == "skipped" and "no time was left" in late["reason"]
    few = holdout_importance(predict, rows.head(12), y[:12], ["a", "b"], rmse, deadline=time.monotonic() + 60)
    assert few["status"] == "skipped" and "the holdout has 12 row(s)" in few["reason"]
    done = holdout_importance(predict, rows, y, ["a", "b"], rmse, deadline=time.monotonic() + 60, max_rows=150,
                              seed=4)
    assert (done["status"], done["rows"], done["holdout_rows"], done["repeats"]) == ("done", 150, 200, 5)
    assert done["mean"][0] > 100 and done["mean"][1] == 0.0 and done["baseline"] == 0.0
    again = holdout_importance(predict, rows, y, ["a", "b"], rmse, deadline=time.monotonic() + 60, max_rows=150,
                               seed=4)
    assert again["mean"] == done["mean"] and again["std"] == done["std"]  # seeded


def test_members_are_refitted_heaviest_first_while_time_lasts():
    from core.train.run import NO_REFIT, _members_to_refit, _refit_scope

    weights = {3: 0.2, 0: 0.5, 7: 0.3}
    estimates = {3: 4.0, 0: 10.0, 7: 8.0}
    assert _members_to_refit(weights, estimates, 30.0, bag_ready=True) == {0, 3, 7}
    assert _members_to_refit(weights, estimates, 15.0, bag_ready=True) == {0, 3}  # 7 does not fit after 0
    assert _members_to_refit(weights, estimates, 9.0, bag_ready=True) == {7}
    assert _members_to_refit(weights, estimates, 3.0, bag_ready=True) == set()
    # refits that cost next to nothing are made even when the search ate into the reserve
    assert _members_to_refit({1: 0.7, 2: 0.3}, {1: 0.3, 2: 0.4}, -1.0, bag_ready=True) == {1}
    # without every member's fold models there is nothing to fall back on: all are refitted
    assert _members_to_refit(weights, estimates, 0.0, bag_ready=False) == {0, 3, 7}
    assert _refit_scope(weights, {0, 3, 7}) == "all rows"
    assert _refit_scope(weights, set()) == NO_REFIT
    assert _refit_scope(weights, {0, 3}) == ("all rows for trial 4, trial 1 "
                                             "(the others: their cross-validation models, averaged)")


def test_a_member_without_time_to_refit_keeps_its_fold_models_beside_the_refitted_one(monkeypatch):
    from core.train import run as run_module

    def heaviest_only(weights, estimates, seconds, bag_ready):
        return {max(weights, key=weights.get)} if bag_ready else set(weights)

    monkeypatch.setattr(run_module, "_members_to_refit", heaviest_only)
    monkeypatch.setattr("core.train.search._FOLD_MODELS_KEPT", 10_000)  # every member keeps its fold models
    frame = _table("penguins.csv")
    result = train(frame, TrainConfig(target="species", time_budget=BUDGET, threads=1, folds=3,
                                      families=("linear", "hgb"), seed=0))
    weights = result.summary["chosen"]["weights"]
    bundle = ModelBundle.from_bytes(result.bundle.to_bytes())
    assert sum(m.weight for m in bundle.members) == pytest.approx(1.0)
    if len(weights) > 1:  # an ensemble: one refitted member plus three fold models per other member
        assert result.summary["refit"].startswith("all rows for trial ")
        assert len(bundle.members) == 1 + 3 * (len(weights) - 1)
    else:
        assert result.summary["refit"] == "all rows" and len(bundle.members) == 1
    scores = bundle.predict(frame.drop(columns=["species"]))
    assert (scores["prediction"] == frame["species"]).mean() > 0.9
