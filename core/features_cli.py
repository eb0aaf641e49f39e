"""``assay features``: clean a table, fit its feature steps, write the model's input.

The same functions as the Features page: ``Recipe.fit`` with the dataset's roles and
column kinds (or those given as flags for a file), fitted on every row, as a final
model is. Writes the resulting table, and optionally the fitted recipe (JSON, what a
model bundle keeps) and a runnable script (cleaning + the ``AssayFeatures`` transformer).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core import jsonutil, store
from core.errors import AssayError

__all__ = ["add_parser"]


def add_parser(sub) -> None:
    p = sub.add_parser("features", help="clean a table, fit its feature steps and write the model's input",
                       description="Replay the cleaning steps, fit the feature steps on every row and write the "
                                   "result. Roles and column kinds come from the dataset; for a file give them "
                                   "as flags (--target, --time, --group).")
    p.add_argument("dataset", metavar="DATASET_OR_FILE", help="PROJECT/DATASET, a dataset with --project, or a file")
    p.add_argument("--project", help="the project of DATASET")
    p.add_argument("--recipe", type=Path, help="recipe JSON (default: the dataset's stored recipe)")
    p.add_argument("--target", help="the target column (default: the dataset's)")
    p.add_argument("--time", help="the time column, for lags and rolling windows (default: the dataset's)")
    p.add_argument("--group", help="the group column (default: the dataset's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the out-of-fold and random choices (default 0)")
    p.add_argument("--out", type=Path, required=True, help="the model's input table: .parquet, .csv or .xlsx")
    p.add_argument("--fitted", type=Path, help="also write the fitted recipe (steps + learned state) as JSON")
    p.add_argument("--script", type=Path, help="also write a Python script: cleaning + AssayFeatures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core import export, ingest
    from core.cli import _engine, recipe_for, resolve_dataset
    from core.recipe import Recipe
    from core.schema import infer_schema, schema_to_dict
    from core.steps import FitContext

    stored, roles, schema = None, {}, None
    if Path(args.dataset).is_file():  # read it as the app would store it (Parquet round trip)
        raw = store.parquet_to_frame(store.frame_to_parquet(ingest.load(args.dataset).frame))
        schema = schema_to_dict(infer_schema(raw))
    else:
        with store.read_session(_engine()) as s:
            dataset = resolve_dataset(s, args.dataset, args.project)
            raw = store.read_dataset_frame(s, dataset)
            roles, schema = dict(dataset.roles or {}), dataset.schema
            head = store.head_recipe(s, dataset.id)
            stored = Recipe.from_dict(head.steps) if head is not None else Recipe()
    recipe = recipe_for(args.recipe, stored)
    roles.update({k: v for k, v in (("target", args.target), ("time", args.time), ("group", args.group)) if v})
    for role, column in roles.items():
        if column not in raw.columns:
            raise AssayError(f"The {role} column {column!r} is not in the table.", hint="Check the column name.")
    fitted, table = recipe.fit(raw, FitContext.of_dataset(roles, schema, seed=args.seed))
    export.write_table(table, args.out)
    if args.fitted is not None:
        args.fitted.write_text(jsonutil.dumps(fitted.to_dict(), indent=2), encoding="utf-8")
    if args.script is not None:
        args.script.write_text(recipe.to_code(fitted.clean_states, feature_states=fitted.feature_states,
                                              title=f"Recipe for {args.dataset}"), encoding="utf-8")
    print(json.dumps({"rows_in": len(raw), "rows_out": len(table), "columns": table.shape[1],
                      "clean_steps": len(recipe.clean), "feature_steps": len(recipe.features), "out": str(args.out)},
                     ensure_ascii=False))
    return 0
