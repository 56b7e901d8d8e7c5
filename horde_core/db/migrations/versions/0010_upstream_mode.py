"""upstream mode: jobs remember their upstream request; spend per community and day; pauses

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 02:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_days",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("community", sa.String(length=200), nullable=False),
        sa.Column("kudos", sa.Float(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "community", name=op.f("pk_upstream_days")),
    )
    op.create_table(
        "upstream_pauses",
        sa.Column("community", sa.String(length=200), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("community", name=op.f("pk_upstream_pauses")),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("upstream_id", sa.String(length=64), server_default="", nullable=False))
        batch.add_column(sa.Column("upstream_tries", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("upstream_after", sa.Float(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("upstream_after")
        batch.drop_column("upstream_tries")
        batch.drop_column("upstream_id")
    op.drop_table("upstream_pauses")
    op.drop_table("upstream_days")
