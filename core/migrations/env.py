from alembic import context

from core.store import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the alembic CLI path, for writing migrations
    import sqlalchemy as sa

    from core.config import settings

    connection = sa.create_engine(settings().database_url).connect()

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
