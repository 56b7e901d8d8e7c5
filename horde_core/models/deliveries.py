"""Deliveries a client (the Discord bot) owes: who gets which request's result, where, and how to reach them.

A row is written in the same transaction that accepts the request, so a paid request is never without the note
of where its result goes. It is deleted once the result was handed over; if it could not be (the place is gone,
the member cannot be reached) it stays "stranded" so the member can still fetch it. The core stores these
addresses as opaque strings; only the client knows they are Discord channels and interaction tokens.
"""

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_request_id", "request_id"),
        Index("ix_deliveries_state_lease", "state", "lease_until"),
        Index("ix_deliveries_user_state", "user_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"))
    kind: Mapped[str] = mapped_column(String(16))  # image | text | interrogation, as the request
    feature: Mapped[str] = mapped_column(String(32))  # which part of the client renders it ("generate", "chat")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # whose result it is (lists stranded ones)
    community: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(32), default="")
    thread: Mapped[str] = mapped_column(String(32), default="")
    recipient: Mapped[str] = mapped_column(String(64), default="")  # the member to mention or message
    application: Mapped[str] = mapped_column(String(32), default="")
    # Lets the client edit its reply until token_expires; wiped once past it (it grants nothing more then).
    token: Mapped[str] = mapped_column(Text, default="")
    token_expires: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(32), default="")  # the reply to edit, or to answer to
    private: Mapped[bool] = mapped_column(Boolean, default=False)  # only the member may see the result
    context: Mapped[str] = mapped_column(Text, default="{}")  # JSON: what the client needs to render it
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | stranded
    note: Mapped[str] = mapped_column(Text, default="")  # why it is stranded
    created_at: Mapped[float] = mapped_column(Float)
    # The client process following it, until lease_until; an expired lease may be taken over (a crash).
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # leases lost to a crash or given up on an error
