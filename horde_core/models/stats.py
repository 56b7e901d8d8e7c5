"""Minute-level counters of the horde (issue 15): what the status page's charts and usage pages draw.

One row per (minute, kind). Finished and faulted jobs are recomputed from the jobs table by the sweep (absolute
values, so every node writing the same minute writes the same numbers); aborted jobs are added by the sweep that
aborted them (each abort happens on exactly one node); the queue and online workers are samples (the last one of
the minute stays). Kept in the database so charts survive restarts and agree across nodes.
"""

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class StatsMinute(Base):
    __tablename__ = "stats_minutes"

    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # seconds since the epoch // 60
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # image | text | interrogation
    finished: Mapped[int] = mapped_column(Integer, default=0)
    faulted: Mapped[int] = mapped_column(Integer, default=0)
    aborted: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)  # megapixelsteps, tokens or forms finished
    queued_jobs: Mapped[int] = mapped_column(Integer, default=0)
    queued_units: Mapped[int] = mapped_column(BigInteger, default=0)
    workers: Mapped[int] = mapped_column(Integer, default=0)
