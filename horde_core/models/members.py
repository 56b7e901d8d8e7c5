"""What members keep of their own: favourite results (kept past image retention) and the LoRAs and
textual inversions a community added to the shipped catalogue."""

from sqlalchemy import BigInteger, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Favourite(Base):
    """A member starred one of their results; its image is then never pruned."""

    __tablename__ = "favourites"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    at: Mapped[float] = mapped_column(Float)


class CatalogueEntry(Base):
    """A LoRA or textual inversion a community added beside the shipped catalogue."""

    __tablename__ = "catalogue_entries"
    __table_args__ = (UniqueConstraint("community", "kind", "name"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community: Mapped[str] = mapped_column(String(200), index=True)  # settings scope, e.g. discord:guild:<id>
    kind: Mapped[str] = mapped_column(String(8))  # lora | ti
    name: Mapped[str] = mapped_column(String(100))  # shown to members
    horde_name: Mapped[str] = mapped_column(String(200))  # sent to workers (a CivitAI id or exact name)
    triggers: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of trigger words
    family: Mapped[str] = mapped_column(String(16))  # base model family (horde_core.reference.FAMILIES)
    size_mb: Mapped[float] = mapped_column(Float, default=0.0)
    added_by: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[float] = mapped_column(Float)
