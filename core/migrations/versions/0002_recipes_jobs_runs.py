"""Recipes (with a head pointer on dataset), jobs, training runs, models and reports.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from core.store import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _fk(table: str, ondelete: str | None = "CASCADE"):
    return sa.ForeignKey(f"{table}.id", ondelete=ondelete) if ondelete else sa.ForeignKey(f"{table}.id")


def upgrade() -> None:
    op.create_table(
        "recipe",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.Integer, _fk("dataset"), nullable=False, index=True),
        sa.Column("parent_id", sa.Integer, _fk("recipe", "SET NULL"), nullable=True),
        sa.Column("steps", sa.JSON, nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("dataset") as batch:
        batch.add_column(sa.Column("recipe_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_dataset_recipe", "recipe", ["recipe_id"], ["id"], ondelete="SET NULL")

    op.create_table(
        "job",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("project"), nullable=False, index=True),
        sa.Column("dataset_id", sa.Integer, _fk("dataset"), nullable=True, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("log", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("project"), nullable=False, index=True),
        sa.Column("dataset_id", sa.Integer, _fk("dataset"), nullable=False, index=True),
        sa.Column("job_id", sa.Integer, _fk("job", "SET NULL"), nullable=True),
        sa.Column("recipe", sa.JSON, nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("task", sa.String(20), nullable=False),
        sa.Column("metric", sa.String(40), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("leaderboard", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("split", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
    )
    op.create_table(
        "model",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("project"), nullable=False, index=True),
        sa.Column("run_id", sa.Integer, _fk("run"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("blob_sha", sa.String(64), sa.ForeignKey("blob.sha256"), nullable=False, index=True),
        sa.Column("features", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("chosen", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "report",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _fk("project"), nullable=False, index=True),
        sa.Column("dataset_id", sa.Integer, _fk("dataset"), nullable=True, index=True),
        sa.Column("model_id", sa.Integer, _fk("model"), nullable=True, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(200), nullable=False, index=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("data", sa.JSON, nullable=True),
        sa.Column("blob_sha", sa.String(64), sa.ForeignKey("blob.sha256"), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report")
    op.drop_table("model")
    op.drop_table("run")
    op.drop_table("job")
    with op.batch_alter_table("dataset") as batch:
        batch.drop_constraint("fk_dataset_recipe", type_="foreignkey")
        batch.drop_column("recipe_id")
    op.drop_table("recipe")
