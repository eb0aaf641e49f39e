"""Replay speed of a ten-step cleaning recipe on a million rows, against reading the data.

    python bench/recipe.py [--copies 19] [--repeat 5]

Data: sample_data/diamonds.csv stacked 19 times (1,024,860 rows x 10 columns), read
with ``core.ingest.load`` and stored as the app stores it (Parquet). The recipe mixes
column, value and row steps (text cleanup, replace, merge rare, cast, impute with an
indicator, outlier clipping, a filter, deduplication, drop). Prints the median replay
time of ``Recipe.apply_clean`` (runs interleaved with the reads) as a ratio to the two ways the same data is read: loading
the CSV upload (``core.ingest.load``) and reading the stored Parquet snapshot (what the
app and the exported script read). Target (issue 4): replay <= 2x the read time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import stacked_diamonds  # noqa: E402

RECIPE = {"clean": [
    {"kind": "text_cleanup", "columns": ["cut", "color"], "case": "lower"},
    {"kind": "replace_values", "column": "color", "pairs": [["j", "i"]]},
    {"kind": "merge_rare", "column": "clarity", "min_share": 0.05},
    {"kind": "cast", "columns": ["price"], "to": "number"},
    {"kind": "replace_values", "column": "x", "pairs": [[0, None]]},
    {"kind": "impute", "columns": ["x"], "strategy": "median", "add_indicator": True},
    {"kind": "outliers", "columns": ["carat"], "method": "iqr", "action": "clip"},
    {"kind": "filter_rows", "column": "depth", "operator": "between", "value": [55, 70]},
    {"kind": "deduplicate"},
    {"kind": "drop_columns", "columns": ["table"]},
]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=19)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = stacked_diamonds(args.copies)

    from core import ingest, store
    from core.recipe import Recipe

    recipe = Recipe.from_dict(RECIPE)
    assert len(recipe.clean) == 10
    loaded = ingest.load(path)
    blob = store.frame_to_parquet(loaded.frame)
    raw = store.parquet_to_frame(blob)
    cleaned, _ = recipe.apply_clean(raw)  # warm-up
    # interleaved, so that the baselines and the replay see the same load on a shared machine
    times: dict[str, list[float]] = {"csv": [], "parquet": [], "replay": []}
    for _ in range(args.repeat):
        for name, fn in (("csv", lambda: ingest.load(path)), ("parquet", lambda: store.parquet_to_frame(blob)),
                         ("replay", lambda: recipe.apply_clean(raw))):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    csv_time, parquet_time, replay_time = (statistics.median(times[k]) for k in ("csv", "parquet", "replay"))

    steps = []
    frame = raw
    for i, step in enumerate(recipe.clean, start=1):
        start = time.perf_counter()
        frame = step.apply(frame)
        steps.append((i, step.describe(), time.perf_counter() - start))

    print(f"data: {path.name}: {len(raw):,} rows x {raw.shape[1]} columns -> cleaned {len(cleaned):,} rows x "
          f"{cleaned.shape[1]} columns")
    print(f"read the CSV upload (core.ingest.load)      {csv_time:7.3f} s")
    print(f"read the Parquet snapshot (what the app reads) {parquet_time:7.3f} s")
    print(f"replay the ten-step recipe                  {replay_time:7.3f} s")
    print(f"replay / CSV read                           {replay_time / csv_time:7.2f} x   (target <= 2)")
    print(f"replay / Parquet read                       {replay_time / parquet_time:7.2f} x")
    print("per step (one run):")
    for i, text, seconds in steps:
        print(f"  {i:2d}. {seconds:6.3f} s  {text}")


if __name__ == "__main__":
    main()
