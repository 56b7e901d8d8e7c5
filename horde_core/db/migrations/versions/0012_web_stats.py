"""web pages and metrics: minute-level counters per kind; moderators can flag a worker

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_minutes",
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.Column("faulted", sa.Integer(), nullable=False),
        sa.Column("aborted", sa.Integer(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("queued_jobs", sa.Integer(), nullable=False),
        sa.Column("queued_units", sa.BigInteger(), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute", "kind", name=op.f("pk_stats_minutes")),
    )
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("flagged")
    op.drop_table("stats_minutes")
