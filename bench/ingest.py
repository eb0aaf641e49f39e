"""Ingest speed and memory on a million-row CSV, against pyarrow.csv.read_csv.

    python bench/ingest.py [--copies 19] [--repeat 5]

Data: sample_data/diamonds.csv stacked 19 times (1,024,860 rows x 10 columns).
Prints the median load time of ``core.ingest.load`` (to a typed pandas frame with
a LoadReport) as a ratio to ``pyarrow.csv.read_csv`` (to an Arrow table) in the
same run, and each one's peak memory measured in a fresh process, relative to the
loaded frame's in-memory size. Targets (issue 2): ratio <= 1.5, peak < 4x frame.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import in_child, stacked_diamonds, timed  # noqa: E402

MEMORY_CHILD = """
import json, sys
sys.path.insert(0, '.')
from bench._common import rss_mb
{imports}
before = rss_mb()
result = {call}
frame_mb = {frame_mb}
print(json.dumps({{"peak_mb": rss_mb("VmHWM") - before, "frame_mb": frame_mb}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=19)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = stacked_diamonds(args.copies)

    import pyarrow.csv as pacsv

    from core import ingest

    base, table = timed(lambda: pacsv.read_csv(path), args.repeat)
    ours, loaded = timed(lambda: ingest.load(path), args.repeat)
    frame_mb = loaded.frame.memory_usage(deep=True).sum() / 2**20

    mem_ours = in_child(MEMORY_CHILD.format(
        imports="from core import ingest", call=f"ingest.load({str(path)!r})",
        frame_mb="result.frame.memory_usage(deep=True).sum() / 2**20"))
    mem_base = in_child(MEMORY_CHILD.format(
        imports="import pyarrow.csv as pacsv", call=f"pacsv.read_csv({str(path)!r})",
        frame_mb="result.nbytes / 2**20"))

    rows, cols = loaded.frame.shape
    print(f"data: {path.name}: {rows:,} rows x {cols} columns, {path.stat().st_size / 2**20:,.1f} MB on disk")
    print(f"pyarrow.csv.read_csv (baseline)  {base:7.3f} s   peak {mem_base['peak_mb']:7.1f} MB")
    print(f"core.ingest.load                 {ours:7.3f} s   peak {mem_ours['peak_mb']:7.1f} MB")
    print(f"time ratio (ours / pyarrow)      {ours / base:7.2f} x   (target <= 1.5)")
    print(f"peak memory / loaded frame       {mem_ours['peak_mb'] / frame_mb:7.2f} x   "
          f"(frame {frame_mb:,.1f} MB; target < 4)")


if __name__ == "__main__":
    main()
