"""Aesthetic ratings of generated images: who rated what, how, and what they knew at that moment."""

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("image_id", "rater_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    image_id: Mapped[str] = mapped_column(String(36), index=True)  # the job whose image was rated
    rater_id: Mapped[int] = mapped_column(Integer, index=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-10
    artifacts: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-5
    best: Mapped[bool] = mapped_column(Boolean, default=False)  # the best image of its request
    source: Mapped[str] = mapped_column(String(16))  # owner | pool
    client_agent: Mapped[str] = mapped_column(String(200), default="")
    context: Mapped[str] = mapped_column(Text, default="{}")  # the rater's account age, images, kudos, trust
    reward: Mapped[int] = mapped_column(BigInteger, default=0)
