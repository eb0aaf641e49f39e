"""Model bundles: a zip round trip gives identical predictions and never runs code from the data."""

from __future__ import annotations

import functools
import io
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.bundle import REFERENCE_ROWS, Member, ModelBundle
from core.errors import InputError
from core.recipe import Recipe
from core.steps import FitContext
from core.steps.columns import DropColumns
from core.train import zoo
from core.train.prep import infer_spec
from core.train.tasks import class_order, encode_target
from tests.conftest import dataset_path


def _bundle(frame: pd.DataFrame, target: str, task: str, families=("catboost", "rf")) -> ModelBundle:
    """A small ensemble bundle built the way training builds one (recipe, spec, members)."""
    recipe = Recipe().add(DropColumns(columns=["year"])) if "year" in frame else Recipe()
    fitted, cleaned = recipe.fit(frame, FitContext(target=target))
    y_raw = cleaned.pop(target)
    classes = class_order(y_raw, task) if task != "regression" else None
    y = encode_target(y_raw, task, classes)
    spec, _ = infer_spec(cleaned)
    X = spec.transform(cleaned)
    ctx = zoo.ZooContext(task=task, n_classes=len(classes or []), spec=spec, threads=1)
    params = {
        "catboost": {"family": "catboost", "depth": 4, "l2_leaf_reg": 3.0, "random_strength": 1.0,
                     "bagging_temperature": 1.0, "one_hot_max_size": 2},
        "rf": {"family": "rf", "n_estimators": 20, "max_features": 0.5, "min_samples_leaf": 2},
        "et": {"family": "et", "n_estimators": 20, "max_features": 0.8, "min_samples_leaf": 1},
        "hgb": {"family": "hgb", "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 10,
                "l2_regularization": 0.0, "max_features": 1.0},
        "linear": {"family": "linear", "C": 1.0, **({"l1_ratio": 0.5} if task == "regression" else {})},
    }
    members = [Member(f, zoo.fit_final(params[f], X, y, ctx, 40), weight=w, params=params[f], name=f)
               for f, w in zip(families, (0.6, 0.4, 0.3, 0.2))]
    bundle = ModelBundle(
        task=task, target=target, classes=classes,
        input_schema={c: "float" for c in frame.columns if c != target}, feature_names=spec.feature_names,
        fitted_recipe=fitted, input_spec=spec, members=members, metadata={"run_id": 1}, threshold=0.4,
    )
    bundle.set_reference(frame)
    bundle.learn_importance(X)
    return bundle


@pytest.fixture(scope="module")
def penguins():
    return pd.read_csv(dataset_path("penguins.csv"))


@pytest.mark.parametrize("task, target, families", [
    ("multiclass", "species", ("catboost", "rf")),
    ("binary", "sex", ("catboost", "hgb", "linear")),
    ("regression", "body_mass_g", ("catboost", "et", "linear")),
])
def test_a_bundle_round_trip_gives_identical_predictions(penguins, task, target, families):
    frame = penguins.dropna(subset=[target])
    bundle = _bundle(frame, target, task, families)
    again = ModelBundle.from_bytes(bundle.to_bytes())
    rows = frame.drop(columns=[target]).iloc[::7]
    before, after = bundle.predict(rows), again.predict(rows)
    pd.testing.assert_frame_equal(before, after)
    assert list(after.index) == list(rows.index)
    assert again.feature_names == bundle.feature_names and again.classes == bundle.classes
    assert again.metadata == {"run_id": 1} and again.threshold == 0.4
    if task == "regression":
        assert list(after.columns) == ["prediction"]
        assert after["prediction"].between(2000, 7000).all()
    else:
        proba = after[[f"proba:{c}" for c in bundle.classes]]
        assert list(after.columns) == ["prediction", *proba.columns]
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
        assert set(after["prediction"]) <= set(bundle.classes)


def test_a_binary_bundle_predicts_the_positive_class_from_its_threshold(penguins):
    frame = penguins.dropna(subset=["sex"])
    bundle = _bundle(frame, "sex", "binary")
    rows = frame.drop(columns=["sex"])
    proba = bundle.predict(rows)[f"proba:{bundle.positive_class}"]
    for cut in (0.2, 0.4, 0.8):
        predicted = bundle.predict(rows, threshold=cut)["prediction"]
        assert ((predicted == bundle.positive_class) == (proba >= cut)).all()


def test_transform_feature_importance_and_reference(penguins):
    bundle = _bundle(penguins, "species", "multiclass")
    model_input = bundle.transform(penguins.head(5))
    assert list(model_input.columns) == bundle.feature_names and "year" not in bundle.feature_names
    importance = bundle.feature_importance()
    assert set(importance) == set(bundle.feature_names)
    assert sum(importance.values()) == pytest.approx(1.0)
    assert max(importance, key=importance.get) in ("bill_length_mm", "flipper_length_mm", "bill_depth_mm", "island")
    reference = ModelBundle.from_bytes(bundle.to_bytes()).reference_frame()
    assert len(reference) == len(penguins) <= REFERENCE_ROWS and "species" in reference


def test_the_reference_sample_is_bounded():
    frame = pd.DataFrame({"x": np.arange(12_000.0), "y": np.arange(12_000) % 2})
    bundle = _bundle(frame, "y", "binary", families=("linear",))
    assert len(bundle.reference_frame()) == REFERENCE_ROWS


def test_scoring_rows_without_a_needed_column_says_which(penguins):
    bundle = _bundle(penguins, "species", "multiclass")
    with pytest.raises(InputError, match=r"lack 1 column\(s\) the model was trained with: 'island'"):
        bundle.predict(penguins.drop(columns=["island"]))
    # extra columns and the target itself are ignored
    out = bundle.predict(penguins.assign(extra=1))
    assert len(out) == len(penguins)


def _tampered(data: bytes, replace: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as out:
        for info in source.infolist():
            out.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
    return sink.getvalue()


def test_a_bundle_that_would_run_code_is_refused(penguins, tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    bundle = _bundle(penguins, "species", "multiclass")
    marker = tmp_path / "ran"
    evil = sio.dumps(FunctionTransformer(functools.partial(os.system, f"touch {marker}")))
    data = _tampered(bundle.to_bytes(), {"members/1.skops": evil})
    with pytest.raises(InputError, match="objects Assay does not trust.*posix.system"):
        ModelBundle.from_bytes(data)
    assert not marker.exists()


@pytest.mark.parametrize("data, message", [
    (b"not a zip at all", "not an Assay model bundle"),
    (None, "bundle.json is missing"),
])
def test_files_that_are_not_bundles_are_refused(data, message):
    if data is None:
        sink = io.BytesIO()
        with zipfile.ZipFile(sink, "w") as zf:
            zf.writestr("something.txt", "hello")
        data = sink.getvalue()
    with pytest.raises(InputError, match=message):
        ModelBundle.from_bytes(data)


def test_a_bundle_from_a_newer_assay_says_so(penguins):
    bundle = _bundle(penguins, "species", "multiclass", families=("linear",))
    manifest = bundle.manifest() | {"version": 99}
    data = _tampered(bundle.to_bytes(), {"bundle.json": json.dumps(manifest).encode()})
    with pytest.raises(InputError, match="version 99; this Assay reads up to 1"):
        ModelBundle.from_bytes(data)


def _one_column_at_a_time(member: Member, sample: pd.DataFrame, ctx, names: list[str], seed: int) -> np.ndarray:
    """The plain permutation loop (one prediction call per column), as a reference."""
    rng = np.random.default_rng(seed)
    base = zoo.predict(member.family, member.estimator, sample, ctx)
    out = np.zeros(len(names))
    for j, name in enumerate(names):
        shuffled = sample.copy()
        shuffled[name] = sample[name].to_numpy()[rng.permutation(len(sample))]
        out[j] = np.mean(np.abs(zoo.predict(member.family, member.estimator, shuffled, ctx) - base))
    return out


@pytest.mark.parametrize("batch_cells", [1, 10**9])
def test_permutation_shares_scored_in_batches_equal_the_plain_loop(penguins, monkeypatch, batch_cells):
    import core.bundle as bundle_module

    monkeypatch.setattr(bundle_module, "_PERMUTATION_BATCH_CELLS", batch_cells)
    bundle = _bundle(penguins, "species", "multiclass", families=("hgb", "linear"))
    frame = penguins.drop(columns=["species"])
    X = bundle.input_spec.transform(bundle.fitted_recipe.transform(frame))
    sample = X.sample(min(len(X), 500), random_state=0)
    for member in bundle.members:
        got = bundle_module._member_importance(member, sample, bundle._context(), bundle.feature_names, 0)
        want = _one_column_at_a_time(member, sample, bundle._context(), bundle.feature_names, 0)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        assert got.max() > 0


def test_fold_copies_of_one_trial_are_measured_once_with_their_weights_summed(penguins, monkeypatch):
    import core.bundle as bundle_module

    bundle = _bundle(penguins, "species", "multiclass", families=("hgb", "linear"))
    hgb, linear = bundle.members
    X = bundle.input_spec.transform(bundle.fitted_recipe.transform(penguins.drop(columns=["species"])))
    expected = dict(bundle.learn_importance(X))
    calls = []
    original = bundle_module._member_importance
    monkeypatch.setattr(bundle_module, "_member_importance", lambda m, *a: calls.append(m.name) or original(m, *a))
    # the same two trials as five fold copies each, weights split between the copies
    bundle.members = [Member(m.family, m.estimator, m.weight / 5, m.params, m.name) for m in (hgb, linear)
                      for _ in range(5)]
    got = bundle.learn_importance(X)
    assert calls == ["hgb", "linear"]
    assert got == pytest.approx(expected, rel=1e-9)


def test_importance_stops_at_the_deadline_after_the_first_member(penguins):
    bundle = _bundle(penguins, "species", "multiclass", families=("hgb", "linear"))
    X = bundle.input_spec.transform(bundle.fitted_recipe.transform(penguins.drop(columns=["species"])))
    only_first = _bundle(penguins, "species", "multiclass", families=("hgb",))
    got = bundle.learn_importance(X, deadline=0.0)  # long past
    assert got == pytest.approx(only_first.learn_importance(X), rel=1e-9)
