"""``assay predict``: score a table with a model bundle, optionally with top reasons and a drift check.

The same path as the Predict page: :func:`core.scoring.score` (schema check, recipe
replay, predictions, ``explain=k`` top SHAP reasons) and
:func:`core.scoring.drift_against_training` (the new rows against the training rows
kept in the bundle). The predictions are written in every case but a user error.

Exit codes, as ``assay drift``'s: 0 predictions written (and, with ``--check-drift``,
no drift), 1 predictions written but drift detected (``--fail-on warning``: warnings
too), 2 a user error (nothing written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.errors import InputError

__all__ = ["add_parser", "run", "drift_lines", "EXIT_OK", "EXIT_DRIFT"]

EXIT_OK = 0
EXIT_DRIFT = 1
TOP_DRIFTED = 5


def _reasons(text: str) -> int:
    from core.scoring import MAX_REASONS

    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_REASONS}, got {text!r}") from None
    if not 1 <= k <= MAX_REASONS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_REASONS}, got {k}")
    return k


def add_parser(sub) -> None:
    p = sub.add_parser(
        "predict", help="score a table with a model bundle (reasons and a drift check on request)",
        description="Score FILE with the model in BUNDLE and write the input columns, `prediction` and one "
                    "`proba:<class>` column per class. FILE is checked first against the columns the model "
                    "was trained with: a missing column is an error naming it, extra columns are ignored "
                    "with a notice, values that do not read as their training kind are reported. "
                    "Exit codes: 0 predictions written; 1 predictions written but --check-drift found drift; "
                    "2 a user error (nothing written).",
    )
    p.add_argument("bundle", type=Path, help="a model bundle (.zip) from the Train page or `assay train --out`")
    p.add_argument("file", type=Path, help="rows to score (CSV, Excel, Parquet, JSON)")
    p.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .xlsx or .parquet)")
    p.add_argument("--only-predictions", action="store_true", help="leave the input columns out")
    p.add_argument("--explain", type=_reasons, nargs="?", const=3, default=0, metavar="K",
                   help="add each row's top K reasons (SHAP; K defaults to 3, at most 10): columns `reason i` "
                        "(`feature = value (effect)`) and `reason i effect` (the SHAP value, toward the "
                        "predicted class; in the model's explanation space)")
    p.add_argument("--check-drift", action="store_true",
                   help="compare the rows with the model's training rows and print a drift summary; "
                        "exit 1 when drift is detected (the predictions are written anyway)")
    p.add_argument("--drift-report", type=Path, metavar="PATH",
                   help="write the drift result as JSON (.json) or a standalone page (.html); implies --check-drift")
    p.add_argument("--fail-on", choices=["drift", "warning"], default="drift",
                   help="with --check-drift: exit 1 on drift only (default), or on warnings too")
    p.set_defaults(func=run)


def _report_format(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("json", "html", "htm"):
        raise InputError(f"Cannot tell the drift report's format from {str(path)!r}.",
                         hint="End the file name with .json or .html.")
    return "html" if fmt.startswith("htm") else "json"


def _load_bundle(path: Path):
    from core.bundle import ModelBundle

    if not path.is_file():
        raise InputError(f"There is no model bundle at {str(path)!r}.",
                         hint="Give the path of a model zip (Train page download or `assay train --out`).")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read the model bundle {str(path)!r}: {exc.strerror}.") from None
    return ModelBundle.from_bytes(data)


def run(args: argparse.Namespace) -> int:
    from core import drift_report, export, ingest, scoring

    export.format_of(args.out)  # a bad --out fails before any work
    report_fmt = _report_format(args.drift_report) if args.drift_report is not None else None
    check_drift = args.check_drift or report_fmt is not None
    bundle = _load_bundle(args.bundle)
    loaded = ingest.load(args.file)
    frame = loaded.frame
    for warning in loaded.report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    result = scoring.score(bundle, frame, explain=args.explain, effects=True)
    for notice in result.check.notices():
        print(f"notice: {notice}", file=sys.stderr)
    for warning in result.check.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    drift = scoring.drift_against_training(bundle, frame, args.file.name) if check_drift else None
    export.write_table(result.table(frame, keep_input=not args.only_predictions), args.out)
    summary = {"rows": int(len(result.predictions)), "out": str(args.out), "task": bundle.task,
               "columns": list(result.predictions.columns)
               + (list(result.reasons.columns) if result.reasons is not None else [])}
    code = EXIT_OK
    if drift is not None:
        for line in drift_lines(drift):
            print(line, file=sys.stderr)
        if report_fmt == "html":
            _write(args.drift_report, drift_report.to_html(drift))
        elif report_fmt == "json":
            _write(args.drift_report, drift_report.to_json(drift))
        failing = {"drift"} if args.fail_on == "drift" else {"drift", "warning"}
        code = EXIT_DRIFT if drift.status in failing else EXIT_OK
        summary["drift"] = {"status": drift.status, "drift_share": round(drift.drift_share, 4),
                            "domain_auc": drift.domain.auc, "drifted": [c.name for c in drift.drifted]}
    print(json.dumps(summary, ensure_ascii=False))
    return code


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write {str(path)!r}: {exc.strerror}.", hint="Check the folder and its permissions.") \
            from None


def drift_lines(result) -> list[str]:
    """A short text summary: the verdict, the share of drifted columns, the domain classifier, the top columns."""
    from core.charts.drift import columns_by_severity, model_lines, score

    tested = len(result.tested)
    lines = [f"Drift against the model's training rows: {result.headline}",
             f"  drifted columns   {len(result.drifted)} of {tested} ({result.drift_share:.0%})"]
    if result.domain.auc is not None:
        lines.append(f"  domain classifier ROC-AUC {result.domain.auc:.3f} ({result.domain.status}; "
                     f"0.5 = the new rows look like the training rows)")
    lines += [f"  model             {line}" for line in model_lines(result)]
    moved = [c for c in columns_by_severity(result) if c.status in ("drift", "warning")][:TOP_DRIFTED]
    if moved:
        width = max(len(c.name) for c in moved)
        lines.append(f"  {'column':<{width}}  {'status':<8} {'score':>6}  why")
        for c in moved:
            value = score(c, result.config)
            shown = f"{value:6.2f}" if value is not None else f"{'-':>6}"
            lines.append(f"  {c.name:<{width}}  {c.status:<8} {shown}  {'; '.join(c.reasons)}")
    lines += [f"  schema            {line}" for line in result.schema.lines()[:5]]
    return lines
