"""Profile overview speed and memory against ydata-profiling (minimal mode) and skrub.

    .venv-bench/bin/python bench/profile.py [--repeat 3] [--only diamonds|wide]

Data (made once in bench/.out, loaded with ``core.ingest`` so kinds are known, as in the app):
- ``diamonds``: sample_data/diamonds.csv stacked 19 times, 1,024,860 rows x 10 columns;
- ``wide``: the widest real table at hand, scikit-learn's bundled handwritten digits
  (64 pixel columns + the digit), stacked 56 times: 100,632 rows x 65 columns.

In one run, on the same frame: median wall time (after a warm-up call) of
- ``pandas describe()``: the floor (numbers only, no charts, no alerts);
- the Assay overview: ``profile_frame(frame, kinds=..., target=..., leakage=False)``
  (statistics, charts, duplicates, missing patterns, alerts, correlations, target
  associations); once more without known kinds (inferred, as a CLI run on a file does);
- ydata-profiling ``minimal=True``: the description alone, and the HTML report;
- skrub ``TableReport``: its summary (``json()``), and the HTML page;
- the leakage test alone (``leakage_check``), timed separately as the issue asks;
and peak memory above the loaded frame, each in a fresh process.
Targets (issue 3): overview >= 5x faster than ydata minimal, >= 2x faster than skrub,
peak memory < 3x the frame's in-memory size.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import OUT, in_child, stacked_diamonds, timed  # noqa: E402

TARGETS = {"diamonds": "price", "wide": "target"}

MEMORY_CHILD = """
import json, sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, '.')
import pandas as pd
from bench._common import rss_mb
{imports}
frame = pd.read_parquet({path!r})
kinds = json.loads({kinds!r})
before = rss_mb()
{call}
print(json.dumps({{"peak_mb": rss_mb("VmHWM") - before}}))
"""


def _data(name: str):
    """(frame, kinds, parquet path) for a benchmark table, made once."""
    from core import ingest

    OUT.mkdir(parents=True, exist_ok=True)
    if name == "diamonds":
        loaded = ingest.load(stacked_diamonds(19))
        label = "sample_data/diamonds.csv stacked 19x"
    else:
        csv = OUT / "digits_x56.csv"
        if not csv.exists():
            from sklearn.datasets import load_digits

            digits = load_digits(as_frame=True).frame
            import pandas as pd

            pd.concat([digits] * 56, ignore_index=True).to_csv(csv, index=False)
        loaded = ingest.load(csv)
        label = "scikit-learn's digits (64 pixel columns + target) stacked 56x"
    path = OUT / f"profile_{name}.parquet"
    loaded.frame.to_parquet(path)
    return loaded.frame, loaded.report.kinds(), path, label


def _memory(path: Path, kinds: dict, imports: str, call: str) -> float:
    import json

    return in_child(MEMORY_CHILD.format(path=str(path), kinds=json.dumps(kinds), imports=imports, call=call))["peak_mb"]


def run(name: str, repeat: int) -> None:
    import pandas as pd
    from skrub import TableReport

    from core.leakage import leakage_check
    from core.profile import profile_frame

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ydata_profiling import ProfileReport
    warnings.filterwarnings("ignore")
    frame, kinds, path, label = _data(name)
    target = TARGETS[name]
    frame_mb = frame.memory_usage(deep=True).sum() / 2**20
    rows, cols = frame.shape
    print(f"\n== {name}: {label}: {rows:,} rows x {cols} columns, {frame_mb:,.1f} MB in memory")

    quiet = {"progress_bar": False}
    runs = {
        "pandas describe() (floor)": lambda: frame.describe(),
        "assay overview": lambda: profile_frame(frame, kinds=kinds, target=target, leakage=False),
        "assay overview, kinds inferred": lambda: profile_frame(frame, target=target, leakage=False),
        "ydata minimal: description": lambda: ProfileReport(frame, minimal=True, **quiet).get_description(),
        "ydata minimal: HTML report": lambda: ProfileReport(frame, minimal=True, **quiet).to_html(),
        "skrub TableReport: json()": lambda: TableReport(frame, verbose=0).json(),
        "skrub TableReport: html()": lambda: TableReport(frame, verbose=0).html(),
        "assay leakage test (alone)": lambda: leakage_check(frame, target),
    }
    times = {}
    for what, fn in runs.items():
        times[what], _ = timed(fn, repeat)
    ours = times["assay overview"]

    memory = {
        "assay overview": _memory(path, kinds, "from core.profile import profile_frame",
                                  f"profile_frame(frame, kinds=kinds, target={target!r}, leakage=False)"),
        "ydata minimal: HTML report": _memory(
            path, kinds, "from ydata_profiling import ProfileReport",
            "ProfileReport(frame, minimal=True, progress_bar=False).to_html()"),
        "skrub TableReport: html()": _memory(path, kinds, "from skrub import TableReport",
                                             "TableReport(frame, verbose=0).html()"),
    }
    print(f"{'':34s} {'median s':>9s} {'/ overview':>11s} {'peak MB':>9s} {'peak/frame':>11s}")
    for what, seconds in times.items():
        peak = memory.get(what)
        mem = f"{peak:9.1f} {peak / frame_mb:10.2f}x" if peak is not None else ""
        print(f"{what:34s} {seconds:9.3f} {seconds / ours:10.2f}x {mem}")
    print(f"ydata minimal HTML / overview  {times['ydata minimal: HTML report'] / ours:6.2f}x  (target >= 5)")
    print(f"ydata minimal description / ov {times['ydata minimal: description'] / ours:6.2f}x")
    print(f"skrub html() / overview        {times['skrub TableReport: html()'] / ours:6.2f}x  (target >= 2)")
    print(f"skrub json() / overview        {times['skrub TableReport: json()'] / ours:6.2f}x")
    print(f"overview / describe()          {ours / times['pandas describe() (floor)']:6.2f}x")
    print(f"overview peak memory / frame   {memory['assay overview'] / frame_mb:6.2f}x  (target < 3)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=sorted(TARGETS))
    args = parser.parse_args()
    for name in ([args.only] if args.only else ["diamonds", "wide"]):
        run(name, args.repeat)


if __name__ == "__main__":
    main()
