"""Parties: community events in one channel where a host pays an award for each generation that
follows the theme, out of a budget held in escrow when the party starts."""

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base

_RUNNING = text("state = 'running'")


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (
        # At most one running party per channel.
        Index("ux_parties_running", "community", "channel", unique=True,
              postgresql_where=_RUNNING, sqlite_where=_RUNNING),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    community: Mapped[str] = mapped_column(String(200))  # settings scope, e.g. discord:guild:<id>
    channel: Mapped[str] = mapped_column(String(64))
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    theme: Mapped[str] = mapped_column(Text, default="")  # as the host wrote it
    words: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: every one must be in an entry's prompt
    style: Mapped[str] = mapped_column(String(200), default="")  # a style once styles exist
    award: Mapped[int] = mapped_column(BigInteger)  # kudos per entry
    budget: Mapped[int] = mapped_column(BigInteger)
    escrow: Mapped[int] = mapped_column(BigInteger, default=0)  # held and not yet paid (ledger: party:<id>)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))  # running | ended
    end_reason: Mapped[str] = mapped_column(String(16), default="")  # budget | host
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class PartyEntry(Base):
    """One generation that entered a party; a generation enters (and is paid) at most once."""

    __tablename__ = "party_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.id"), index=True)
    job_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(Integer)
    award: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[float] = mapped_column(Float)
