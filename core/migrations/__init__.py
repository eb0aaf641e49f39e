"""Alembic migrations for the store, applied at start-up by ``core.store.init_store``.

To add one: ``alembic -c core/migrations/alembic.ini revision -m "what changes"``,
write ``upgrade()`` by hand (batch operations, so SQLite works), and add a fixture
database of the previous schema under ``tests/fixtures/`` for the upgrade test.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

HERE = Path(__file__).resolve().parent
_PG_LOCK_ID = 72_0117_2026  # any constant: serialises migrations across processes


def config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(config()).get_current_head()


def known_revisions() -> set[str | None]:
    """Every revision this version of Assay can upgrade from (None: an empty database)."""
    script = ScriptDirectory.from_config(config())
    return {rev.revision for rev in script.walk_revisions()} | {None}


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` up to ``revision`` in one transaction."""
    with engine.execution_options(assay_write=True).connect() as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
            command.upgrade(config(conn), revision)
