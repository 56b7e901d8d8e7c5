"""Settings of the communities the core serves (a Discord guild is one), and their change log.

The core stores them as opaque JSON under a scope string (`discord:guild:<id>`); what the keys
mean and their defaults belong to the bot, which validates them before they reach the core.
"""

from sqlalchemy import BigInteger, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class CommunitySettings(Base):
    __tablename__ = "community_settings"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float)


class SettingsChange(Base):
    __tablename__ = "settings_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(100), index=True)
    key: Mapped[str] = mapped_column(String(100))
    old: Mapped[str] = mapped_column(Text)
    new: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[float] = mapped_column(Float)
