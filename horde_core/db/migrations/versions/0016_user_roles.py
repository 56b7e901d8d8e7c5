"""roles on users: moderator, customizer, flagged

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ROLES = ("moderator", "customizer", "flagged")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for role in _ROLES:
            batch.add_column(sa.Column(role, sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for role in _ROLES:
            batch.drop_column(role)
