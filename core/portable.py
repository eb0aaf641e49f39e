"""Projects as files, and backups.

- :func:`export_project` writes one project (datasets, recipes, runs, models,
  reports and the blobs they use) to a single SQLite file with Assay's schema.
- :func:`import_project` reads such a file on another installation. The file is
  validated, never trusted: it is opened read-only, must pass SQLite's integrity
  check, hold only Assay's tables, exactly one project, rows that all belong to that
  project, blobs whose sha256 matches their content, and recipes that validate. Rows
  get new ids, so nothing in the file can point into another project. Nothing in it
  is executed: recipes are JSON, models stay bytes until a bundle loader that never
  unpickles reads them.
- :func:`backup_store` copies the whole SQLite store with SQLite's online backup API
  (a consistent snapshot, never a copy of a live file).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import datasets as _datasets
from core import migrations, store
from core.config import settings
from core.errors import AssayError, InputError, StoreError

__all__ = ["export_project", "import_project", "backup_store", "PROJECT_FILE_SUFFIX"]

PROJECT_FILE_SUFFIX = ".assay"
_SQLITE_MAGIC = b"SQLite format 3\x00"
# What a project file may hold, in an order that satisfies foreign keys.
_TABLES = ("blob", "project", "dataset", "recipe", "run", "model", "report")


def _t(name: str) -> sa.Table:
    return store.Base.metadata.tables[name]


# --------------------------------------------------------------------------- export


def export_project(engine: Engine, project_id: int, out_path: str | Path, *, user: str | None = None) -> Path:
    """Write project ``project_id`` to ``out_path`` (a new SQLite file); return the path.

    ``user`` (team mode) must be allowed to open the project."""
    out_path = Path(out_path)
    with store.read_session(engine) as s:
        store.get_project(s, project_id, user)
    tmp_dir = Path(tempfile.mkdtemp(prefix="assay-export-"))
    tmp = tmp_dir / "project.assay"
    try:
        target = store.init_store(f"sqlite:///{tmp}")
        with engine.connect() as src, target.begin() as dst:
            rows = _project_rows(src, project_id)
            for name in _TABLES:
                for chunk in _chunks(rows[name], 200):
                    dst.execute(_t(name).insert(), chunk)
            # the dataset -> recipe pointers go in once the recipes exist
            for d in rows["dataset_heads"]:
                dst.execute(_t("dataset").update().where(_t("dataset").c.id == d["id"]).values(recipe_id=d["recipe_id"]))
        target.dispose()
        store.forget_engine(f"sqlite:///{tmp}")
        with sqlite3.connect(tmp) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            conn.execute("VACUUM")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp), out_path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out_path


def _project_rows(conn: sa.Connection, project_id: int) -> dict[str, list[dict]]:
    def rows(query) -> list[dict]:
        return [dict(r._mapping) for r in conn.execute(query)]

    ds, rc, rn, md, rp = (_t(n) for n in ("dataset", "recipe", "run", "model", "report"))
    out: dict[str, list[dict]] = {"project": rows(sa.select(_t("project")).where(_t("project").c.id == project_id))}
    out["dataset"] = rows(sa.select(ds).where(ds.c.project_id == project_id).order_by(ds.c.id))
    out["dataset_heads"] = [{"id": d["id"], "recipe_id": d["recipe_id"]} for d in out["dataset"] if d["recipe_id"]]
    for d in out["dataset"]:
        d["recipe_id"] = None
    ids = [d["id"] for d in out["dataset"]]
    out["recipe"] = rows(sa.select(rc).where(rc.c.dataset_id.in_(ids)).order_by(rc.c.id)) if ids else []
    out["run"] = rows(sa.select(rn).where(rn.c.project_id == project_id).order_by(rn.c.id))
    for r in out["run"]:
        r["job_id"] = None  # jobs are transient; they stay behind
    out["model"] = rows(sa.select(md).where(md.c.project_id == project_id).order_by(md.c.id))
    out["report"] = rows(sa.select(rp).where(rp.c.project_id == project_id).order_by(rp.c.id))
    shas = {d["blob_sha"] for d in out["dataset"]} | {m["blob_sha"] for m in out["model"]}
    shas |= {r["blob_sha"] for r in out["report"] if r["blob_sha"]}
    out["blob"] = []
    for sha in sorted(shas):
        out["blob"] += rows(sa.select(_t("blob")).where(_t("blob").c.sha256 == sha))
    return out


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --------------------------------------------------------------------------- import


def import_project(engine: Engine, path: str | Path, *, name: str | None = None, owner: str | None = None) -> int:
    """Validate the project file at ``path`` and add its project to the store.

    Returns the new project's id. The project keeps its name unless that is taken
    (then `` (2)``, `` (3)``... is added) or ``name`` is given.
    """
    path = Path(path)
    _check_file(path)
    work_dir = Path(tempfile.mkdtemp(prefix="assay-import-"))
    try:
        copy = work_dir / "incoming.assay"
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)  # a private copy: the user's file is never written
        _check_structure(copy)
        url = f"sqlite:///{copy}"
        incoming = store.get_engine(url)
        revision = migrations.current_revision(incoming)
        if revision not in migrations.known_revisions():
            raise InputError("The project file was made by a newer version of Assay.",
                             hint="Upgrade Assay on this machine, then import it again.")
        migrations.upgrade(incoming)  # an older file is brought up to this schema (on the copy)
        with incoming.connect() as conn:
            rows = _validated_rows(conn)
        store.forget_engine(url)
        return _insert(engine, rows, name, owner)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"The project file is damaged ({exc}).",
                         hint="Export the project again and copy the whole file.") from None
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"There is no file at {str(path)!r}.", hint="Check the path.")
    size = path.stat().st_size
    if size > settings().max_upload_bytes:
        raise InputError(f"The project file is {size / 2**20:,.0f} MB, above the upload limit.",
                         hint="Raise ASSAY_MAX_UPLOAD_MB to import it.")
    with open(path, "rb") as f:
        if f.read(16) != _SQLITE_MAGIC:
            raise InputError("This is not an Assay project file (it is not an SQLite database).",
                             hint=f"Choose a {PROJECT_FILE_SUFFIX} file made by 'Export project'.")


def _check_structure(copy: Path) -> None:
    with sqlite3.connect(copy) as conn:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise InputError("The project file fails SQLite's integrity check.",
                             hint="Export the project again; the file was damaged on the way.")
        objects = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    allowed_tables = set(_TABLES) | {"alembic_version", "job", "project_member"}
    unexpected = [f"{kind} {name!r}" for kind, name in objects
                  if (kind == "table" and name not in allowed_tables) or kind in ("trigger", "view")]
    if unexpected:
        raise InputError(f"The project file holds things Assay never writes: {', '.join(unexpected[:5])}.",
                         hint="Only import files made by Assay's 'Export project'.")
    missing = [t for t in ("project", "dataset", "blob", "alembic_version") if t not in {n for _, n in objects}]
    if missing:
        raise InputError(f"The project file lacks the table(s) {missing}.",
                         hint="Only import files made by Assay's 'Export project'.")


def _validated_rows(conn: sa.Connection) -> dict[str, list[dict]]:
    from core.recipe import Recipe

    rows = {name: [dict(r._mapping) for r in conn.execute(sa.select(_t(name)))] for name in _TABLES}
    if len(rows["project"]) != 1:
        raise InputError(f"A project file holds exactly one project; this one holds {len(rows['project'])}.")
    project_id = rows["project"][0]["id"]
    dataset_ids = {d["id"] for d in rows["dataset"]}
    recipe_ids = {r["id"] for r in rows["recipe"]}
    run_ids = {r["id"] for r in rows["run"]}
    model_ids = {m["id"] for m in rows["model"]}
    blobs = {b["sha256"]: b for b in rows["blob"]}

    def refuse(what: str) -> InputError:
        return InputError(f"The project file is inconsistent: {what}.",
                          hint="Only import files made by Assay's 'Export project'.")

    for table in ("dataset", "run", "model", "report"):
        if any(r["project_id"] != project_id for r in rows[table]):
            raise refuse(f"a {table} belongs to another project")
    for d in rows["dataset"]:
        if d["recipe_id"] is not None and d["recipe_id"] not in recipe_ids:
            raise refuse(f"dataset {d['id']} points at a missing recipe")
    for r in rows["recipe"]:
        if r["dataset_id"] not in dataset_ids or (r["parent_id"] is not None and r["parent_id"] not in recipe_ids):
            raise refuse(f"recipe {r['id']} points outside the project")
        try:
            Recipe.from_dict(r["steps"])
        except AssayError as exc:
            raise refuse(f"recipe {r['id']} is invalid ({exc})") from None
    for r in rows["run"]:
        if r["dataset_id"] not in dataset_ids:
            raise refuse(f"run {r['id']} points outside the project")
    for m in rows["model"]:
        if m["run_id"] not in run_ids:
            raise refuse(f"model {m['id']} points outside the project")
    for r in rows["report"]:
        if (r["dataset_id"] is not None and r["dataset_id"] not in dataset_ids) or (
                r["model_id"] is not None and r["model_id"] not in model_ids):
            raise refuse(f"report {r['id']} points outside the project")
    used = {d["blob_sha"] for d in rows["dataset"]} | {m["blob_sha"] for m in rows["model"]}
    used |= {r["blob_sha"] for r in rows["report"] if r["blob_sha"]}
    for sha in used:
        blob = blobs.get(sha)
        if blob is None:
            raise refuse(f"stored data {sha[:12]} is missing")
        data = bytes(blob["data"])
        if hashlib.sha256(data).hexdigest() != sha or len(data) != blob["size"]:
            raise refuse(f"stored data {sha[:12]} does not match its checksum")
    rows["blob"] = [blobs[sha] for sha in sorted(used)]
    return rows


def _insert(engine: Engine, rows: dict[str, list[dict]], name: str | None, owner: str | None) -> int:
    project = rows["project"][0]
    with store.write_session(engine) as s:
        wanted = store.validate_name(name or project["name"], "Project")
        taken = {p.name_key for p in store.list_projects(s)}  # names are unique store-wide
        final, k = wanted, 2
        while store.name_key(final) in taken:
            if name:
                raise store.ConflictError(f"A project named {name!r} already exists.", hint="Choose another name.")
            final = f"{wanted[: store.NAME_MAX - 6]} ({k})"
            k += 1
        new = store.create_project(s, final, settings=project["settings"] or {}, owner=owner)
        for blob in rows["blob"]:
            store.put_blob(s, bytes(blob["data"]))
        conn = s.connection()
        ids: dict[str, dict[int, int]] = {t: {} for t in ("dataset", "recipe", "run", "model")}

        def add(table: str, row: dict, **changes) -> int:
            values = {k: v for k, v in row.items() if k != "id"} | changes
            return conn.execute(_t(table).insert().values(**values)).inserted_primary_key[0]

        for d in rows["dataset"]:
            ids["dataset"][d["id"]] = add("dataset", d, project_id=new.id, recipe_id=None)
        for r in sorted(rows["recipe"], key=lambda r: r["id"]):  # parents before children
            parent = ids["recipe"].get(r["parent_id"]) if r["parent_id"] is not None else None
            ids["recipe"][r["id"]] = add("recipe", r, dataset_id=ids["dataset"][r["dataset_id"]], parent_id=parent)
        for d in rows["dataset"]:
            if d["recipe_id"] is not None:
                conn.execute(_t("dataset").update().where(_t("dataset").c.id == ids["dataset"][d["id"]])
                             .values(recipe_id=ids["recipe"][d["recipe_id"]]))
        for r in rows["run"]:
            ids["run"][r["id"]] = add("run", r, project_id=new.id, dataset_id=ids["dataset"][r["dataset_id"]],
                                      job_id=None)
        for m in rows["model"]:
            ids["model"][m["id"]] = add("model", m, project_id=new.id, run_id=ids["run"][m["run_id"]])
        for r in rows["report"]:
            add("report", r, project_id=new.id,
                dataset_id=ids["dataset"].get(r["dataset_id"]) if r["dataset_id"] is not None else None,
                model_id=ids["model"].get(r["model_id"]) if r["model_id"] is not None else None)
        return new.id


# --------------------------------------------------------------------------- backup


def backup_store(engine: Engine, out_path: str | Path) -> Path:
    """A consistent copy of the whole SQLite store, taken with SQLite's online backup API."""
    if engine.dialect.name != "sqlite":
        raise StoreError("Backups from Assay cover the embedded SQLite store only.",
                         hint="Back up PostgreSQL with pg_dump.")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(out_path.name + ".partial")
    partial.unlink(missing_ok=True)
    source_path = engine.url.database
    with sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30) as src, \
            sqlite3.connect(partial) as dst:
        src.backup(dst, pages=1024)
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise StoreError("The backup copy failed its integrity check; nothing was written.")
    os.replace(partial, out_path)  # the backup appears whole or not at all
    return out_path


def export_file_name(project_name: str) -> str:
    """A safe file name for a project's export (the name is data, never a path)."""
    return _datasets.default_name(project_name).replace(" ", "_") + PROJECT_FILE_SUFFIX
