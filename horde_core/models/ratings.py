"""Aesthetic ratings of shared and imported images: who rated what, how, and what they knew at that moment;
the imported images; and how far each rater can be believed."""

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("image_id", "rater_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    image_id: Mapped[str] = mapped_column(String(36), index=True)  # a job's id, or a dataset image's
    rater_id: Mapped[int] = mapped_column(Integer, index=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-10
    artifacts: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-5
    best: Mapped[bool] = mapped_column(Boolean, default=False)  # the best image of its request
    source: Mapped[str] = mapped_column(String(16))  # owner | pool
    client_agent: Mapped[str] = mapped_column(String(200), default="")
    context: Mapped[str] = mapped_column(Text, default="{}")  # the rater's account age, images, kudos, trust
    reward: Mapped[int] = mapped_column(BigInteger, default=0)


class DatasetImage(Base):
    """An image from outside the horde, imported into the rating pool (`main.py dataset import`). Shared
    generated images are not copied here: they form the dataset named after the horde (core.horde_name)."""

    __tablename__ = "dataset_images"
    __table_args__ = (UniqueConstraint("dataset", "content_hash"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the imported file: re-imports are no-ops
    image_key: Mapped[str] = mapped_column(String(200))  # lossless WebP in the image store
    source_name: Mapped[str] = mapped_column(String(255), default="")  # the file it came from
    caption: Mapped[str] = mapped_column(Text, default="")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # A rating known before import (sidecar NAME.json); with `gold` it checks raters and stays out of exports.
    known_rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    known_artifacts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gold: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    nsfw: Mapped[bool] = mapped_column(Boolean, default=False)  # imported with --nsfw: age-restricted places only
    created_at: Mapped[float] = mapped_column(Float)


class RaterTrust(Base):
    """How far a rater can be believed (horde_core/ratings/trust.py), updated with each of their ratings."""

    __tablename__ = "rater_trust"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # unproven | trusted | untrusted
    gold_count: Mapped[int] = mapped_column(Integer, default=0)
    gold_error: Mapped[float] = mapped_column(Float, default=0.0)  # running mean of |rating - gold|
    consensus_count: Mapped[int] = mapped_column(Integer, default=0)
    consensus_error: Mapped[float] = mapped_column(Float, default=0.0)
    gold_in: Mapped[int] = mapped_column(Integer, default=0)  # ordinary pool ratings before the next gold image
    updated_at: Mapped[float] = mapped_column(Float)
