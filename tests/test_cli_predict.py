"""`assay predict`: top reasons that add up to the model's output, a drift check against the training rows,
exit codes, one-line errors, formula-safe output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.drift import DriftResult
from core.explain import Explainer
from tests.conftest import dataset_path
from tests.model_helpers import load, make_bundle


@pytest.fixture(scope="module")
def penguins():
    return load(dataset_path("penguins.csv"))


@pytest.fixture(scope="module")
def models(penguins, tmp_path_factory):
    """Real CatBoost bundles on disk: species (multiclass, 7 inputs) and sex (binary, 6 inputs)."""
    frame, kinds = penguins
    folder = tmp_path_factory.mktemp("bundles")
    out = {}
    for target, task in (("species", "multiclass"), ("sex", "binary")):
        data = frame if target == "species" else frame.drop(columns=["species"])
        bundle = make_bundle(data, {k: v for k, v in kinds.items() if k in data.columns}, target, task)
        path = folder / f"{target}.zip"
        path.write_bytes(bundle.to_bytes())
        out[target] = (bundle, path)
    return out


def _rows(penguins, tmp_path, target, name="new.csv", rows=None) -> tuple[pd.DataFrame, object]:
    frame = penguins[0].drop(columns=[target]) if rows is None else rows
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return pd.read_csv(path), path


def _summary(capsys) -> tuple[dict, str]:
    captured = capsys.readouterr()
    return json.loads(captured.out.strip().splitlines()[-1]), captured.err


def _raw_scores(bundle, rows: pd.DataFrame) -> np.ndarray:
    """CatBoost's own raw output (log-odds, or each class's score), straight from the library."""
    from catboost import Pool

    X = bundle.transform(rows)
    raw = bundle.members[0].estimator.predict(Pool(X, cat_features=bundle.input_spec.categorical),
                                              prediction_type="RawFormulaVal")
    return np.asarray(raw, dtype=float).reshape(len(X), -1)


@pytest.mark.parametrize("target", ["species", "sex"])
def test_every_reason_together_adds_up_to_the_models_raw_output(models, penguins, tmp_path, target, capsys):
    bundle, path = models[target]
    rows, new = _rows(penguins, tmp_path, target)
    rows = rows.dropna(subset=["bill_length_mm"]).head(40)  # rows the model can say something about
    rows.to_csv(new, index=False)
    k = len(bundle.feature_names)
    out = tmp_path / "scored.parquet"
    assert main(["predict", str(path), str(new), "--out", str(out), "--explain", str(k)]) == 0
    summary, _ = _summary(capsys)
    scored = pd.read_parquet(out)
    reasons = [f"reason {i}" for i in range(1, k + 1)]
    effects = scored[[f"{r} effect" for r in reasons]].to_numpy(dtype=float)
    assert summary["columns"][-2:] == [f"reason {k}", f"reason {k} effect"]
    assert (np.abs(effects[:, :-1]) >= np.abs(effects[:, 1:])).all()  # largest first
    feature_of_first = scored["reason 1"].str.split(" = ").str[0]
    assert set(feature_of_first) <= set(bundle.feature_names)

    raw = _raw_scores(bundle, rows)
    base = Explainer(bundle).shap_values(bundle.transform(rows.head(1)))[1]
    if target == "species":  # the predicted class's score
        chosen = scored["prediction"].map({c: i for i, c in enumerate(bundle.classes)}).to_numpy()
        margin, start = raw[np.arange(len(rows)), chosen], base[chosen]
    else:  # log-odds of the positive class; effects point toward the predicted class
        sign = np.where(scored["prediction"].astype(str) == str(bundle.positive_class), 1.0, -1.0)
        assert (sign < 0).any() and (sign > 0).any()
        margin, start = raw[:, 0] * sign, base[0] * sign
    np.testing.assert_allclose(start + effects.sum(axis=1), margin, atol=1e-6)


def test_explain_without_k_gives_the_top_three(models, penguins, tmp_path, capsys):
    bundle, path = models["species"]
    _, new = _rows(penguins, tmp_path, "species", rows=penguins[0].drop(columns=["species"]).head(25))
    full, top = tmp_path / "full.parquet", tmp_path / "top.csv"
    assert main(["predict", str(path), str(new), "--out", str(full), "--explain", "7"]) == 0
    assert main(["predict", str(path), str(new), "--out", str(top), "--explain", "--only-predictions"]) == 0
    summary, _ = _summary(capsys)
    first3 = [c for i in (1, 2, 3) for c in (f"reason {i}", f"reason {i} effect")]
    assert summary["columns"] == ["prediction", "proba:Adelie", "proba:Chinstrap", "proba:Gentoo", *first3]
    got, expected = pd.read_csv(top), pd.read_parquet(full)
    assert list(got.columns) == summary["columns"]  # --only-predictions: no input columns
    assert got["reason 1"].tolist() == expected["reason 1"].tolist()
    np.testing.assert_allclose(got["reason 3 effect"], expected["reason 3 effect"], rtol=1e-12)


def test_a_shifted_copy_is_reported_as_drift_and_predictions_are_still_written(models, penguins, tmp_path, capsys):
    bundle, path = models["species"]
    shifted = penguins[0].drop(columns=["species"]).assign(
        bill_length_mm=lambda f: f["bill_length_mm"] * 1.5, body_mass_g=lambda f: f["body_mass_g"] + 1500)
    _, new = _rows(penguins, tmp_path, "species", rows=shifted)
    out, report = tmp_path / "scored.csv", tmp_path / "drift.json"
    code = main(["predict", str(path), str(new), "--out", str(out), "--check-drift", "--drift-report", str(report)])
    summary, err = _summary(capsys)
    assert code == 1
    assert len(pd.read_csv(out)) == len(shifted)
    drift = summary["drift"]
    assert drift["status"] == "drift" and set(drift["drifted"]) == {"bill_length_mm", "body_mass_g"}
    assert drift["drift_share"] == pytest.approx(2 / 7, abs=1e-4) and drift["domain_auc"] > 0.9
    assert "drifted columns   2 of 7 (29%)" in err
    table = err[err.index("  column "):].splitlines()
    assert table[1].split()[:2] == ["bill_length_mm", "drift"] and float(table[1].split()[2]) > 1
    saved = DriftResult.from_dict(json.loads(report.read_text()))
    assert saved.status == "drift" and saved.reference["name"] == "the model's training rows"
    assert saved.domain.auc == pytest.approx(drift["domain_auc"])


def test_a_random_sample_of_the_training_rows_is_not_drift(models, penguins, tmp_path, capsys):
    bundle, path = models["species"]
    sample = penguins[0].drop(columns=["species"]).sample(150, random_state=0)
    _, new = _rows(penguins, tmp_path, "species", rows=sample)
    html = tmp_path / "drift.html"
    code = main(["predict", str(path), str(new), "--out", str(tmp_path / "p.csv"), "--drift-report", str(html)])
    summary, err = _summary(capsys)
    assert code == 0
    assert summary["drift"]["status"] == "stable" and summary["drift"]["drifted"] == []
    assert "drifted columns   0 of 7 (0%)" in err
    assert html.read_text().startswith("<!DOCTYPE html>") and "Drift report" in html.read_text()
    # without --check-drift there is no drift section and no drift exit code
    assert main(["predict", str(path), str(new), "--out", str(tmp_path / "p.csv")]) == 0
    assert "drift" not in _summary(capsys)[0]


def test_schema_notices_and_formula_safe_output(models, penguins, tmp_path, capsys):
    bundle, path = models["species"]
    rows = penguins[0].drop(columns=["species"]).head(5).assign(note="=HYPERLINK(\"http://x\")")
    rows["island"] = rows["island"].astype(object)
    rows.loc[rows.index[0], "island"] = "=cmd|' /C calc'!A0"
    rows["flipper_length_mm"] = rows["flipper_length_mm"].astype(object)
    rows.loc[rows.index[1], "flipper_length_mm"] = "long"
    _, new = _rows(penguins, tmp_path, "species", rows=rows)
    out = tmp_path / "p.csv"
    assert main(["predict", str(path), str(new), "--out", str(out), "--explain", "2"]) == 0
    _, err = _summary(capsys)
    assert "notice: 1 column(s) the model does not use are ignored: 'note'." in err
    assert "warning: Column 'flipper_length_mm' held numbers in training (float)" in err and "'long'" in err
    text = out.read_text()
    assert "'=cmd|" in text and "'=HYPERLINK" in text and ",=" not in text
    assert pd.read_csv(out)["prediction"].notna().all()


@pytest.mark.parametrize("change, message", [
    ("drop", "error: The new data lacks 2 column(s) the model was trained with: 'island', 'year'."),
    ("not a bundle", "error: This file is not an Assay model bundle (not a zip)."),
    ("bundle as rows", "error: This zip file is not an Excel workbook."),
    ("no bundle", "error: There is no model bundle at "),
    ("no file", "error: There is no file at "),
    ("bad out", "error: Cannot tell the format of "),
    ("bad report", "error: Cannot tell the drift report's format from "),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(models, penguins, tmp_path, capsys, change, message):
    _, path = models["species"]
    rows = penguins[0].drop(columns=["species"]).head(10)
    _, new = _rows(penguins, tmp_path, "species", rows=rows.drop(columns=["island", "year"]) if change == "drop"
                   else rows)
    out = tmp_path / ("p.txt" if change == "bad out" else "p.csv")
    if change == "not a bundle":
        path = tmp_path / "model.zip"
        path.write_bytes(b"PK not really")
    args = ["predict", str(tmp_path / "nope.zip") if change == "no bundle" else str(path),
            {"no file": str(tmp_path / "nope.csv"), "bundle as rows": str(path)}.get(change, str(new)),
            "--out", str(out)]
    if change == "bad report":
        args += ["--drift-report", str(tmp_path / "drift.pdf")]
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert captured.out == "" and not out.exists()
