"""The project store: SQLAlchemy 2 models and the repository functions over them.

Everything persistent goes through here. SQLite (WAL, busy timeout, foreign keys)
by default; any SQLAlchemy URL through ``ASSAY_DATABASE_URL``. The schema is
created and upgraded by the Alembic migrations in ``core/migrations``, applied at
start-up by :func:`init_store`.

Repository functions take a session and never commit: the caller's
``with write_session(engine) as s:`` block is the transaction, so a failure leaves
the previous state. Names shown to users are data: they are bound parameters,
never SQL and never file paths.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    defer,
    Mapped,
    Session,
    mapped_column,
    relationship,
)
from sqlalchemy.orm.exc import StaleDataError

from core import jsonutil
from core.config import settings
from core.errors import ConflictError, NotFoundError, StoreError, ValidationError

__all__ = [
    "Base", "Blob", "Project", "ProjectMember", "Dataset", "Recipe", "Job", "Run", "Model", "Report",
    "get_engine", "init_store", "read_session", "write_session",
    "create_project", "list_projects", "get_project", "rename_project", "delete_project",
    "touch_project", "put_blob", "get_blob", "frame_to_parquet", "parquet_to_frame",
    "save_dataset", "list_datasets", "get_dataset", "read_dataset_frame", "set_roles",
    "rename_dataset", "delete_dataset", "gc_blobs", "validate_name",
    "save_report", "find_report", "list_reports", "get_report", "delete_report",
]

ROLES = ("target", "time", "id", "group")
NAME_MAX = 100


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Timestamps stored as naive UTC everywhere, returned timezone-aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware values")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


class Blob(Base):
    """Immutable bytes, content-addressed by sha256 (Parquet tables, model bundles, HTML)."""

    __tablename__ = "blob"
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Blob({self.sha256[:12]}, {self.size} bytes)"


class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    # casefolded, NFC-normalised name: "Sales" and "sales" are the same project
    name_key: Mapped[str] = mapped_column(sa.String(NAME_MAX), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    # team mode: who owns the project (None: made without authentication)
    owner: Mapped[str | None] = mapped_column(sa.String(200), default=None, index=True)

    members: Mapped[list[ProjectMember]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ProjectMember.user", lazy="selectin",
    )
    datasets: Mapped[list[Dataset]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Dataset.id",
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"Project(id={self.id}, name={self.name!r})"


class ProjectMember(Base):
    """A user other than the owner who may open the project (team mode)."""

    __tablename__ = "project_member"
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(sa.String(200), primary_key=True, index=True)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"ProjectMember({self.project_id}, {self.user!r})"


class Dataset(Base):
    """A raw upload: immutable Parquet blob plus what was learned when loading it."""

    __tablename__ = "dataset"
    __table_args__ = (sa.UniqueConstraint("project_id", "name_key", name="uq_dataset_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    file_name: Mapped[str] = mapped_column(sa.String(500), default="")
    source_sha: Mapped[str] = mapped_column(sa.String(64), default="")
    blob_sha: Mapped[str] = mapped_column(sa.ForeignKey("blob.sha256"), index=True)
    format: Mapped[str] = mapped_column(sa.String(20))
    n_rows: Mapped[int] = mapped_column(sa.BigInteger)
    n_cols: Mapped[int] = mapped_column()
    load_report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    schema: Mapped[dict[str, Any]] = mapped_column(default=dict)
    roles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # head of the recipe history (undo/redo move it); None means "no steps yet"
    recipe_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("recipe.id", ondelete="SET NULL", use_alter=True, name="fk_dataset_recipe"),
        default=None,
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    project: Mapped[Project] = relationship(back_populates="datasets")
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"Dataset(id={self.id}, name={self.name!r}, rows={self.n_rows})"


class Recipe(Base):
    """One version of a dataset's recipe: ``{"clean": [...], "features": [...]}``."""

    __tablename__ = "recipe"
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("recipe.id", ondelete="SET NULL"), default=None
    )
    steps: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sha: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Recipe(id={self.id}, dataset_id={self.dataset_id}, sha={self.sha[:8]})"


class Job(Base):
    """Long work run by a worker process; the page only polls this row."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("dataset.id", ondelete="CASCADE"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default="queued", index=True)
    progress: Mapped[float] = mapped_column(sa.Float, default=0.0)
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    log: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pid: Mapped[int | None] = mapped_column(default=None)
    host: Mapped[str] = mapped_column(sa.String(200), default="")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"Job(id={self.id}, kind={self.kind!r}, status={self.status!r})"


class Run(Base):
    """A training run: config, split, seed, leaderboard and metrics."""

    __tablename__ = "run"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int] = mapped_column(sa.ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("job.id", ondelete="SET NULL"), default=None)
    recipe: Mapped[dict[str, Any]] = mapped_column(default=dict)
    target: Mapped[str] = mapped_column(sa.String(500))
    task: Mapped[str] = mapped_column(sa.String(20))
    metric: Mapped[str] = mapped_column(sa.String(40))
    seed: Mapped[int] = mapped_column(default=0)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default="running")
    leaderboard: Mapped[list[Any]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    split: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"Run(id={self.id}, target={self.target!r}, task={self.task!r})"


class Model(Base):
    """A trained model; its bundle (zip of cbm/skops files + recipe JSON) is a blob."""

    __tablename__ = "model"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("run.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    blob_sha: Mapped[str] = mapped_column(sa.ForeignKey("blob.sha256"), index=True)
    features: Mapped[list[Any]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    chosen: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Model(id={self.id}, kind={self.kind!r}, run_id={self.run_id})"


class Report(Base):
    """A stored result: profile overview, ydata HTML, drift result, SHAP values, model card.

    ``key`` identifies the inputs (e.g. ``blob sha + recipe sha``) so a result is
    reused instead of recomputed. Small results live in ``data``; large ones in a blob.
    """

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("project.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("dataset.id", ondelete="CASCADE"), default=None, index=True
    )
    model_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("model.id", ondelete="CASCADE"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    title: Mapped[str] = mapped_column(sa.String(500), default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=None)
    blob_sha: Mapped[str | None] = mapped_column(sa.ForeignKey("blob.sha256"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Report(id={self.id}, kind={self.kind!r}, key={self.key!r})"


# --------------------------------------------------------------------------- engine

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_migrated: set[str] = set()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" hook emit BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA foreign_keys = ON")
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except Exception:  # a read-only file cannot switch mode; reads still work
        pass
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # Writers take the lock up front (BEGIN IMMEDIATE) so that two writers wait on
    # the busy timeout instead of failing with "database is locked" on lock upgrade.
    if conn.get_execution_options().get("assay_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process (engines are thread-safe connection pools)."""
    url = url or settings().database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        kwargs: dict[str, Any] = {
            "json_serializer": jsonutil.dumps,
            "pool_pre_ping": True,
        }
        if url.startswith("sqlite"):
            path = sa.engine.make_url(url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = sa.create_engine(url, **kwargs)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a worker process forks)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()


def forget_engine(url: str) -> None:
    """Close and drop the cached engine for ``url`` (a file about to be moved or deleted)."""
    with _engines_lock:
        engine = _engines.pop(url, None)
        if engine is not None:
            _migrated.discard(str(engine.url))
            engine.dispose()


def init_store(url: str | None = None) -> Engine:
    """Return the engine for ``url`` after applying any pending migration (once per process)."""
    engine = get_engine(url)
    key = str(engine.url)
    if key in _migrated:
        return engine
    from core.migrations import upgrade

    with _engines_lock:
        if key not in _migrated:
            try:
                upgrade(engine)
            except DBAPIError as exc:
                raise _store_error(exc) from None
            _migrated.add(key)
    return engine


def _store_error(exc: DBAPIError) -> StoreError:
    text = str(getattr(exc, "orig", exc)).lower()
    if "readonly" in text or "read-only" in text or "read only" in text:
        return StoreError(
            "The project store is read-only, so nothing was saved.",
            hint="Check the permissions of the database file (ASSAY_DATABASE_URL) and try again.",
        )
    if "disk is full" in text or "no space" in text or "disk full" in text:
        return StoreError(
            "The disk holding the project store is full, so nothing was saved.",
            hint="Free some space and try again; your earlier work is unchanged.",
        )
    if "locked" in text or "could not serialize" in text or "deadlock" in text:
        return StoreError(
            "The project store is busy with another writer.",
            hint="Wait a moment and try again; nothing was changed.",
        )
    if "unable to open" in text or "could not connect" in text or "connection refused" in text:
        return StoreError(
            f"The project store cannot be opened ({type(exc.orig).__name__}).",
            hint="Check ASSAY_DATABASE_URL and that the database server is running.",
        )
    return StoreError(
        f"The project store refused the change ({type(exc.orig).__name__}).",
        hint="Nothing was saved; try again, and report it if it keeps happening.",
    )


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading; objects stay usable after the block."""
    engine = engine or init_store()
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except DBAPIError as exc:
            raise _store_error(exc) from None


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed at the end of the block, rolled back on any error."""
    engine = engine or init_store()
    bind = engine.execution_options(assay_write=True)
    with Session(bind, expire_on_commit=False) as session:
        try:
            with session.begin():
                yield session
        except StaleDataError:
            raise ConflictError(
                "Someone else changed this project while you were editing it; your change was not saved.",
                hint="Reload the page to see their change, then try again.",
            ) from None
        except IntegrityError as exc:
            raise ConflictError(
                "The change conflicts with something already saved, so nothing was changed.",
                hint=f"Reload and try again ({type(exc.orig).__name__}).",
            ) from None
        except DBAPIError as exc:
            raise _store_error(exc) from None


# --------------------------------------------------------------------------- names

_NAME_OK = re.compile(r"^[\w][\w \-.,()&'+#]*$", re.UNICODE)


def name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def validate_name(name: object, what: str = "Project") -> str:
    """Return the cleaned name or raise a :class:`ValidationError` that says why.

    Names are data (never paths or SQL), but a name that looks like a path or hides
    control characters is almost always a mistake, so it is refused with a reason.
    """
    if not isinstance(name, str):
        raise ValidationError(f"{what} names must be text. Got {type(name).__name__} instead.")
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise ValidationError(f"{what} name is empty.", hint="Type a name, for example 'Churn 2024'.")
    if len(cleaned) > NAME_MAX:
        raise ValidationError(
            f"{what} name is {len(cleaned)} characters long; the limit is {NAME_MAX}.",
            hint="Choose a shorter name.",
        )
    bad = sorted({ch for ch in cleaned if not (_NAME_OK.match(ch) or ch in " -.,()&'+#")})
    if bad or not _NAME_OK.match(cleaned) or ".." in cleaned:
        shown = ", ".join(repr(ch) for ch in bad) if bad else "'..'"
        if not bad and not cleaned[0].isalnum() and cleaned[0] != "_":
            shown = repr(cleaned[0]) + " at the start"
        raise ValidationError(
            f"{what} name {cleaned!r} contains {shown}.",
            hint="Use letters, digits, spaces and - _ . , ( ) & ' + # only.",
        )
    return cleaned


# --------------------------------------------------------------------------- projects


def create_project(
    session: Session, name: str, *, settings: dict | None = None, owner: str | None = None
) -> Project:
    """Create a project; in team mode ``owner`` is the signed-in user."""
    cleaned = validate_name(name, "Project")
    key = name_key(cleaned)
    if session.scalar(sa.select(Project.id).where(Project.name_key == key)) is not None:
        raise ConflictError(
            f"A project named {cleaned!r} already exists.",
            hint="Open it from the project list, or choose another name.",
        )
    project = Project(name=cleaned, name_key=key, settings=settings or {}, opened_at=utcnow(), owner=owner)
    session.add(project)
    session.flush()
    return project


ANYONE = None  # the user when authentication is off: every project is visible


def _visible(user: str | None):
    """SQL condition: projects ``user`` may see (all when authentication is off)."""
    if user is ANYONE:
        return sa.true()
    member = sa.select(ProjectMember.project_id).where(ProjectMember.user == user)
    return sa.or_(Project.owner == user, Project.id.in_(member))


def list_projects(session: Session, user: str | None = ANYONE) -> list[Project]:
    """Projects ``user`` may open (owner or member); all of them without authentication."""
    return list(session.scalars(sa.select(Project).where(_visible(user)).order_by(Project.name_key)))


def get_project(session: Session, project_id: int, user: str | None = ANYONE) -> Project:
    """The project, if ``user`` may open it; otherwise it does not exist for them."""
    project = session.get(Project, project_id)
    if project is not None and user is not ANYONE and not session.scalar(
        sa.select(Project.id).where(Project.id == project_id, _visible(user))
    ):
        project = None
    if project is None:
        raise NotFoundError(
            f"Project {project_id} does not exist (it may have been deleted).",
            hint="Pick another project in the sidebar.",
        )
    return project


def _owner_only(project: Project, by: str | None, what: str) -> None:
    if by is not ANYONE and project.owner != by:
        raise ConflictError(f"Only the project's owner can {what} it.", hint=f"Ask {project.owner!r}.")


def rename_project(session: Session, project_id: int, new_name: str, *, by: str | None = ANYONE) -> Project:
    project = get_project(session, project_id, by)
    _owner_only(project, by, "rename")
    cleaned = validate_name(new_name, "Project")
    key = name_key(cleaned)
    clash = session.scalar(sa.select(Project.id).where(Project.name_key == key, Project.id != project_id))
    if clash is not None:
        raise ConflictError(
            f"A project named {cleaned!r} already exists.", hint="Choose another name."
        )
    project.name, project.name_key = cleaned, key
    session.flush()
    return project


def delete_project(session: Session, project_id: int, *, by: str | None = ANYONE) -> None:
    project = get_project(session, project_id, by)
    _owner_only(project, by, "delete")
    # Clear the dataset -> recipe pointers first: deleting recipes would otherwise
    # rewrite rows that are about to go.
    session.execute(
        sa.update(Dataset).where(Dataset.project_id == project_id).values(recipe_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(project)
    session.flush()
    gc_blobs(session)


def touch_project(session: Session, project_id: int) -> None:
    """Remember when a project was last opened (the default after a reload)."""
    session.execute(
        sa.update(Project.__table__).where(Project.__table__.c.id == project_id).values(opened_at=utcnow())
    )


def last_opened_project(session: Session, user: str | None = ANYONE) -> Project | None:
    return session.scalar(
        sa.select(Project).where(_visible(user))
        .order_by(Project.opened_at.desc().nulls_last(), Project.id.desc()).limit(1)
    )


def add_member(session: Session, project_id: int, user: str, *, by: str | None = ANYONE) -> None:
    """Let ``user`` open the project. Only its owner (or anyone, without authentication) may."""
    project = get_project(session, project_id, by)
    _owner_only(project, by, "add members to")
    user = (user or "").strip()
    if not user or len(user) > 200:
        raise ValidationError("A member is a user name or e-mail of 1 to 200 characters.")
    if user != project.owner and session.get(ProjectMember, (project_id, user)) is None:
        session.add(ProjectMember(project_id=project_id, user=user))
        session.flush()


def remove_member(session: Session, project_id: int, user: str, *, by: str | None = ANYONE) -> None:
    project = get_project(session, project_id, by)
    _owner_only(project, by, "remove members from")
    member = session.get(ProjectMember, (project_id, user))
    if member is not None:
        session.delete(member)
        session.flush()


# --------------------------------------------------------------------------- blobs


def put_blob(session: Session, data: bytes) -> str:
    """Store ``data`` once; return its sha256."""
    sha = hashlib.sha256(data).hexdigest()
    if session.scalar(sa.select(Blob.sha256).where(Blob.sha256 == sha)) is None:
        session.add(Blob(sha256=sha, size=len(data), data=data))
        session.flush()
    return sha


def get_blob(session: Session, sha: str) -> bytes:
    data = session.scalar(sa.select(Blob.data).where(Blob.sha256 == sha))
    if data is None:
        raise NotFoundError(f"Stored data {sha[:12]} is missing.", hint="Upload the data again.")
    return bytes(data)


def gc_blobs(session: Session) -> int:
    """Delete blobs no dataset, model or report refers to. Returns how many went."""
    used = sa.union(
        sa.select(Dataset.blob_sha),
        sa.select(Model.blob_sha),
        sa.select(Report.blob_sha).where(Report.blob_sha.is_not(None)),
    ).subquery()
    result = session.execute(
        sa.delete(Blob).where(Blob.sha256.not_in(sa.select(used.c[0]))).execution_options(
            synchronize_session=False
        )
    )
    return result.rowcount or 0


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """Deterministic Parquet bytes for a frame (same frame, same bytes, same sha)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def parquet_to_frame(data: bytes) -> pd.DataFrame:
    return pq.read_table(pa.BufferReader(data)).to_pandas()


# --------------------------------------------------------------------------- datasets


def save_dataset(
    session: Session,
    project_id: int,
    name: str,
    frame: pd.DataFrame,
    *,
    file_name: str = "",
    format: str = "csv",
    source_sha: str = "",
    load_report: dict | None = None,
    schema: dict | None = None,
    roles: dict | None = None,
) -> Dataset:
    """Store ``frame`` as an immutable Parquet blob and record it as a dataset."""
    get_project(session, project_id)
    cleaned = validate_name(name, "Dataset")
    key = name_key(cleaned)
    clash = session.scalar(
        sa.select(Dataset.id).where(Dataset.project_id == project_id, Dataset.name_key == key)
    )
    if clash is not None:
        raise ConflictError(
            f"This project already has a dataset named {cleaned!r}.",
            hint="Choose another name, or delete the old dataset first.",
        )
    roles = _check_roles(roles or {}, list(map(str, frame.columns)))
    sha = put_blob(session, frame_to_parquet(frame))
    dataset = Dataset(
        project_id=project_id, name=cleaned, name_key=key, file_name=file_name[:500],
        source_sha=source_sha, blob_sha=sha, format=format, n_rows=len(frame),
        n_cols=frame.shape[1], load_report=load_report or {}, schema=schema or {}, roles=roles,
    )
    session.add(dataset)
    session.flush()
    return dataset


def _check_roles(roles: dict, columns: list[str]) -> dict:
    clean: dict[str, str] = {}
    for role, column in roles.items():
        if role not in ROLES:
            raise ValidationError(
                f"The role {role!r} is unknown. Roles must be one of {list(ROLES)}."
            )
        if column in (None, ""):
            continue
        if column not in columns:
            raise ValidationError(
                f"The {role} column {column!r} is not in the data.",
                hint="Pick one of the dataset's columns.",
            )
        clean[role] = column
    used = [c for c in clean.values()]
    if len(used) != len(set(used)):
        raise ValidationError("One column cannot have two roles.", hint="Give each role its own column.")
    return clean


def list_datasets(session: Session, project_id: int) -> list[Dataset]:
    return list(
        session.scalars(sa.select(Dataset).where(Dataset.project_id == project_id).order_by(Dataset.id))
    )


def get_dataset(session: Session, dataset_id: int, project_id: int | None = None) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or (project_id is not None and dataset.project_id != project_id):
        raise NotFoundError(
            f"Dataset {dataset_id} does not exist in this project.",
            hint="Pick a dataset on the Data page.",
        )
    return dataset


def find_dataset(session: Session, project_id: int, name: str) -> Dataset:
    dataset = session.scalar(
        sa.select(Dataset).where(Dataset.project_id == project_id, Dataset.name_key == name_key(name))
    )
    if dataset is None:
        raise NotFoundError(f"The project has no dataset named {name!r}.")
    return dataset


def read_dataset_frame(session: Session, dataset: Dataset) -> pd.DataFrame:
    """The raw table of a dataset, as it was saved."""
    return parquet_to_frame(get_blob(session, dataset.blob_sha))


def set_roles(session: Session, dataset_id: int, roles: dict) -> Dataset:
    dataset = get_dataset(session, dataset_id)
    columns = list((dataset.schema or {}).get("columns", {}).keys()) or _columns_of(session, dataset)
    dataset.roles = _check_roles(roles, columns)
    session.flush()
    return dataset


def _columns_of(session: Session, dataset: Dataset) -> list[str]:
    data = get_blob(session, dataset.blob_sha)
    return list(pq.read_schema(pa.BufferReader(data)).names)


def rename_dataset(session: Session, dataset_id: int, new_name: str) -> Dataset:
    dataset = get_dataset(session, dataset_id)
    cleaned = validate_name(new_name, "Dataset")
    key = name_key(cleaned)
    clash = session.scalar(
        sa.select(Dataset.id).where(
            Dataset.project_id == dataset.project_id, Dataset.name_key == key, Dataset.id != dataset_id
        )
    )
    if clash is not None:
        raise ConflictError(f"This project already has a dataset named {cleaned!r}.", hint="Choose another name.")
    dataset.name, dataset.name_key = cleaned, key
    session.flush()
    return dataset


def delete_dataset(session: Session, dataset_id: int) -> None:
    dataset = get_dataset(session, dataset_id)
    dataset.recipe_id = None
    session.flush()
    session.delete(dataset)
    session.flush()
    gc_blobs(session)


# --------------------------------------------------------------------------- recipes


def head_recipe(session: Session, dataset_id: int) -> Recipe | None:
    """The dataset's current recipe version (None: no steps yet)."""
    dataset = get_dataset(session, dataset_id)
    return session.get(Recipe, dataset.recipe_id) if dataset.recipe_id else None


def save_recipe(
    session: Session, dataset_id: int, steps: dict, *, note: str = "", expected_head: int | None | bool = False
) -> Recipe:
    """Record a new recipe version as the dataset's head; return it.

    ``steps`` is the recipe's JSON form (``Recipe.to_dict()``); the caller validates it.
    ``expected_head`` (the head the editor started from; ``False`` to skip the check)
    turns a concurrent edit by someone else into a :class:`ConflictError` instead of a
    silently lost write. Redo history past the old head is dropped, as in any editor.
    """
    dataset = get_dataset(session, dataset_id)
    _check_head(dataset, expected_head)
    recipe = Recipe(
        dataset_id=dataset_id, parent_id=dataset.recipe_id, steps=steps,
        sha=jsonutil.canonical_sha(steps), note=note[:500],
    )
    session.add(recipe)
    session.flush()
    dataset.recipe_id = recipe.id  # bumps the dataset's version: concurrent writers conflict
    session.flush()
    return recipe


def _check_head(dataset: Dataset, expected_head: int | None | bool) -> None:
    if expected_head is not False and dataset.recipe_id != expected_head:
        raise ConflictError(
            "The recipe was changed by someone else while you were editing it; your change was not saved.",
            hint="The page now shows their version: check it, then make your change again.",
        )


def undo_recipe(session: Session, dataset_id: int, *, expected_head: int | None | bool = False) -> Recipe | None:
    """Move the head back one version; returns the new head (None = no steps).

    ``expected_head`` works as in :func:`save_recipe`: undoing someone else's fresh
    change by accident becomes a :class:`ConflictError`.
    """
    dataset = get_dataset(session, dataset_id)
    _check_head(dataset, expected_head)
    if dataset.recipe_id is None:
        raise ValidationError("There is nothing to undo.")
    current = session.get(Recipe, dataset.recipe_id)
    dataset.recipe_id = current.parent_id
    session.flush()
    return session.get(Recipe, current.parent_id) if current.parent_id else None


def redo_recipe(session: Session, dataset_id: int, *, expected_head: int | None | bool = False) -> Recipe:
    """Move the head forward to the newest version made from it (``expected_head`` as above)."""
    dataset = get_dataset(session, dataset_id)
    _check_head(dataset, expected_head)
    child = redo_target(session, dataset_id)
    if child is None:
        raise ValidationError("There is nothing to redo.")
    dataset.recipe_id = child.id
    session.flush()
    return child


def redo_target(session: Session, dataset_id: int) -> Recipe | None:
    """The version redo would move to (the newest made from the head), or None."""
    dataset = get_dataset(session, dataset_id)
    return session.scalar(
        sa.select(Recipe)
        .where(Recipe.dataset_id == dataset_id,
               Recipe.parent_id.is_(None) if dataset.recipe_id is None else Recipe.parent_id == dataset.recipe_id)
        .order_by(Recipe.id.desc()).limit(1)
    )


def can_redo(session: Session, dataset_id: int) -> bool:
    dataset = get_dataset(session, dataset_id)
    parent = Recipe.parent_id.is_(None) if dataset.recipe_id is None else Recipe.parent_id == dataset.recipe_id
    return session.scalar(sa.select(Recipe.id).where(Recipe.dataset_id == dataset_id, parent).limit(1)) is not None


# --------------------------------------------------------------------------- reports


def save_report(
    session: Session,
    project_id: int,
    *,
    kind: str,
    key: str = "",
    title: str = "",
    data: dict | None = None,
    blob: bytes | None = None,
    dataset_id: int | None = None,
    model_id: int | None = None,
) -> Report:
    """Store a computed result: small JSON in ``data``, large bytes (HTML) as a blob."""
    get_project(session, project_id)
    if dataset_id is not None:
        get_dataset(session, dataset_id, project_id)
    report = Report(
        project_id=project_id, dataset_id=dataset_id, model_id=model_id, kind=kind[:40], key=key[:200],
        title=title[:500], data=jsonutil.to_jsonable(data) if data is not None else None,
        blob_sha=put_blob(session, blob) if blob is not None else None,
    )
    session.add(report)
    session.flush()
    return report


def find_report(session: Session, project_id: int, kind: str, key: str) -> Report | None:
    """The newest report of ``kind`` computed from ``key`` (None: compute it)."""
    return session.scalar(
        sa.select(Report).where(Report.project_id == project_id, Report.kind == kind, Report.key == key)
        .order_by(Report.id.desc()).limit(1)
    )


def list_reports(session: Session, project_id: int, kind: str | None = None) -> list[Report]:
    """The project's reports, newest first, without their ``data`` (read one with :func:`get_report`)."""
    query = sa.select(Report).options(defer(Report.data)).where(Report.project_id == project_id)
    if kind is not None:
        query = query.where(Report.kind == kind)
    return list(session.scalars(query.order_by(Report.id.desc())))


def get_report(session: Session, report_id: int, project_id: int | None = None) -> Report:
    report = session.get(Report, report_id)
    if report is None or (project_id is not None and report.project_id != project_id):
        raise NotFoundError(f"Report {report_id} does not exist in this project.",
                            hint="It may have been deleted; pick another report or compute it again.")
    report.data  # noqa: B018 - load it now (list_reports defers it), so it is there after the session
    return report


def delete_report(session: Session, report_id: int, project_id: int | None = None) -> None:
    session.delete(get_report(session, report_id, project_id))
    session.flush()
    gc_blobs(session)
