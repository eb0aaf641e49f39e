"""``assay``: headless commands over the same core functions the pages call.

A user mistake prints one line (``error: ...``) and exits with status 2; no
traceback. Each command is a ``_cmd_*`` function registered in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from core import store
from core.config import settings
from core.errors import AssayError

__all__ = ["main", "build_parser"]

EXIT_USER_ERROR = 2


def _engine():
    return store.init_store()


def cli_user() -> str | None:
    """Who runs the command: in team mode (ASSAY_AUTH set) ASSAY_USER must say."""
    config = settings()
    if config.auth == "none":
        return store.ANYONE
    if not config.cli_user:
        raise AssayError("Team mode is on (ASSAY_AUTH), so the command needs to know who you are.",
                         hint="Set ASSAY_USER to your user name or e-mail.")
    return config.cli_user


def _project_by_name(session, name: str, *, create: bool = False) -> store.Project:
    key = store.name_key(name.strip())
    for project in store.list_projects(session, cli_user()):
        if project.name_key == key:
            return project
    if create:
        project = store.create_project(session, name, owner=cli_user())
        print(f"Created project {project.name!r}.", file=sys.stderr)
        return project
    raise AssayError(f"There is no project named {name!r}.", hint="See `assay projects` for the list.")


def recipe_for(path: Path | None, stored: Recipe | None) -> Recipe:
    """The recipe a command runs: the JSON file given with --recipe, else the dataset's stored one."""
    from core.recipe import Recipe

    if path is not None:
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise AssayError(f"Cannot read the recipe {str(path)!r}: {exc.strerror}.", hint="Check the path.") from None
        return Recipe.from_json(text)
    if stored is None:
        raise AssayError("A file has no stored recipe.", hint="Give one with --recipe recipe.json.")
    return stored


def resolve_dataset(session, spec: str, project: str | None) -> store.Dataset | None:
    """A ``DATASET`` argument: ``project/dataset``, or a dataset name with ``--project``.

    Returns None when ``spec`` is an existing file path (the caller loads the file).
    """
    if Path(spec).is_file():
        return None
    if project is None and "/" in spec:
        project, spec = spec.split("/", 1)
    if project is None:
        raise AssayError(f"{spec!r} is neither a file nor a dataset.",
                         hint="Give a file path, or PROJECT/DATASET, or a dataset name with --project.")
    found = _project_by_name(session, project)
    return store.find_dataset(session, found.id, spec)


# --------------------------------------------------------------------------- commands


def _cmd_projects(args: argparse.Namespace) -> int:
    with store.read_session(_engine()) as s:
        projects = store.list_projects(s, cli_user())
        rows = [
            {"id": p.id, "name": p.name, "datasets": len(p.datasets),
             "created": p.created_at.isoformat(timespec="seconds")}
            for p in projects
        ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        print("No projects yet. Create one with `assay import FILE --project NAME`.")
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['id']:>4}  {r['name']:<{width}}  {r['datasets']:>3} dataset(s)  created {r['created']}")
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    with store.read_session(_engine()) as s:
        project = _project_by_name(s, args.project)
        for d in store.list_datasets(s, project.id):
            roles = ", ".join(f"{k}={v}" for k, v in d.roles.items()) or "no roles"
            print(f"{d.id:>4}  {d.name}  {d.n_rows:,} rows x {d.n_cols} cols  ({roles})")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from core import datasets, ingest

    kinds = dict(item.split("=", 1) for item in args.kind or [])
    options = ingest.LoadOptions(
        sheet=args.sheet, delimiter=args.delimiter, encoding=args.encoding,
        skip_bad_lines=args.skip_bad_lines, kinds=kinds,
    )
    loaded = ingest.load(args.file, options=options)
    roles = {k: v for k, v in {"target": args.target, "time": args.time, "id": args.id,
                                "group": args.group}.items() if v}
    with store.write_session(_engine()) as s:
        project = _project_by_name(s, args.project, create=True)
        name = args.name or datasets.unique_name(s, project.id, datasets.default_name(loaded.report.file_name))
        dataset = datasets.save_loaded(s, project.id, name, loaded, roles)
        summary = {"project": project.name, "dataset": dataset.name, "id": dataset.id,
                   "rows": dataset.n_rows, "columns": dataset.n_cols}
    for warning in loaded.report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_seed_demo(args: argparse.Namespace) -> int:
    """Give a fresh store a Demo project with sample data (does nothing otherwise)."""
    from core import datasets, ingest, samples

    engine = _engine()
    with store.read_session(engine) as s:
        if store.list_projects(s):  # any project at all, whoever owns it
            return 0
    with store.write_session(engine) as s:
        project = store.create_project(s, "Demo", owner=cli_user())
        for key in ("penguins", "credit_scoring"):
            sample = samples.get_sample(key)
            loaded = ingest.load(samples.sample_path(key))
            datasets.save_loaded(s, project.id, sample.title, loaded, {"target": sample.target})
    print("Created the Demo project with sample data.", file=sys.stderr)
    return 0


def _cmd_export_project(args: argparse.Namespace) -> int:
    from core import portable

    engine = _engine()
    with store.read_session(engine) as s:
        project = _project_by_name(s, args.project)
    out = args.out or Path(portable.export_file_name(project.name))
    portable.export_project(engine, project.id, out, user=cli_user())
    print(json.dumps({"project": project.name, "file": str(out), "bytes": out.stat().st_size}, ensure_ascii=False))
    return 0


def _cmd_import_project(args: argparse.Namespace) -> int:
    from core import portable

    engine = _engine()
    project_id = portable.import_project(engine, args.file, name=args.name, owner=cli_user())
    with store.read_session(engine) as s:
        project = store.get_project(s, project_id)
        print(json.dumps({"project": project.name, "id": project.id, "datasets": len(project.datasets)},
                         ensure_ascii=False))
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    from core import portable

    out = portable.backup_store(_engine(), args.out)
    print(json.dumps({"file": str(out), "bytes": out.stat().st_size}))
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    """Replay a cleaning recipe on a dataset (or a file) and write the cleaned table."""
    from core import export, ingest
    from core.recipe import Recipe

    stored = None
    if Path(args.dataset).is_file():  # read it as the app would store it (Parquet round trip)
        raw = store.parquet_to_frame(store.frame_to_parquet(ingest.load(args.dataset).frame))
    else:
        with store.read_session(_engine()) as s:
            dataset = resolve_dataset(s, args.dataset, args.project)
            raw = store.read_dataset_frame(s, dataset)
            head = store.head_recipe(s, dataset.id)
            stored = Recipe.from_dict(head.steps) if head is not None else Recipe()
    recipe = recipe_for(args.recipe, stored)
    cleaned, states = recipe.apply_clean(raw)
    export.write_table(cleaned, args.out)
    if args.script is not None:
        source = args.snapshot.name if args.snapshot is not None else "raw.parquet"
        args.script.write_text(recipe.to_code(states, source=source, title=f"Cleaning recipe for {args.dataset}"),
                               encoding="utf-8")
    if args.snapshot is not None:
        args.snapshot.write_bytes(store.frame_to_parquet(raw))
    print(json.dumps({"rows_in": len(raw), "rows_out": len(cleaned), "columns": cleaned.shape[1],
                      "steps": len(recipe.clean), "out": str(args.out)}, ensure_ascii=False))
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from core import ingest
    from core.bundle import ModelBundle
    from core.explain import explain

    if not args.bundle.is_file():
        raise AssayError(f"There is no model file {str(args.bundle)!r}.",
                         hint="Give the path of a model zip (Train page download or `assay train --out`).")
    bundle = ModelBundle.from_bytes(args.bundle.read_bytes())
    rows = ingest.load(args.file).frame
    result = explain(bundle, rows, max_rows=args.rows, seed=args.seed)
    args.out.write_bytes(result.to_parquet())
    top = result.mean_abs(0).head(5)
    print(json.dumps({"file": str(args.out), "rows": result.n, "of_rows": result.total_rows, "space": result.space,
                      "outputs": result.outputs, "top_features": {k: round(float(v), 6) for k, v in top.items()}},
                     ensure_ascii=False))
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from core import worker

    argv = ["--loop"] + (["--kinds", args.kinds] if args.kinds else [])
    argv += ["--idle-exit", str(args.idle_exit)] if args.idle_exit else []
    return worker.main(argv)


def _stored_model_bytes(spec: str) -> tuple[bytes, str]:
    """A model of the store (``--model ID``), if the user may open its project (team mode)."""
    if not spec.isdigit():
        raise AssayError(f"--model takes a model id (a number); got {spec!r}.", hint="The Predict page shows ids.")
    with store.read_session(_engine()) as s:
        model = s.get(store.Model, int(spec))
        if model is not None:
            try:
                store.get_project(s, model.project_id, cli_user())
            except AssayError:
                model = None
        if model is None:
            raise AssayError(f"There is no model {spec} you may open.", hint="See the project's models on the "
                             "Predict page, or sign in as a member of its project (ASSAY_USER).")
        return store.get_blob(s, model.blob_sha), f"{model.name} (#{model.id})"


def _cmd_serve(args: argparse.Namespace) -> int:
    from core import serve
    from core.bundle import ModelBundle

    if (args.bundle is None) == (args.model is None):
        raise AssayError("Give a model bundle file, or --model ID for a model of the store (not both).")
    if args.bundle is not None:
        try:
            data, name = args.bundle.read_bytes(), args.bundle.name
        except OSError as exc:
            raise AssayError(f"Cannot read the model bundle {str(args.bundle)!r}: {exc.strerror}.") from None
    else:
        data, name = _stored_model_bytes(args.model)
    bundle = ModelBundle.from_bytes(data)
    if not serve.is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach it can use the model "
              "(the service has no sign-in).", file=sys.stderr)
    print(f"Serving {name} ({bundle.task}, target {bundle.target!r}) on http://{args.host}:{args.port} "
          "- POST /predict, GET /schema, GET /health, docs at /docs", file=sys.stderr)
    serve.serve(bundle, host=args.host, port=args.port, name=name,
                log_level="info" if args.verbose else "warning")

def _train_config(args: argparse.Namespace, roles: dict | None = None) -> dict:
    config = {"target": args.target or (roles or {}).get("target"), "time_budget": args.time_budget,
              "seed": args.seed}
    for key in ("task", "metric", "folds", "time", "group", "id", "threads"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if args.class_weights:
        config["class_weights"] = True
    if args.keep_suspected_leaks:
        config["keep_suspected_leaks"] = True
    if config["target"] is None:
        raise AssayError("Say which column to predict with --target COLUMN.")
    return config


def _cmd_train(args: argparse.Namespace) -> int:
    from core import jobs
    from core.recipe import Recipe
    from core.train import board
    from core.train.config import TrainConfig

    recipe = None
    if args.recipe:
        try:
            recipe = Recipe.from_json(Path(args.recipe).read_bytes())
        except OSError as exc:
            raise AssayError(f"Cannot read the recipe file {args.recipe}: {exc.strerror}.") from None
    engine = _engine()
    with store.read_session(engine) as s:
        dataset = resolve_dataset(s, str(args.data), args.project)
        roles = dict(dataset.roles or {}) if dataset is not None else {}
    config = _train_config(args, roles)
    TrainConfig.from_dict(config)
    print(f"Training on {args.data} for up to {args.time_budget:g} s...", file=sys.stderr)
    if dataset is None:
        from core import ingest
        from core.train.run import train

        loaded = ingest.load(args.data)
        kinds = {n: c["kind"] for n, c in loaded.schema().get("columns", {}).items()}

        def progress(_fraction, message, _records):
            if args.verbose or message.startswith("Trial"):
                print(f"  {message}", file=sys.stderr)

        result = train(loaded.frame, TrainConfig.from_dict(config), recipe=recipe, kinds=kinds, progress=progress)
        leaderboard, summary, data, run_id = result.leaderboard, result.summary, result.bundle.to_bytes(), None
    else:
        from core.train.job import chosen_model, run_for_job

        params = {"dataset_id": dataset.id, "config": config}
        if recipe is not None:
            params["recipe"] = recipe.to_dict()
        with store.write_session(engine) as s:
            job_id = jobs.submit(s, project_id=dataset.project_id, kind="train", dataset_id=dataset.id,
                                 params=params).id
        jobs.run_job(job_id, engine)  # here, in this process: the run and the model are kept in the project
        with store.read_session(engine) as s:
            job = jobs.get_job(s, job_id)
            if job.status != "done":
                raise AssayError(job.error or f"The training job ended as {job.status}.")
            run = run_for_job(s, job_id)
            leaderboard, summary, run_id = run.leaderboard, run.metrics["summary"], run.id
            data = store.get_blob(s, chosen_model(s, run.id).blob_sha)
    for warning in summary.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    table = board.leaderboard_table(leaderboard, summary["greater_is_better"])
    print(f"Leaderboard ({summary['metric_label']}, {summary['validation']}; "
          f"{summary['n_trials']} trials):")
    print(board.text_table(table))
    chosen = summary["chosen"]
    print(f"Chosen: {chosen['kind']} (best single: trial {chosen['best_trial'] + 1}, {chosen['best_family']}); "
          f"refitted on {summary['refit']}.")
    if summary.get("threshold") is not None:
        print(f"Decision threshold for {summary['positive_class']!r}: {summary['threshold']:.3f} "
              f"(tuned for {summary['threshold_metric']} on out-of-fold predictions).")
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"Model bundle written to {args.out}.", file=sys.stderr)
    print(json.dumps({"metric": summary["metric"], "holdout": summary["holdout"],
                      "holdout_baseline": summary["holdout_baseline"], "cv_mean": summary["cv"]["mean"],
                      "cv_std": summary["cv"]["std"], "task": summary["task"], "chosen": chosen["kind"],
                      "run_id": run_id}, ensure_ascii=False))
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assay", description="Assay: profile, clean, model, explain and monitor tables."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("projects", help="list projects")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_projects)

    p = sub.add_parser("datasets", help="list a project's datasets")
    p.add_argument("--project", required=True)
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser("import", help="load a file into a project (created if missing)")
    p.add_argument("file", type=Path)
    p.add_argument("--project", required=True)
    p.add_argument("--name", help="dataset name (default: from the file name)")
    p.add_argument("--sheet", help="Excel sheet")
    p.add_argument("--delimiter", help="CSV delimiter (default: detected)")
    p.add_argument("--encoding", help="text encoding (default: detected)")
    p.add_argument("--skip-bad-lines", action="store_true", help="skip malformed CSV lines")
    p.add_argument("--kind", action="append", metavar="COLUMN=KIND", help="override a column's kind")
    for role in ("target", "time", "id", "group"):
        p.add_argument(f"--{role}", metavar="COLUMN", help=f"the {role} column")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("seed-demo", help="create a Demo project with sample data if the store is empty")
    p.set_defaults(func=_cmd_seed_demo)

    p = sub.add_parser("export-project", help="write a project to one SQLite file")
    p.add_argument("project")
    p.add_argument("--out", type=Path, help="file to write (default: NAME.assay)")
    p.set_defaults(func=_cmd_export_project)

    p = sub.add_parser("import-project", help="add a project from a file made by export-project")
    p.add_argument("file", type=Path)
    p.add_argument("--name", help="a new name for it")
    p.set_defaults(func=_cmd_import_project)

    p = sub.add_parser("backup", help="copy the whole SQLite store with SQLite's backup API")
    p.add_argument("out", type=Path)
    p.set_defaults(func=_cmd_backup)

    p = sub.add_parser("clean", help="replay a cleaning recipe and write the cleaned table")
    p.add_argument("dataset", metavar="DATASET_OR_FILE", help="PROJECT/DATASET, a dataset with --project, or a file")
    p.add_argument("--project", help="the project of DATASET")
    p.add_argument("--recipe", type=Path, help="recipe JSON (default: the dataset's stored recipe)")
    p.add_argument("--out", type=Path, required=True, help="cleaned table: .parquet, .csv or .xlsx")
    p.add_argument("--script", type=Path, help="also write the recipe as a Python script")
    p.add_argument("--snapshot", type=Path, help="also write the raw table as Parquet (what the script reads)")
    p.set_defaults(func=_cmd_clean)

    from core import drift_cli

    drift_cli.add_parser(sub)

    p = sub.add_parser("explain", help="SHAP values of a model on a file's rows, written as Parquet")
    p.add_argument("bundle", type=Path, help="a model zip")
    p.add_argument("file", type=Path, help="rows to explain (CSV, Excel, Parquet, JSON)")
    p.add_argument("--rows", type=int, default=5_000, help="explain a random sample of this many rows (default 5000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample")
    p.add_argument("--out", type=Path, required=True, help="Parquet file to write (e.g. shap.parquet)")
    p.set_defaults(func=_cmd_explain)

    from core import features_cli, profile_cli

    features_cli.add_parser(sub)
    profile_cli.add_parser(sub)

    p = sub.add_parser("serve", help="serve a model over HTTP (FastAPI): POST /predict, GET /schema, /health")
    p.add_argument("bundle", type=Path, nargs="?", help="a model bundle (.zip) from the Train page or `assay train`")
    p.add_argument("--model", metavar="ID", help="a model of the store instead of a file (team mode: yours only)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("train", help="train the best model a time budget allows; print the leaderboard")
    p.add_argument("data", metavar="FILE_OR_DATASET", help="a table file, or PROJECT/DATASET in the store")
    p.add_argument("--target", help="the column to predict (default: the dataset's target role)")
    p.add_argument("--project", help="the project of DATASET (or write PROJECT/DATASET)")
    p.add_argument("--recipe", type=Path, help="a recipe JSON file to apply first")
    p.add_argument("--time-budget", type=float, default=60.0, metavar="S", help="seconds, everything included")
    p.add_argument("--metric", help="metric to optimise (default: ROC-AUC, log loss or RMSE by task)")
    p.add_argument("--task", choices=["binary", "multiclass", "regression"], help="override the detected task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds", type=int, help="cross-validation folds (default: by size and budget)")
    for role in ("time", "group", "id"):
        p.add_argument(f"--{role}", metavar="COLUMN", help=f"the {role} column")
    p.add_argument("--threads", type=int, help="threads per model (default: all cores)")
    p.add_argument("--class-weights", action="store_true", help="weight classes by their rarity")
    p.add_argument("--keep-suspected-leaks", action="store_true", help="keep columns flagged as leaks")
    p.add_argument("--out", type=Path, help="write the model bundle (zip) here")
    p.set_defaults(func=_cmd_train)

    from core import predict_cli

    predict_cli.add_parser(sub)

    p = sub.add_parser("worker", help="run queued jobs from the store until stopped")
    p.add_argument("--kinds", default="", help="comma-separated job kinds to take")
    p.add_argument("--idle-exit", type=float, default=0.0, help="stop after this many idle seconds")
    p.set_defaults(func=_cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except AssayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
