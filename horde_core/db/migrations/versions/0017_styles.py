"""styles, their models, tags and examples; style collections

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _owned(table: str, *columns: sa.Column) -> None:
    """A style or a collection: the columns both have around their own."""
    op.create_table(
        table,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("info", sa.String(length=1000), nullable=False),
        *columns,
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("user_id", "name", name=op.f(f"uq_{table}_user_id_name")),
    )
    for column in ("kind", "name", "use_count", "user_id"):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    _owned("styles",
           sa.Column("prompt", sa.Text(), nullable=False),
           sa.Column("params", sa.Text(), nullable=False),
           sa.Column("nsfw", sa.Boolean(), nullable=False))
    for table, column, length in (("style_models", "model", 255), ("style_tags", "tag", 100)):
        op.create_table(
            table,
            sa.Column("style_id", sa.String(length=36), nullable=False),
            sa.Column(column, sa.String(length=length), nullable=False),
            sa.ForeignKeyConstraint(["style_id"], ["styles.id"], name=op.f(f"fk_{table}_style_id_styles")),
            sa.PrimaryKeyConstraint("style_id", column, name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
    op.create_table(
        "style_examples",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("style_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("primary", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["style_id"], ["styles.id"], name=op.f("fk_style_examples_style_id_styles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_style_examples")),
    )
    op.create_index(op.f("ix_style_examples_style_id"), "style_examples", ["style_id"], unique=False)
    _owned("style_collections")
    op.create_table(
        "style_collection_members",
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("style_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["style_collections.id"],
                                name=op.f("fk_style_collection_members_collection_id_style_collections")),
        sa.ForeignKeyConstraint(["style_id"], ["styles.id"],
                                name=op.f("fk_style_collection_members_style_id_styles")),
        sa.PrimaryKeyConstraint("collection_id", "style_id", name=op.f("pk_style_collection_members")),
    )
    op.create_index(op.f("ix_style_collection_members_style_id"), "style_collection_members", ["style_id"],
                    unique=False)


def downgrade() -> None:
    for table in ("style_collection_members", "style_collections", "style_examples", "style_tags",
                  "style_models", "styles"):
        op.drop_table(table)
