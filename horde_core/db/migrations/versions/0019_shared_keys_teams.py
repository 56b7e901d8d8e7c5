"""shared keys, their charges, teams; workers get paused and team_id

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 06:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("kudos", sa.BigInteger(), nullable=False),
        sa.Column("utilized", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("max_image_pixels", sa.Integer(), nullable=False),
        sa.Column("max_image_steps", sa.Integer(), nullable=False),
        sa.Column("max_text_tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_shared_keys_owner_id", "shared_keys", ["owner_id"])
    op.create_table(
        "shared_key_charges",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("key_hash", sa.String(64), sa.ForeignKey("shared_keys.key_hash", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_shared_key_charges_key_hash", "shared_key_charges", ["key_hash"])
    op.create_table(
        "teams",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_teams_owner_id", "teams", ["owner_id"])
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("team_id", sa.String(36), nullable=True))
        batch.create_index("ix_workers_team_id", ["team_id"])


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_index("ix_workers_team_id")
        batch.drop_column("team_id")
        batch.drop_column("paused")
    op.drop_table("teams")
    op.drop_table("shared_key_charges")
    op.drop_table("shared_keys")
