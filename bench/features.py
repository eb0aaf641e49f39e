"""Feature steps on a million rows: fit (on all rows) and replay, against the library call
that does the same work.

    python bench/features.py [--copies 19] [--repeat 3] [--only KIND ...]

Data: sample_data/diamonds.csv stacked 19 times (1,024,860 rows), plus columns made
with a fixed seed: ``when`` (random times over three years), ``note`` (three words
from a ten-word list), ``shop`` (5,000 store codes) and ``seq`` (a row order within
each shop). For each step it prints the median time to fit (``Recipe.fit_features``,
which includes the transform of the training rows) and to replay on new rows
(``FittedRecipe.transform_features``), and the ratio of each to a baseline measured
in the same run, interleaved: the scikit-learn / skrub / pandas call that does the
nearest work (named in the table). Assay's steps do more (JSON state, kind checks,
out-of-fold rows), so a ratio a little above 1 is expected; the point is that none
is far off.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench._common import stacked_diamonds  # noqa: E402


def make_frame(copies: int) -> pd.DataFrame:
    frame = pd.read_csv(stacked_diamonds(copies))
    rng = np.random.default_rng(0)
    n = len(frame)
    frame["when"] = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365 * 86_400, n), unit="s")
    words = np.array("brilliant cut sparkle clear flawless cloudy yellow white round oval".split())
    frame["note"] = (pd.Series(rng.choice(words, n)) + " " + pd.Series(rng.choice(words, n)) + " "
                     + pd.Series(rng.choice(words, n)))
    frame["shop"] = rng.integers(0, 5000, n).astype(str)
    frame["seq"] = rng.permutation(n)
    return frame


def baselines(frame: pd.DataFrame, seed: int = 0) -> dict:
    """Per step kind: (the baseline's name, a function doing the nearest library work)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, PowerTransformer, StandardScaler, \
        TargetEncoder

    try:
        from skrub import DatetimeEncoder, StringEncoder
    except ImportError:  # run outside .venv-bench
        DatetimeEncoder = StringEncoder = None

    def by_shop():
        ordered = frame.sort_values(["shop", "seq"])
        return ordered.groupby("shop")["carat"].shift(1)

    def rolling():
        ordered = frame.sort_values(["shop", "seq"])
        earlier = ordered.groupby("shop")["carat"].shift(1)
        return earlier.groupby(ordered["shop"]).rolling(7, min_periods=1).mean()

    table = {
        "standardize": ("sklearn StandardScaler", lambda: StandardScaler().fit_transform(frame[["depth", "table"]])),
        "yeo_johnson": ("sklearn PowerTransformer", lambda: PowerTransformer(standardize=False)
                        .fit_transform(frame[["carat"]])),
        "quantile_bin": ("sklearn KBinsDiscretizer", lambda: KBinsDiscretizer(5, encode="ordinal",
                         strategy="quantile", quantile_method="averaged_inverted_cdf").fit_transform(frame[["depth"]])),
        "one_hot": ("sklearn OneHotEncoder", lambda: OneHotEncoder(max_categories=11, sparse_output=False,
                    handle_unknown="infrequent_if_exist").fit_transform(frame[["cut", "color", "clarity"]])),
        "frequency": ("pandas map(value_counts)", lambda: frame["shop"].map(
            frame["shop"].value_counts(normalize=True))),
        "target_encode": ("sklearn TargetEncoder (cross-fitted)", lambda: TargetEncoder(
            target_type="continuous", cv=5).fit_transform(frame[["shop", "clarity"]], frame["price"])),
        "group_aggregate": ("pandas groupby.transform", lambda: frame.groupby("shop")["carat"]
                            .transform("mean")),
        "lag": ("pandas sort + groupby.shift", by_shop),
        "rolling": ("pandas sort + groupby.rolling", rolling),
        "tfidf_svd": ("sklearn Tfidf + TruncatedSVD", lambda: make_pipeline(
            TfidfVectorizer(min_df=2), TruncatedSVD(5, random_state=seed)).fit_transform(frame["note"])),
        "date_parts": ("pandas .dt parts", lambda: pd.DataFrame(
            {p: getattr(frame["when"].dt, p) for p in ("year", "month", "weekday", "hour")})),
    }
    if StringEncoder is not None:
        table["tfidf_svd (skrub)"] = ("skrub StringEncoder (words)", lambda: StringEncoder(
            5, analyzer="word", ngram_range=(1, 1), random_state=seed).fit_transform(frame["note"]))
        table["date_parts (skrub)"] = ("skrub DatetimeEncoder", lambda: DatetimeEncoder(
            resolution="hour", add_weekday=True, add_total_seconds=True, periodic_encoding="circular")
            .fit_transform(frame["when"]))
    return table


STEPS = {
    "standardize": {"kind": "standardize", "columns": ["depth", "table"]},
    "yeo_johnson": {"kind": "yeo_johnson", "columns": ["carat"]},
    "quantile_bin": {"kind": "quantile_bin", "columns": ["depth"]},
    "one_hot": {"kind": "one_hot", "columns": ["cut", "color", "clarity"]},
    "frequency": {"kind": "frequency", "columns": ["shop"]},
    "target_encode": {"kind": "target_encode", "columns": ["shop", "clarity"]},
    "group_aggregate": {"kind": "group_aggregate", "by": "shop", "column": "carat", "stats": ["mean"]},
    "lag": {"kind": "lag", "columns": ["carat"], "by": "shop", "time": "seq"},
    "rolling": {"kind": "rolling", "columns": ["carat"], "window": 7, "by": "shop", "time": "seq"},
    "tfidf_svd": {"kind": "tfidf_svd", "column": "note", "components": 5},
    "date_parts": {"kind": "date_parts", "column": "when", "parts": ["year", "month", "weekday", "hour"]},
}
STEPS["tfidf_svd (skrub)"] = STEPS["tfidf_svd"]
STEPS["date_parts (skrub)"] = {**STEPS["date_parts"], "parts": ["year", "month", "day", "weekday", "hour",
                                                                "days_since"], "cyclical": True}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=19)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()

    from core.recipe import Recipe
    from core.steps import FitContext

    frame = make_frame(args.copies)
    new_rows = frame.drop(columns="price")
    context = FitContext(target="price", kinds={"cut": "categorical", "color": "categorical",
                                                "clarity": "categorical", "note": "text", "shop": "categorical"})
    table = baselines(frame)
    print(f"{len(frame):,} rows; median of {args.repeat} runs, interleaved; ratio = Assay / baseline\n")
    print(f"{'step':20s} {'fit s':>7s} {'replay s':>9s} {'baseline s':>11s} {'fit ratio':>10s} "
          f"{'replay ratio':>13s}  baseline")
    for name, step in STEPS.items():
        if args.only and name.split(" ")[0] not in args.only or name not in table:
            continue
        recipe = Recipe.from_dict({"features": [step]})
        fitted = {}

        def fit(recipe=recipe, fitted=fitted):
            fitted["states"] = recipe.fit_features(frame, context)[1]

        def replay(recipe=recipe, fitted=fitted):
            from core.recipe import FittedRecipe

            FittedRecipe(recipe, (), tuple(fitted["states"])).transform_features(new_rows)

        label, baseline = table[name]
        times: dict[str, list[float]] = {"fit": [], "replay": [], "baseline": []}
        fit()
        for _ in range(args.repeat):
            for what, fn in (("fit", fit), ("replay", replay), ("baseline", baseline)):
                start = time.perf_counter()
                fn()
                times[what].append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{name:20s} {med['fit']:7.2f} {med['replay']:9.2f} {med['baseline']:11.2f} "
              f"{med['fit'] / med['baseline']:10.2f} {med['replay'] / med['baseline']:13.2f}  {label}", flush=True)


if __name__ == "__main__":
    main()
