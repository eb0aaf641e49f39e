"""The prediction service's latency: `assay serve` against scoring the same rows in-process.

    python bench/serve.py [--requests 500] [--iterations 300]

Data: sample_data/credit_scoring.csv (4,454 rows; Status good/bad as the target, 13
columns, 5 of them labels). A CatBoost model (depth 6, ``--iterations`` trees) is fitted
with Assay's own model zoo and saved as a bundle, then, in one run:

1. in-process: ``core.scoring.score(bundle, one_row)`` on each of ``--requests`` rows,
   one at a time (schema check, recipe replay, prediction): p50 and p99;
2. the service: ``assay serve`` is started on the bundle (127.0.0.1, a free port) as its
   own process, and a second process sends the same rows as single-record
   ``POST /predict`` requests, one after the other, over one persistent HTTP/1.1
   connection (``http.client``): p50, p99 and throughput (requests a second).

It prints both, and the ratio service p50 / in-process p50: what HTTP, JSON and
validation add to a prediction. Nothing but the app's own dependencies is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench._common import OUT, ROOT, SAMPLES  # noqa: E402

TARGET = "Status"

# The client: a second process, one persistent connection, one record a request.
CLIENT = r"""
import http.client, json, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
bodies = [json.dumps({"records": [r]}).encode() for r in json.load(open(path))]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
headers = {"Content-Type": "application/json"}

def post(body):
    conn.request("POST", "/predict", body=body, headers=headers)
    answer = conn.getresponse()
    data = answer.read()
    if answer.status != 200:
        raise SystemExit(f"HTTP {answer.status}: {data[:300]!r}")
    return json.loads(data)

for body in bodies[:20]:  # warm-up
    post(body)
latencies, labels = [], []
started = time.perf_counter()
for body in bodies:
    t = time.perf_counter()
    labels.append(post(body)["predictions"][0]["prediction"])
    latencies.append(time.perf_counter() - t)
total = time.perf_counter() - started
conn.close()
print(json.dumps({"latencies": latencies, "total": total, "labels": labels}))
"""


def _bundle(frame: pd.DataFrame, iterations: int):
    """A binary CatBoost bundle fitted as training fits its final model (kinds as the Data page infers them)."""
    from core.bundle import Member, ModelBundle
    from core.recipe import Recipe
    from core.schema import infer_column
    from core.steps import FitContext
    from core.train import zoo
    from core.train.prep import infer_spec
    from core.train.tasks import class_order, encode_target

    kinds = {str(c): infer_column(frame[c], str(c)).kind.value for c in frame.columns}
    fitted, cleaned = Recipe().fit(frame, FitContext(target=TARGET, kinds=kinds))
    cleaned = cleaned.dropna(subset=[TARGET])  # a new table: the caller's keeps its target
    y_raw = cleaned.pop(TARGET)
    classes = class_order(y_raw, "binary")
    spec, _ = infer_spec(cleaned, kinds)
    X = spec.transform(cleaned)
    ctx = zoo.ZooContext(task="binary", n_classes=len(classes), spec=spec, threads=1)
    params = {"family": "catboost", "depth": 6, "l2_leaf_reg": 3.0, "random_strength": 1.0,
              "bagging_temperature": 1.0, "one_hot_max_size": 2}
    model = zoo.fit_final(params, X, encode_target(y_raw, "binary", classes), ctx, iterations)
    bundle = ModelBundle(task="binary", target=TARGET, classes=classes,
                         input_schema={c: kinds[c] for c in map(str, frame.columns) if c != TARGET},
                         feature_names=spec.feature_names, fitted_recipe=fitted, input_spec=spec,
                         members=[Member("catboost", model, params=params, name="catboost")],
                         metadata={"metric": "roc_auc", "seed": 0})
    bundle.set_reference(frame)
    return bundle


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"assay serve exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("assay serve did not answer /health in time")


def _ms(values) -> tuple[float, float]:
    a = np.asarray(values) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()

    from core import ingest, scoring

    frame = ingest.load(SAMPLES / "credit_scoring.csv").frame
    start = time.perf_counter()
    bundle = _bundle(frame, args.iterations)
    fit_s = time.perf_counter() - start
    OUT.mkdir(parents=True, exist_ok=True)
    model_path, rows_path = OUT / "serve-model.zip", OUT / "serve-rows.json"
    model_path.write_bytes(bundle.to_bytes())
    rows = frame.drop(columns=[TARGET]).sample(args.requests, random_state=0, replace=len(frame) < args.requests)
    records = json.loads(rows.to_json(orient="records"))  # NaN -> null, numbers and labels as JSON sends them
    rows_path.write_text(json.dumps(records))

    # 1. in-process, one row a call
    one_rows = [rows.iloc[[i]] for i in range(len(rows))]
    for r in one_rows[:20]:
        scoring.score(bundle, r)
    inproc, local_labels = [], []
    for r in one_rows:
        t = time.perf_counter()
        local_labels.append(scoring.score(bundle, r).predictions["prediction"].iloc[0])
        inproc.append(time.perf_counter() - t)

    # 2. the service in its own process, the client in another
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", str(model_path), "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_up(port, server)
        client = subprocess.run([sys.executable, "-c", CLIENT, str(port), str(rows_path)], capture_output=True,
                                text=True, cwd=ROOT, env=env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    if client.returncode != 0:
        raise RuntimeError(client.stderr[-3000:] or client.stdout[-3000:])
    served = json.loads(client.stdout.strip().splitlines()[-1])

    same = sum(str(a) == str(b) for a, b in zip(local_labels, served["labels"]))
    in_p50, in_p99 = _ms(inproc)
    sv_p50, sv_p99 = _ms(served["latencies"])
    print(f"CatBoost on credit_scoring: {args.iterations} trees of depth 6 (fitted in {fit_s:.1f} s), "
          f"{len(bundle.input_schema)} input columns; {len(rows):,} single-row requests")
    print(f"  in-process core.scoring.score   p50 {in_p50:7.2f} ms   p99 {in_p99:7.2f} ms   "
          f"{len(inproc) / sum(inproc):7.1f} rows/s")
    print(f"  assay serve, POST /predict      p50 {sv_p50:7.2f} ms   p99 {sv_p99:7.2f} ms   "
          f"{len(served['latencies']) / served['total']:7.1f} req/s (one keep-alive connection)")
    print(f"  service p50 / in-process p50    {sv_p50 / in_p50:.2f}x")
    print(f"  same prediction in both: {same} of {len(rows)} rows")


if __name__ == "__main__":
    main()
