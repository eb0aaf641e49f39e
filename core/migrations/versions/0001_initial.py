"""Initial schema: projects, datasets and content-addressed blobs.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from core.store import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False, unique=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("source_sha", sa.String(64), nullable=False),
        sa.Column("blob_sha", sa.String(64), sa.ForeignKey("blob.sha256"), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("n_rows", sa.BigInteger, nullable=False),
        sa.Column("n_cols", sa.Integer, nullable=False),
        sa.Column("load_report", sa.JSON, nullable=False),
        sa.Column("schema", sa.JSON, nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("project_id", "name_key", name="uq_dataset_name"),
    )
    op.create_index("ix_dataset_project_id", "dataset", ["project_id"])
    op.create_index("ix_dataset_blob_sha", "dataset", ["blob_sha"])


def downgrade() -> None:
    op.drop_table("dataset")
    op.drop_table("project")
    op.drop_table("blob")
