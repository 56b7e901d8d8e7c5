"""Messages to workers (AI Horde's WorkerMessage): a moderator's word to one worker or to all of them, or an
owner's note to their own. Workers read the live ones in every pop answer; they expire on their own."""

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class WorkerMessage(Base):
    __tablename__ = "worker_messages"
    __table_args__ = (
        Index("ix_worker_messages_worker_expiry", "worker_id", "expiry"),
        Index("ix_worker_messages_user_id", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # None: a message to every worker (moderators only).
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), nullable=True)
    user_id: Mapped[int] = mapped_column(Integer)  # who wrote it
    message: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(255))
    expiry: Mapped[float] = mapped_column(Float)
    created: Mapped[float] = mapped_column(Float)
