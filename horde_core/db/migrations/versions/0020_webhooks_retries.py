"""webhooks and request options: a request's webhook URL and disable_batching, and the deliveries owed

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 06:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("webhook", sa.String(1024), nullable=False, server_default=""))
        batch.add_column(sa.Column("disable_batching", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("url", sa.String(1024), nullable=False),
        sa.Column("kudos", sa.BigInteger(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("lease_until", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index("ix_webhooks_due", "webhooks", ["next_at"])


def downgrade() -> None:
    op.drop_index("ix_webhooks_due", table_name="webhooks")
    op.drop_table("webhooks")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("disable_batching")
        batch.drop_column("webhook")
