"""Team mode: project owners and members.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from core.store import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("owner", sa.String(200), nullable=True))
        batch.create_index("ix_project_owner", ["owner"])
    op.create_table(
        "project_member",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user", sa.String(200), primary_key=True),
        sa.Column("added_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_project_member_user", "project_member", ["user"])


def downgrade() -> None:
    op.drop_table("project_member")
    with op.batch_alter_table("project") as batch:
        batch.drop_index("ix_project_owner")
        batch.drop_column("owner")
