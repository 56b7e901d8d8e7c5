"""Webhook deliveries owed: one row per finished generation of a request that gave a `webhook` URL.

Kept in the database so a restart, or another node, finishes what one node started: a sender claims due rows
with a lease (like deliveries), posts them, and deletes them once delivered or given up.
"""

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Webhook(Base):
    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_due", "next_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(36))
    job_id: Mapped[str] = mapped_column(String(36))
    url: Mapped[str] = mapped_column(String(1024))
    kudos: Mapped[int] = mapped_column(BigInteger, default=0)  # what the generation cost (AI Horde sends it)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[float] = mapped_column(Float)  # due from then (a retry waits its backoff)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float)
