"""favourites, parties and their entries, community catalogue entries; indexes for fairness and galleries

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "favourites",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "job_id", name=op.f("pk_favourites")),
    )
    op.create_index(op.f("ix_favourites_job_id"), "favourites", ["job_id"], unique=False)
    op.create_table(
        "catalogue_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("horde_name", sa.String(length=200), nullable=False),
        sa.Column("triggers", sa.Text(), nullable=False),
        sa.Column("family", sa.String(length=16), nullable=False),
        sa.Column("size_mb", sa.Float(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_entries")),
        sa.UniqueConstraint("community", "kind", "name", name=op.f("uq_catalogue_entries_community_kind_name")),
    )
    op.create_index(op.f("ix_catalogue_entries_community"), "catalogue_entries", ["community"], unique=False)
    op.create_table(
        "parties",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("community", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.Text(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("style", sa.String(length=200), nullable=False),
        sa.Column("award", sa.BigInteger(), nullable=False),
        sa.Column("budget", sa.BigInteger(), nullable=False),
        sa.Column("escrow", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("end_reason", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["host_id"], ["users.id"], name=op.f("fk_parties_host_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    op.create_index("ux_parties_running", "parties", ["community", "channel"], unique=True,
                    postgresql_where=sa.text("state = 'running'"), sqlite_where=sa.text("state = 'running'"))
    op.create_table(
        "party_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("party_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("award", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"], name=op.f("fk_party_entries_party_id_parties")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_entries")),
        sa.UniqueConstraint("job_id", name=op.f("uq_party_entries_job_id")),
    )
    op.create_index(op.f("ix_party_entries_party_id"), "party_entries", ["party_id"], unique=False)
    op.create_index("ix_requests_proxied_created", "requests", ["proxied_account", "created_at"], unique=False)
    op.create_index("ix_jobs_user_finished", "jobs", ["user_id", "finished_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_user_finished", table_name="jobs")
    op.drop_index("ix_requests_proxied_created", table_name="requests")
    op.drop_index(op.f("ix_party_entries_party_id"), table_name="party_entries")
    op.drop_table("party_entries")
    op.drop_index("ux_parties_running", table_name="parties")
    op.drop_table("parties")
    op.drop_index(op.f("ix_catalogue_entries_community"), table_name="catalogue_entries")
    op.drop_table("catalogue_entries")
    op.drop_index(op.f("ix_favourites_job_id"), table_name="favourites")
    op.drop_table("favourites")
