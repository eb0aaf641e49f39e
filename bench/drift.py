"""Drift speed on a million-row reference against a million-row current table.

    python bench/drift.py [--copies 19] [--repeat 3]

Data: reference = sample_data/diamonds.csv stacked 19 times (1,024,860 rows x 10
columns); current = as many rows drawn with replacement from diamonds.csv (seed 0),
with price raised 5% and a new cut label on 2% of rows, so some columns drift.
Both are CSV files read with ``core.ingest.load`` (what ``assay drift a.csv b.csv``
does). Prints the median time of the per-column tests and of the domain classifier
as ratios to reading the two tables in the same run (and to reading them from
Parquet, the store's format), and the peak memory of a comparison in a fresh
process relative to the two frames. Targets (issue 8): per-column tests <= 2x the
read time; the domain classifier (on a bounded sample) a few seconds at most.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import OUT, SAMPLES, in_child, stacked_diamonds, timed  # noqa: E402

MEMORY_CHILD = """
import json, sys
sys.path.insert(0, '.')
from bench._common import rss_mb
from core import drift, ingest
ref = ingest.load({ref!r}).frame
cur = ingest.load({cur!r}).frame
frames_mb = (ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum()) / 2**20
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
before = rss_mb()
drift.compare(ref, cur)
print(json.dumps({{"extra_mb": rss_mb("VmHWM") - before, "frames_mb": frames_mb}}))
"""


def current_table(rows: int) -> Path:
    """``rows`` diamonds drawn with replacement, price +5%, a new cut label on 2% of rows."""
    import numpy as np
    import pandas as pd

    path = OUT / f"diamonds_current_{rows}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        base = pd.read_csv(SAMPLES / "diamonds.csv")
        rng = np.random.default_rng(0)
        frame = base.iloc[rng.integers(0, len(base), rows)].reset_index(drop=True)
        frame["price"] = (frame["price"] * 1.05).round().astype("int64")
        frame.loc[rng.random(rows) < 0.02, "cut"] = "Unknown"
        frame.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=19)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from core import drift, ingest, store
    from core.drift_domain import domain_classifier

    ref_path = stacked_diamonds(args.copies)
    ref_rows = sum(1 for _ in open(ref_path)) - 1
    cur_path = current_table(ref_rows)

    read, (ref, cur) = timed(lambda: (ingest.load(ref_path).frame, ingest.load(cur_path).frame), args.repeat)
    blobs = store.frame_to_parquet(ref), store.frame_to_parquet(cur)
    read_parquet, _ = timed(lambda: [store.parquet_to_frame(b) for b in blobs], args.repeat)
    no_classifier = drift.DriftConfig(classifier_rows=0)
    tests, result = timed(lambda: drift.compare(ref, cur, config=no_classifier), args.repeat)

    config = drift.DriftConfig()
    prepared = {c: (ref[c], cur[c], result.column(c).test) for c in ref.columns if result.column(c).test != "none"}
    classifier, domain = timed(lambda: domain_classifier(prepared, config), args.repeat)
    total, full = timed(lambda: drift.compare(ref, cur), 1)
    memory = in_child(MEMORY_CHILD.format(ref=str(ref_path), cur=str(cur_path)))

    print(f"data: reference {ref_path.name} {len(ref):,} rows x {ref.shape[1]} columns; "
          f"current {cur_path.name} {len(cur):,} rows x {cur.shape[1]} columns")
    print(f"read both tables, CSV (core.ingest.load)   {read:7.3f} s   (baseline)")
    print(f"read both tables, Parquet                  {read_parquet:7.3f} s")
    print(f"per-column tests (10 columns)              {tests:7.3f} s   "
          f"{tests / read:5.2f} x the CSV read (target <= 2)   {tests / read_parquet:5.2f} x the Parquet read")
    print(f"domain classifier ({domain.rows[0]:,} + {domain.rows[1]:,} rows, {domain.folds}-fold)"
          f"   {classifier:7.3f} s   {classifier / read:5.2f} x the CSV read (target: a few seconds)")
    print(f"whole comparison                           {total:7.3f} s   {total / read:5.2f} x the CSV read")
    print(f"peak extra memory of a comparison          {memory['extra_mb']:7.1f} MB  "
          f"{memory['extra_mb'] / memory['frames_mb']:5.2f} x the two frames ({memory['frames_mb']:,.1f} MB)")
    print(f"verdict: {full.status}: {full.headline}")


if __name__ == "__main__":
    main()
