"""worker messages (AI Horde's /v2/workers/messages)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 06:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("worker_id", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("expiry", sa.Float(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_worker_messages_worker_id_workers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_messages")),
    )
    op.create_index("ix_worker_messages_worker_expiry", "worker_messages", ["worker_id", "expiry"], unique=False)
    op.create_index("ix_worker_messages_user_id", "worker_messages", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_worker_messages_user_id", table_name="worker_messages")
    op.drop_index("ix_worker_messages_worker_expiry", table_name="worker_messages")
    op.drop_table("worker_messages")
