"""Shared helpers for the benchmarks: data making, timing, peak memory in a child process."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / ".out"
SAMPLES = ROOT / "sample_data"


def stacked_diamonds(copies: int = 19) -> Path:
    """diamonds.csv stacked ``copies`` times (19 -> 1,024,860 rows), written once."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"diamonds_x{copies}.csv"
    if not path.exists():
        text = (SAMPLES / "diamonds.csv").read_text()
        header, body = text.split("\n", 1)
        body = body if body.endswith("\n") else body + "\n"
        path.write_text(header + "\n" + body * copies)
    return path


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls, after one warm-up call; and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def interleaved(fns: dict, repeat: int = 7) -> dict[str, float]:
    """Median wall time of each function, run in turns so that load from other
    processes hits all of them alike (one warm-up round first)."""
    return {name: statistics.median(t) for name, t in interleaved_rounds(fns, repeat).items()}


def interleaved_rounds(fns: dict, repeat: int = 7) -> dict[str, list[float]]:
    """Every round's wall time of each function, run in turns (one warm-up round first)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for round_ in range(repeat + 1):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def paired_ratio(times: dict[str, list[float]], name: str, baseline: str) -> float:
    """Median over rounds of ``name``'s time over the baseline's in the same round: on a
    shared machine whose speed drifts from round to round this moves less than a ratio
    of medians."""
    return statistics.median(t / b for t, b in zip(times[name], times[baseline]))


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def in_child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object last."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])
