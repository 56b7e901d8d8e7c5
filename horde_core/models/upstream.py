"""Upstream mode's books: what each community spent at the upstream horde per day, and which
communities may not use the upstream for a while after it refused their requests."""

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class UpstreamDay(Base):
    """One community's upstream use on one UTC day ("" is API users without a community)."""

    __tablename__ = "upstream_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD (UTC)
    community: Mapped[str] = mapped_column(String(200), primary_key=True)
    kudos: Mapped[float] = mapped_column(Float, default=0.0)  # upstream kudos spent
    sent: Mapped[int] = mapped_column(Integer, default=0)  # jobs sent upstream
    done: Mapped[int] = mapped_column(Integer, default=0)  # jobs finished from upstream
    failed: Mapped[int] = mapped_column(Integer, default=0)  # timeouts, faults, errors: fell back locally
    refused: Mapped[int] = mapped_column(Integer, default=0)  # refusals and censored results (strikes)


class UpstreamPause(Base):
    """A community kept off the upstream until `until` (after repeated refusals), or "*" for everyone
    (the upstream timed out the operator's key or address)."""

    __tablename__ = "upstream_pauses"

    community: Mapped[str] = mapped_column(String(200), primary_key=True)
    until: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[float] = mapped_column(Float)
