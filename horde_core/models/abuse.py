"""Abuse tracking: strikes against members, keys, IPs and communities; their current penalties;
and the audit log of what the safety layer blocked."""

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Strike(Base):
    __tablename__ = "strikes"
    __table_args__ = (Index("ix_strikes_community_at", "community", "at"),
                      Index("ix_strikes_subject_at", "subject", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    # Who is held responsible: the proxied member ("discord:<guild>:<user>") or the key ("user:<id>").
    subject: Mapped[str] = mapped_column(String(200))
    community: Mapped[str] = mapped_column(String(200), default="")  # "discord:<guild>" or ""
    ipaddr: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(32))  # blocked_prompt | csam | upstream_refusal
    detail: Mapped[str] = mapped_column(Text, default="")
    cleared: Mapped[bool] = mapped_column(default=False)


class Penalty(Base):
    """The current sanction on one key: a member, a user key, an IP, or a community."""

    __tablename__ = "penalties"

    key: Mapped[str] = mapped_column(String(220), primary_key=True)  # member:…, user:…, ip:…, community:…
    state: Mapped[str] = mapped_column(String(16))  # timeout | throttled | suspended
    until: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    manual: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[float] = mapped_column(Float)


class ModerationEntry(Base):
    """Audit log of blocks: the prompt, who, where and why (kept for a configurable retention)."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200))
    community: Mapped[str] = mapped_column(String(200), default="", index=True)
    ipaddr: Mapped[str] = mapped_column(String(64), default="")
    client_agent: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(16))  # blocked | rewritten | csam
    prompt: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(Text, default="{}")
