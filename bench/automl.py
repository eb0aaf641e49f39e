"""AutoML quality at equal wall-clock budgets: Assay against default CatBoost, default LightGBM and FLAML.

    .venv-bench/bin/python bench/automl.py [--budget 60] [--repeats 3] [--threads 2]
        [--datasets credit_scoring,penguins,diamonds,bikeshare,titanic]

For every dataset and repeat ``r``, one train/test split (80/20, stratified for
classification, ``random_state=r``) is shared by every contender; each gets the same
raw training frame and ``--threads`` threads:

- **Assay**: ``core.train.run.train`` with ``time_budget=--budget`` (everything included:
  data checks, search, refit, ensemble, bundle) and ``seed=r``; scored by its bundle.
- **CatBoost (default)**: default parameters, text columns as categorical features.
- **LightGBM (default)**: default parameters, text columns as pandas categories.
- **FLAML**: ``AutoML.fit(time_budget=--budget, metric=...)``, its own defaults otherwise.

Scores are on the test rows with each dataset's default metric (ROC-AUC, log loss,
RMSE). Datasets: ``sample_data/`` plus ``../shared/datasets/titanic.csv`` when present;
bikeshare drops ``casual`` and ``registered`` for every contender (they sum to the
target: a leak Assay would remove by itself, the others would not). Prints a table per
dataset (mean ± std over repeats, fit seconds, ratio to default CatBoost) and a verdict:
Assay is "within noise" of the best when the gap is under the larger of the two
standard deviations over repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATASETS = {
    "credit_scoring": ("Status", "binary", "roc_auc", []),
    "penguins": ("species", "multiclass", "log_loss", []),
    "diamonds": ("price", "regression", "rmse", []),
    "bikeshare": ("bikers", "regression", "rmse", ["casual", "registered"]),
    "titanic": ("Survived", "binary", "roc_auc", []),
}


def _path(name: str) -> Path | None:
    for folder in (ROOT / "sample_data", ROOT.parent / "shared" / "datasets"):
        if (folder / f"{name}.csv").is_file():
            return folder / f"{name}.csv"
    return None


def _score(metric: str, y_test: pd.Series, classes: list, proba_or_values: np.ndarray) -> float:
    from sklearn import metrics as skm

    if metric == "rmse":
        return float(np.sqrt(np.mean((y_test.to_numpy(dtype=float) - proba_or_values) ** 2)))
    if metric == "roc_auc":
        return float(skm.roc_auc_score(y_test.astype(str) == str(classes[1]), proba_or_values[:, 1]))
    proba = np.clip(proba_or_values, 1e-15, 1)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return float(skm.log_loss(y_test.astype(str), proba, labels=[str(c) for c in classes]))


def _texts(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def run_assay(X, y, X_test, task, metric, budget, threads, seed, classes):
    from core.train.config import TrainConfig
    from core.train.run import train

    frame = X.assign(**{y.name: y})
    result = train(frame, TrainConfig(target=y.name, metric=metric, time_budget=budget, threads=threads, seed=seed))
    scores = result.bundle.predict(X_test)
    if task == "regression":
        return scores["prediction"].to_numpy(), result.summary
    return scores[[f"proba:{c}" for c in classes]].to_numpy(), result.summary


def run_catboost(X, y, X_test, task, threads, seed, classes):
    from catboost import CatBoostClassifier, CatBoostRegressor

    cats = _texts(X)
    prep = lambda f: f.assign(**{c: f[c].astype(str) for c in cats})  # noqa: E731
    cls = CatBoostRegressor if task == "regression" else CatBoostClassifier
    model = cls(thread_count=threads, random_seed=seed, verbose=0, allow_writing_files=False)
    model.fit(prep(X), y.astype(str) if task != "regression" else y, cat_features=cats)
    if task == "regression":
        return model.predict(prep(X_test))
    order = [list(model.classes_).index(str(c)) for c in classes]
    return model.predict_proba(prep(X_test))[:, order]


def run_lightgbm(X, y, X_test, task, threads, seed, classes):
    import lightgbm as lgb

    cats = _texts(X)
    levels = {c: pd.CategoricalDtype(sorted(X[c].dropna().astype(str).unique())) for c in cats}
    prep = lambda f: f.assign(**{c: f[c].astype(str).where(f[c].notna()).astype(levels[c]) for c in cats})  # noqa: E731
    if task == "regression":
        return lgb.LGBMRegressor(n_jobs=threads, random_state=seed, verbose=-1).fit(prep(X), y).predict(prep(X_test))
    model = lgb.LGBMClassifier(n_jobs=threads, random_state=seed, verbose=-1).fit(prep(X), y.astype(str))
    order = [list(model.classes_).index(str(c)) for c in classes]
    return model.predict_proba(prep(X_test))[:, order]


def run_flaml(X, y, X_test, task, metric, budget, threads, seed, classes):
    from flaml import AutoML

    automl = AutoML()
    flaml_task = "regression" if task == "regression" else "classification"
    automl.fit(X, y.astype(str) if task != "regression" else y, task=flaml_task, metric=metric, time_budget=budget,
               n_jobs=threads, seed=seed, verbose=0)
    if task == "regression":
        return automl.predict(X_test)
    order = [list(automl.classes_).index(str(c)) for c in classes]
    return automl.predict_proba(X_test)[:, order]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--contenders", default="assay,catboost,lightgbm,flaml")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from sklearn.model_selection import train_test_split

    contenders = args.contenders.split(",")
    print(f"budget {args.budget:g} s, {args.threads} threads, {args.repeats} repeat(s) (seeds 0..{args.repeats - 1}), "
          f"load average at start {os.getloadavg()[0]:.2f}")
    verdicts = []
    for name in args.datasets.split(","):
        path = _path(name)
        if path is None:
            print(f"\n{name}: not found, skipped")
            continue
        target, task, metric, drop = DATASETS[name]
        frame = pd.read_csv(path).drop(columns=drop)
        frame = frame[frame[target].notna()].reset_index(drop=True)
        classes = sorted(frame[target].unique(), key=str) if task != "regression" else None
        results: dict[str, list[tuple[float, float]]] = {c: [] for c in contenders}
        notes = []
        for seed in range(args.repeats):
            train_rows, test_rows = train_test_split(frame, test_size=0.2, random_state=seed,
                                                     stratify=frame[target] if task != "regression" else None)
            X, y = train_rows.drop(columns=[target]), train_rows[target]
            X_test, y_test = test_rows.drop(columns=[target]), test_rows[target]
            for contender in contenders:
                start = time.perf_counter()
                if contender == "assay":
                    pred, summary = run_assay(X, y, X_test, task, metric, args.budget, args.threads, seed, classes)
                    notes.append(f"seed {seed}: {summary['chosen']['kind']} of "
                                 f"{len(summary['chosen']['weights'])}, {summary['n_trials']} trials, "
                                 f"{summary['validation']}, refit on {summary['refit']}")
                elif contender == "catboost":
                    pred = run_catboost(X, y, X_test, task, args.threads, seed, classes)
                elif contender == "lightgbm":
                    pred = run_lightgbm(X, y, X_test, task, args.threads, seed, classes)
                else:
                    pred = run_flaml(X, y, X_test, task, metric, args.budget, args.threads, seed, classes)
                seconds = time.perf_counter() - start
                results[contender].append((_score(metric, y_test, classes, pred), seconds))
        greater = metric == "roc_auc"
        print(f"\n{name}: {len(frame):,} rows, target {target!r} ({task}), metric {metric} "
              f"({'higher' if greater else 'lower'} is better)")
        base = statistics.mean(s for s, _ in results["catboost"]) if "catboost" in results else None
        print(f"  {'contender':<20} {metric:>18} {'fit s':>8} {'vs CatBoost':>12}")
        stats = {}
        for contender, rows in results.items():
            scores = [s for s, _ in rows]
            mean, std = statistics.mean(scores), (statistics.stdev(scores) if len(scores) > 1 else 0.0)
            stats[contender] = (mean, std)
            ratio = f"{mean / base:>11.4f}x" if base else ""
            print(f"  {contender:<20} {mean:>10.4f} ± {std:<6.4f} {statistics.mean(t for _, t in rows):>8.1f} {ratio}")
        for note in notes:
            print(f"    assay {note}")
        if "assay" in stats:
            best_name = (max if greater else min)(stats, key=lambda c: stats[c][0])
            gap = abs(stats["assay"][0] - stats[best_name][0])
            noise = max(stats["assay"][1], stats[best_name][1])
            verdict = "best" if best_name == "assay" else ("within noise of the best" if gap <= noise else
                                                           f"behind {best_name} by {gap:.4f} (noise {noise:.4f})")
            verdicts.append(f"{name}: Assay is {verdict}")
    print()
    for v in verdicts:
        print(v)


if __name__ == "__main__":
    main()
