"""Rate buckets shared by every node (PostgreSQL). One node alone keeps its buckets in memory instead."""

from sqlalchemy import Boolean, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class RateBucket(Base):
    """A token bucket (`tokens` left at `at`), or for at-most-once-per-interval limits the last pass (`at`);
    `ok` is whether the latest take passed. Unlogged on PostgreSQL: losing buckets in a crash costs nothing."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    at: Mapped[float] = mapped_column(Float)
    ok: Mapped[bool] = mapped_column(Boolean)
