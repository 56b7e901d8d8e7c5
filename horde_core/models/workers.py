"""Workers (typed by the kind of work they do) and their per-model statistics."""

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | text | interrogation
    info: Mapped[str] = mapped_column(Text, default="")
    bridge_agent: Mapped[str] = mapped_column(String(200), default="")
    models: Mapped[str] = mapped_column(Text, default="[]")  # JSON list (models or forms)
    softprompts: Mapped[str] = mapped_column(Text, default="[]")  # JSON list (text workers)
    threads: Mapped[int] = mapped_column(Integer, default=1)
    nsfw: Mapped[bool] = mapped_column(Boolean, default=False)
    max_pixels: Mapped[int] = mapped_column(Integer, default=0)
    max_length: Mapped[int] = mapped_column(Integer, default=0)
    max_context_length: Mapped[int] = mapped_column(Integer, default=0)
    img2img: Mapped[bool] = mapped_column(Boolean, default=False)
    painting: Mapped[bool] = mapped_column(Boolean, default=False)
    post_processing: Mapped[bool] = mapped_column(Boolean, default=False)
    lora: Mapped[bool] = mapped_column(Boolean, default=False)
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    # Flagged by a moderator (issue 15): the worker is given no jobs until the flag is lifted.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    last_check_in: Mapped[float] = mapped_column(Float, index=True)
    # Uptime kudos are paid up to this instant; a conditional update makes the sweep idempotent.
    uptime_paid_until: Mapped[float] = mapped_column(Float)
    ipaddr: Mapped[str] = mapped_column(String(64), default="")
    requests_fulfilled: Mapped[int] = mapped_column(BigInteger, default=0)
    kudos_generated: Mapped[int] = mapped_column(BigInteger, default=0)
    kudos_uptime: Mapped[int] = mapped_column(BigInteger, default=0)
    units_generated: Mapped[int] = mapped_column(BigInteger, default=0)  # megapixelsteps or tokens
    uncompleted_jobs: Mapped[int] = mapped_column(Integer, default=0)
    uptime_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    # When the worker last finished a job: uptime kudos go only to workers that serve (see sweeps).
    last_job_at: Mapped[float] = mapped_column(Float, default=0.0)
    # Paused by a moderator (AI Horde's `paused`): the worker pops but is given no jobs. Its team (issue 16).
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    team_id: Mapped[str | None] = mapped_column(String(36), index=True)


class WorkerStat(Base):
    __tablename__ = "worker_stats"

    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    jobs: Mapped[int] = mapped_column(BigInteger, default=0)
    kudos: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
