"""Shared keys (a user lends part of their kudos to whoever holds the key) and worker teams (issue 16)."""

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class SharedKey(Base):
    """A key that acts as its owner for generation requests only. Like API keys, only a SHA-256 digest of the
    key is stored: the key itself (a UUID, AI Horde's form) is shown once, at creation."""

    __tablename__ = "shared_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    # Kudos this key may still spend (-1: no limit; 0: used up). Changed only by conditional updates.
    kudos: Mapped[int] = mapped_column(BigInteger, default=5000)
    utilized: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[float | None] = mapped_column(Float)
    max_image_pixels: Mapped[int] = mapped_column(Integer, default=-1)
    max_image_steps: Mapped[int] = mapped_column(Integer, default=-1)
    max_text_tokens: Mapped[int] = mapped_column(Integer, default=-1)
    created_at: Mapped[float] = mapped_column(Float)


class SharedKeyCharge(Base):
    """Which shared key paid a request's hold, so refunded jobs give their kudos back to that key."""

    __tablename__ = "shared_key_charges"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_hash: Mapped[str] = mapped_column(ForeignKey("shared_keys.key_hash", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class Team(Base):
    """A named group of workers (AI Horde's teams); its figures are the sums over its current workers."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    info: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
