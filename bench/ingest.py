"""Ingest speed and memory on a million-row CSV, against pyarrow.csv.read_csv.

    python bench/ingest.py [--copies 19] [--repeat 11]

Data: sample_data/diamonds.csv stacked 19 times (1,024,860 rows x 10 columns, 47 MB).
Times, interleaved in one run: the median of each, and the median over rounds of each
round's ratio to the baseline (the figure the target is read against, because it moves
least when the machine's speed drifts between rounds):
  - pyarrow.csv.read_csv: the baseline (an Arrow table, no pandas);
  - the same + to_pandas(): the floor for any loader that returns a pandas frame;
  - core.ingest.load: detection, parse, typing, LoadReport, source hash.
Peak memory of each is measured in a fresh process, relative to the loaded frame's
in-memory size. Targets (issue 2): time <= 1.5x pyarrow, peak < 4x the frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import in_child, interleaved_rounds, paired_ratio, stacked_diamonds  # noqa: E402

MEMORY_CHILD = """
import json, sys
sys.path.insert(0, '.')
from bench._common import rss_mb
{imports}
before = rss_mb()
result = {call}
print(json.dumps({{"peak_mb": rss_mb("VmHWM") - before}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=19)
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    path = stacked_diamonds(args.copies)

    import pyarrow.csv as pacsv

    from core import ingest

    rounds = interleaved_rounds({
        "arrow": lambda: pacsv.read_csv(path),
        "arrow+pandas": lambda: pacsv.read_csv(path).to_pandas(),
        "assay": lambda: ingest.load(path),
    }, args.repeat)
    times = {name: statistics.median(t) for name, t in rounds.items()}
    loaded = ingest.load(path)
    frame_mb = loaded.frame.memory_usage(deep=True).sum() / 2**20
    calls = {
        "arrow": ("import pyarrow.csv as pacsv", f"pacsv.read_csv({str(path)!r})"),
        "arrow+pandas": ("import pyarrow.csv as pacsv", f"pacsv.read_csv({str(path)!r}).to_pandas()"),
        "assay": ("from core import ingest", f"ingest.load({str(path)!r})"),
    }
    peaks = {k: in_child(MEMORY_CHILD.format(imports=i, call=c))["peak_mb"] for k, (i, c) in calls.items()}

    rows, cols = loaded.frame.shape
    print(f"data: {path.name}: {rows:,} rows x {cols} columns, {path.stat().st_size / 2**20:,.1f} MB on disk; "
          f"loaded frame {frame_mb:,.1f} MB")
    labels = {"arrow": "pyarrow.csv.read_csv (baseline)", "arrow+pandas": "pyarrow read + to_pandas (floor)",
              "assay": "core.ingest.load"}
    print(f"{'':34s} median s  ratio of medians  median of round ratios   peak memory")
    for key, label in labels.items():
        print(f"{label:34s} {times[key]:6.3f}   {times[key] / times['arrow']:9.2f}x   "
              f"{paired_ratio(rounds, key, 'arrow'):13.2f}x           "
              f"{peaks[key]:6.1f} MB = {peaks[key] / frame_mb:4.2f}x frame")
    print(f"time ratio to pyarrow: {paired_ratio(rounds, 'assay', 'arrow'):.2f}x, median of {args.repeat} rounds "
          f"(target <= 1.5); peak memory: {peaks['assay'] / frame_mb:.2f}x the frame (target < 4)")


if __name__ == "__main__":
    main()
