"""Ten concurrent browser sessions on ten projects, over loopback: latency, memory, cross-talk.

    python bench/load.py [--sessions 10] [--dataset credit_scoring.csv]

A real `streamlit run app.py` server on a fresh store; each project gets its own copy of
a sample dataset (under its own name). Each session, in its own headless-chromium
context, opens its project's Data, Profile and Clean pages in turn. A page counts as
loaded when the app has finished its run and the session's own dataset name is on
screen. Cross-talk check: no session ever sees another session's project or dataset.

Prints page latency (p50/p95) for 1 session alone (the baseline, same run) and for N at
once, their ratio, and the peak memory (RSS) of the server and its workers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = [("", "Data"), ("profile", "Profile"), ("clean", "Clean")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (MB)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            pass
    return total / 1024


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, _tree_rss_mb(self.pid))


def _setup(home: Path, n: int, dataset: str) -> list[tuple[int, str, str]]:
    os.environ["ASSAY_HOME"] = str(home)
    os.environ["ASSAY_DATABASE_URL"] = f"sqlite:///{home / 'assay.db'}"
    from core import datasets, ingest, store

    loaded = ingest.load(ROOT / "sample_data" / dataset)
    out = []
    with store.write_session(store.init_store()) as s:
        for i in range(n):
            # each project's table has its own row count: the Profile page must show that one
            rows = len(loaded.frame) - 37 * i
            part = ingest.Loaded(loaded.frame.iloc[:rows].reset_index(drop=True), loaded.report)
            name = f"Team {i:02d}"
            project = store.create_project(s, name)
            datasets.save_loaded(s, project.id, f"table of team {i:02d}", part, {"target": loaded.frame.columns[0]})
            out.append((project.id, name, f"{rows:,}"))
    store.dispose_engines()
    return out


async def _session(browser, url: str, project: tuple[int, str, str], others: list[str], latencies: list[float]):
    from playwright.async_api import expect

    project_id, name, rows = project
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    try:
        for path, title in PAGES:
            start = time.perf_counter()
            await page.goto(f"{url}/{path}?project={project_id}", wait_until="domcontentloaded")
            await expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=120_000)
            if title != "Clean":  # the Clean page does not repeat the project's name
                await expect(page.get_by_text(f"Project {name} ·").first).to_be_visible(timeout=120_000)
            if title == "Profile":  # this project's own table, not another session's
                await expect(page.get_by_text(rows, exact=True).first).to_be_visible(timeout=120_000)
            await page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
            latencies.append(time.perf_counter() - start)
            body = await page.locator('[data-testid="stApp"]').inner_text()
            leaked = [o for o in others if o in body]
            assert not leaked, f"session {name} saw {leaked}"
    finally:
        await context.close()


async def _run(url: str, projects, sessions: int) -> list[float]:
    from playwright.async_api import async_playwright

    latencies: list[float] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
        names = [f"Project {n} ·" for _, n, _ in projects]
        chosen = projects[:sessions]
        await asyncio.gather(*[
            _session(browser, url, proj, [x for x in names if x != f"Project {proj[1]} ·"], latencies)
            for proj in chosen
        ])
        await browser.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--dataset", default="credit_scoring.csv")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="assay-load-"))
    projects = _setup(home, args.sessions, args.dataset)
    port = _free_port()
    env = {**os.environ, "ASSAY_HOME": str(home), "ASSAY_DATABASE_URL": f"sqlite:///{home / 'assay.db'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        idle = _tree_rss_mb(server.pid)
        sampler = Sampler(server.pid)
        sampler.start()
        warm = asyncio.run(_run(url, projects[-1:], 1))  # warm the server's imports and caches
        alone = asyncio.run(_run(url, projects[:1], 1))
        peak_alone = sampler.peak
        many = asyncio.run(_run(url, projects, args.sessions))
        sampler.stop.set()
        sampler.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)

    def q(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]

    print(f"data: sample_data/{args.dataset} copied into {args.sessions} projects; pages: "
          + ", ".join(t for _, t in PAGES) + f"; load average at start {os.getloadavg()[0]:.1f}")
    print(f"warm-up (first visit, imports)     {statistics.median(warm):6.2f} s per page")
    print(f"1 session  (baseline)  p50 {q(alone, .5):6.2f} s   p95 {q(alone, .95):6.2f} s   "
          f"server peak {peak_alone:7.1f} MB (idle {idle:.1f} MB)")
    print(f"{args.sessions} sessions at once   p50 {q(many, .5):6.2f} s   p95 {q(many, .95):6.2f} s   "
          f"server peak {sampler.peak:7.1f} MB")
    print(f"latency ratio p50 {q(many, .5) / q(alone, .5):.1f}x on 2 cores; "
          f"memory per extra session {(sampler.peak - peak_alone) / max(args.sessions - 1, 1):.1f} MB; "
          f"cross-talk: none ({args.sessions * len(PAGES)} page views checked)")


if __name__ == "__main__":
    main()
