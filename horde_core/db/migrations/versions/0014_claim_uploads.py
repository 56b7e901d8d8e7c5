"""claim-bound uploads: each claim's own upload key; workers remember their last finished job

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("upload_key", sa.String(length=200), server_default="", nullable=False))
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("last_job_at", sa.Float(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("last_job_at")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("upload_key")
