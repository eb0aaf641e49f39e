"""SHAP speed: Assay's explanations against shap.TreeExplainer on the same models and rows.

    python bench/explain.py [--rows 10000] [--iterations 1000] [--repeat 5]

Data: sample_data/diamonds.csv (53,940 rows; price as the target; cut, color and
clarity as labels). Models are fitted with Assay's own model zoo on every row:

1. CatBoost (depth 6, the zoo's default configuration, ``--iterations`` trees).
   Timed, interleaved in one run (medians), on ``--rows`` sampled rows:
   - shap.TreeExplainer(model).shap_values(X) on the model-input table: the baseline;
   - Assay's SHAP values (CatBoost's native ShapValues, core.explain.Explainer);
   - Assay's whole explanation (sample, recipe, SHAP in chunks, predictions).
   Target (issue 7): Assay no slower than TreeExplainer.
2. HistGradientBoosting with native categorical features (as the zoo fits it):
   Assay's TreeSHAP (core.explain.hgb) against shap.TreeExplainer, which reads
   categorical splits as thresholds: its values do not add up to the model's
   output, and the benchmark prints by how much.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench._common import SAMPLES, interleaved  # noqa: E402


def _bundle(frame: pd.DataFrame, family: str, params: dict, iterations: int):
    from core.bundle import Member, ModelBundle
    from core.recipe import Recipe
    from core.steps import FitContext
    from core.train import zoo
    from core.train.prep import infer_spec

    fitted, cleaned = Recipe().fit(frame, FitContext(target="price"))
    X = cleaned.drop(columns=["price"])
    spec, _ = infer_spec(X)
    X = spec.transform(X)
    ctx = zoo.ZooContext(task="regression", n_classes=0, spec=spec, threads=2)
    model = zoo.fit_final({"family": family, **params}, X, frame["price"].to_numpy(float), ctx, iterations)
    bundle = ModelBundle(task="regression", target="price", classes=None,
                         input_schema={c: "float" for c in X.columns}, feature_names=spec.feature_names,
                         fitted_recipe=fitted, input_spec=spec, members=[Member(family, model)])
    return bundle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import shap
    from core.explain import Explainer, explain
    from core.explain.hgb import hgb_shap_values

    frame = pd.read_csv(SAMPLES / "diamonds.csv")
    rows = frame.sample(args.rows, random_state=0)

    start = time.perf_counter()
    bundle = _bundle(frame, "catboost", {"depth": 6, "l2_leaf_reg": 3.0, "random_strength": 1.0,
                                         "bagging_temperature": 1.0, "one_hot_max_size": 2}, args.iterations)
    fit_s = time.perf_counter() - start
    model = bundle.members[0].estimator
    X = bundle.transform(rows)
    explainer = Explainer(bundle)
    tree_explainer = shap.TreeExplainer(model)
    ours, _ = explainer.shap_values(X)
    theirs = np.asarray(tree_explainer.shap_values(X))
    times = interleaved({
        "treeexplainer": lambda: tree_explainer.shap_values(X),  # it builds the CatBoost Pool, as Assay does
        "assay_values": lambda: explainer.shap_values(X),
        "assay_explain": lambda: explain(bundle, rows, max_rows=args.rows, explainer=explainer),
    }, args.repeat)
    base = times["treeexplainer"]
    print(f"CatBoost on diamonds: {args.iterations} trees of depth 6 (fitted in {fit_s:.1f} s), "
          f"{len(X):,} rows x {X.shape[1]} features ({len(bundle.input_spec.categorical)} categorical)")
    print(f"  shap.TreeExplainer            {base:7.2f} s   1.00x")
    print(f"  Assay SHAP values (native)    {times['assay_values']:7.2f} s   {times['assay_values'] / base:.2f}x")
    print(f"  Assay whole explanation       {times['assay_explain']:7.2f} s   {times['assay_explain'] / base:.2f}x")
    print(f"  largest difference between the two sets of values: {np.abs(ours[:, 0, :] - theirs).max():.2e}")

    hgb_rows = rows.head(2_000)
    bundle = _bundle(frame, "hgb", {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                                    "l2_regularization": 0.0, "max_features": 1.0}, 200)
    pipeline = bundle.members[0].estimator
    encoded = pipeline.named_steps["prep"].transform(bundle.transform(hgb_rows))
    hgb = pipeline.named_steps["model"]
    hgb_explainer = shap.TreeExplainer(hgb)
    hgb_shap_values(hgb, encoded[:10])  # compile or load the compiled code once
    times = interleaved({
        "treeexplainer": lambda: hgb_explainer.shap_values(encoded, check_additivity=False),
        "assay": lambda: hgb_shap_values(hgb, encoded),
    }, args.repeat)
    raw = hgb.predict(encoded)
    values, base_value = hgb_shap_values(hgb, encoded)
    theirs = hgb_explainer.shap_values(encoded, check_additivity=False)
    theirs_gap = np.abs(np.atleast_1d(hgb_explainer.expected_value)[0] + theirs.sum(axis=1) - raw).max()
    ours_gap = np.abs(base_value[0] + values[:, 0, :].sum(axis=1) - raw).max()
    print(f"HistGradientBoosting on diamonds: 200 iterations, native categorical features, {len(encoded):,} rows")
    print(f"  shap.TreeExplainer            {times['treeexplainer']:7.2f} s   1.00x   "
          f"base + values misses the prediction by up to {theirs_gap:,.0f} (price units)")
    print(f"  Assay TreeSHAP                {times['assay']:7.2f} s   {times['assay'] / times['treeexplainer']:.2f}x   "
          f"misses by up to {ours_gap:.1e}")


if __name__ == "__main__":
    main()
