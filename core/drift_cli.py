"""``assay drift``: compare two tables (or two time slices of one) and gate a pipeline on the verdict.

Exit codes: 0 no drift (or only warnings, unless ``--fail-on warning``), 1 drift
detected (in the data, or in the model's predictions or performance with
``--model``), 2 a user error (a bad path, an unknown dataset, a bad cut).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import drift, drift_report, store
from core.errors import InputError

__all__ = ["add_parser", "EXIT_NO_DRIFT", "EXIT_DRIFT"]

EXIT_NO_DRIFT = 0
EXIT_DRIFT = 1


def add_parser(sub) -> None:
    p = sub.add_parser(
        "drift", help="compare a current table with a reference; exit 1 when drift is detected",
        description="Compare CURRENT with REFERENCE column by column and as a whole. Each side is a file "
                    "(CSV, Excel, Parquet, JSON) or a saved dataset (PROJECT/DATASET, with its cleaning recipe "
                    "applied). With --cut, REFERENCE is cut in two at a date or number instead. Exit codes: "
                    "0 no drift, 1 drift detected, 2 a user error.",
    )
    p.add_argument("reference", help="file path or PROJECT/DATASET, or @model: the model's training rows")
    p.add_argument("current", nargs="?", help="file path or PROJECT/DATASET (omit with --cut)")
    p.add_argument("--cut", metavar="COLUMN=VALUE",
                   help="compare REFERENCE's rows before VALUE in COLUMN with the rows from VALUE on")
    p.add_argument("--project", help="project of dataset names given without PROJECT/")
    p.add_argument("--model", metavar="BUNDLE",
                   help="a model bundle (.zip saved by Assay) or PROJECT/MODEL_ID: adds prediction drift, "
                        "performance drift when CURRENT has the target, and columns ranked by importance")
    p.add_argument("--out", type=Path, help="write the result as JSON here")
    p.add_argument("--html", type=Path, help="write a standalone HTML report here")
    p.add_argument("--exclude", action="append", default=[], metavar="COLUMN", help="leave a column out")
    p.add_argument("--seed", type=int, default=0, help="seed of the domain classifier's sampling and folds")
    p.add_argument("--fail-on", choices=["drift", "warning"], default="drift",
                   help="exit 1 on drift only (default), or on warnings too")
    p.add_argument("--save", action="store_true", help="also store the result as a report in the project")
    p.set_defaults(func=run)


def _side(session, spec: str, project: str | None):
    """(frame, display name, dataset or None) of one side."""
    from core import datasets, ingest
    from core.cli import resolve_dataset

    dataset = resolve_dataset(session, spec, project)
    if dataset is None:
        loaded = ingest.load(Path(spec))
        return loaded.frame, Path(spec).name, None, {"file": loaded.report.source_sha}
    frame, clean_sha = datasets.load_cleaned(session, dataset)
    return frame, dataset.name, dataset, {"blob": dataset.blob_sha, "clean": clean_sha}


def _model(session, spec: str, project: str | None):
    """(bundle, its key, its stored model id or None) from a bundle file or PROJECT/MODEL_ID."""
    import hashlib

    from core.bundle import ModelBundle
    from core.drift_model import load_bundle

    path = Path(spec)
    if path.is_file():
        data = path.read_bytes()
        return ModelBundle.from_bytes(data), {"model": hashlib.sha256(data).hexdigest()}, None
    project_name, _, model_id = spec.rpartition("/")
    project_name = project_name or project
    if not model_id.isdigit() or not project_name:
        raise InputError(f"--model {spec!r} is neither a bundle file nor PROJECT/MODEL_ID.",
                         hint="Give the .zip a model was saved as, or the project and the model's number.")
    from core.cli import _project_by_name

    project_id = _project_by_name(session, project_name).id
    bundle = load_bundle(session, int(model_id), project_id)
    return bundle, {"model": int(model_id)}, int(model_id)


def run(args: argparse.Namespace) -> int:
    if (args.current is None) == (args.cut is None):
        raise InputError("Give either CURRENT or --cut COLUMN=VALUE (not both, not neither).",
                         hint="e.g. `assay drift jan.csv feb.csv` or `assay drift sales.csv --cut date=2024-06-01`.")
    config = drift.DriftConfig(seed=args.seed)
    exclude = list(args.exclude)
    with store.read_session(store.init_store()) as s:
        bundle, model_key, model_id = _model(s, args.model, args.project) if args.model else (None, None, None)
        if args.reference == "@model":
            if bundle is None:
                raise InputError("@model means the model's training rows: give the model with --model BUNDLE.")
            ref, ref_name, dataset, ref_key = bundle.reference_frame(), "the model's training rows", None, model_key
        else:
            ref, ref_name, dataset, ref_key = _side(s, args.reference, args.project)
        if args.cut is not None:
            column, sep, value = args.cut.partition("=")
            if not sep or not column:
                raise InputError(f"--cut {args.cut!r} is not COLUMN=VALUE.", hint="e.g. --cut date=2024-06-01")
            ref, cur = drift.split_by(ref, column, value)
            cur_name, cur_key = f"{ref_name} from {value}", {**ref_key, "cut": [column, value]}
            ref_name = f"{ref_name} before {value}"
            exclude.append(column)
        else:
            cur, cur_name, _, cur_key = _side(s, args.current, args.project)
        project_id = dataset.project_id if dataset is not None else None
        if args.save and project_id is None and args.project:
            from core.cli import _project_by_name

            project_id = _project_by_name(s, args.project).id
    if args.save and project_id is None:
        raise InputError("--save needs a project: give the reference as PROJECT/DATASET, or add --project.")
    kwargs = dict(config=config, reference_name=ref_name, current_name=cur_name, exclude=exclude, model=bundle)
    if args.save:
        key = drift_report.report_key(ref_key, cur_key, config, exclude=sorted(exclude), model=model_key)
        engine = store.init_store()
        report_id = drift_report.compare_and_store(engine, project_id, ref, cur, key=key, model_id=model_id,
                                                   dataset_id=dataset.id if dataset else None, **kwargs)
        result = drift_report.load_result(engine, report_id, project_id)
    else:
        result = drift.compare(ref, cur, **kwargs)
    if args.out:
        args.out.write_text(drift_report.to_json(result), encoding="utf-8")
    if args.html:
        args.html.write_text(drift_report.to_html(result), encoding="utf-8")
    _print_summary(result)
    failing = {"drift"} if args.fail_on == "drift" else {"drift", "warning"}
    return EXIT_DRIFT if result.status in failing else EXIT_NO_DRIFT


def _print_summary(result: drift.DriftResult) -> None:
    from core.charts.drift import columns_by_severity

    print(result.headline)
    for line in result.schema.lines():
        print(f"  schema   {line}")
    for line in (result.model or {}).get("lines", []):
        print(f"  model    {line}")
    for c in columns_by_severity(result):
        if c.status in ("drift", "warning"):
            print(f"  {c.status:<8} {c.name}: {'; '.join(c.reasons)}")
    sys.stdout.flush()
