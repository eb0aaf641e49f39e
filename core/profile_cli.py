"""``assay profile``: the Profile page's overview, alerts and correlations, from the command line.

``assay profile FILE_OR_DATASET [--target COL] [--json OUT|-] [--html OUT]``. A stored
dataset is profiled as its cleaning recipe leaves it and keeps its profile (and its full
report) in the project, exactly as the page does; a file is profiled without storing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core import store
from core.errors import AssayError

__all__ = ["add_parser"]


def add_parser(sub) -> None:
    p = sub.add_parser("profile", help="profile a file or a dataset: overview, alerts, correlations")
    p.add_argument("source", metavar="FILE_OR_DATASET", help="a file, or PROJECT/DATASET")
    p.add_argument("--project", help="the project of DATASET (instead of PROJECT/DATASET)")
    p.add_argument("--target", metavar="COL", help="target column (default: the dataset's target role)")
    p.add_argument("--json", metavar="OUT", help="write the profile as JSON (- for standard output)")
    p.add_argument("--html", metavar="OUT", help="write the full ydata-profiling report as HTML")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    """Profile a file or a stored dataset; stored datasets keep (and reuse) their profile."""
    from core import ingest, profile, profile_report
    from core.cli import resolve_dataset
    from core.recipe import Recipe

    engine = store.init_store()
    with store.read_session(engine) as s:
        dataset = resolve_dataset(s, args.source, args.project)
        head = store.head_recipe(s, dataset.id) if dataset is not None else None
    if dataset is None:
        loaded = ingest.load(args.source)
        frame, steps, title = loaded.frame, [], loaded.report.file_name
        prof = profile.profile_frame(frame, kinds=loaded.report.kinds(), target=args.target)
    else:
        steps = Recipe.from_dict(head.steps).to_dict()["clean"] if head is not None else []
        target = args.target or dataset.roles.get("target")
        title, frame = dataset.name, None

        def load():
            nonlocal frame
            with store.read_session(engine) as s:
                raw = store.read_dataset_frame(s, dataset)
            frame = Recipe.from_dict({"clean": steps}).apply_clean(raw)[0] if steps else raw
            return frame

        _, prof = profile.dataset_profile(engine, dataset, steps, load, target=target)
    data = prof.to_dict()
    if args.json == "-":
        print(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False))
    else:
        if args.json:
            _write(args.json, json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False))
        print(f"{title}: {prof.rows:,} rows x {prof.n_columns} columns, {len(prof.alerts)} alert(s)")
        for alert in prof.alerts:
            print(f"  [{alert.severity}] {alert.column or '(table)'}: {alert.sentence}")
    if args.html:
        target = prof.target["column"] if prof.target else None
        html = None
        if dataset is not None:
            with store.read_session(engine) as s:
                found = profile_report.find_report(s, dataset.id, profile_report.report_key(dataset.blob_sha, steps, target))
                html = profile_report.report_html(s, found) if found is not None else None
        if html is None:
            print("Making the full ydata-profiling report...", file=sys.stderr)
            html, meta = profile_report.build_report(frame if frame is not None else load(), title=title,
                                                     target=target)
            if dataset is not None:
                profile_report.save_report(engine, dataset, steps, target, html, meta)
        _write(args.html, html)
    return 0


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AssayError(f"Cannot write {path!r} ({exc.strerror}).", hint="Check the folder exists and is writable.") from None
    print(f"Wrote {path}", file=sys.stderr)
