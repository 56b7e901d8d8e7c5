"""Kudos gifts between members of a community (emoji reactions): one per (message, sender, emoji), ever."""

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Gift(Base):
    __tablename__ = "gifts"
    __table_args__ = (
        UniqueConstraint("message_ref", "sender_id", "emoji"),
        Index("ix_gifts_sender", "community", "sender_id", "at"),
        Index("ix_gifts_recipient", "community", "recipient_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    community: Mapped[str] = mapped_column(String(200))
    sender_id: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    message_ref: Mapped[str] = mapped_column(String(300))  # a link to the message the gift was given on
    emoji: Mapped[str] = mapped_column(String(100))
