"""Requests (what a client asked for) and jobs (the units a worker pops and submits).

A request of `n` images is `n` jobs. The request carries what workers are matched on, so a
claim reads one request row per job it considers; jobs carry their own state and a copy of
the request's `rank`, so the waiting queue is one partial index walked in priority order.
"""

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base

_WAITING = text("state = 'waiting'")
_ACTIVE = text("state IN ('waiting', 'processing')")


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_state_expires", "state", "expires_at"),
        Index("ix_requests_user_state", "user_id", "state"),
        # Fairness per member of a community: requests in flight, images today.
        Index("ix_requests_proxied_created", "proxied_account", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # image | text | interrogation
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # active | done | faulted | cancelled | expired | pruned
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Lower rank is served first: creation time minus a bounded bonus for the requester's kudos.
    rank: Mapped[float] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    job_cost: Mapped[int] = mapped_column(BigInteger)  # paid to the worker per finished job
    job_tax: Mapped[int] = mapped_column(BigInteger)  # burned per finished job
    escrow: Mapped[int] = mapped_column(BigInteger, default=0)  # held for the jobs not yet settled
    kudos_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    faults: Mapped[int] = mapped_column(Integer, default=0)
    restarted: Mapped[int] = mapped_column(Integer, default=0)
    # Jobs that reached a terminal state and had their escrow share paid out or refunded.
    settled: Mapped[int] = mapped_column(Integer, default=0)
    prompt: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON of the generation parameters
    # Matching attributes ("|a|b|" lists, "" meaning any).
    models: Mapped[str] = mapped_column(Text, default="")
    workers: Mapped[str] = mapped_column(Text, default="")
    worker_blacklist: Mapped[bool] = mapped_column(Boolean, default=False)
    pixels: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    max_length: Mapped[int] = mapped_column(Integer, default=0)
    max_context_length: Mapped[int] = mapped_column(Integer, default=0)
    nsfw: Mapped[bool] = mapped_column(Boolean, default=False)
    censor_nsfw: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted_workers: Mapped[bool] = mapped_column(Boolean, default=False)
    slow_workers: Mapped[bool] = mapped_column(Boolean, default=True)
    img2img: Mapped[bool] = mapped_column(Boolean, default=False)
    painting: Mapped[bool] = mapped_column(Boolean, default=False)
    post_processing: Mapped[bool] = mapped_column(Boolean, default=False)
    lora: Mapped[bool] = mapped_column(Boolean, default=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    r2: Mapped[bool] = mapped_column(Boolean, default=True)
    source_image: Mapped[str] = mapped_column(String(200), default="")  # store key
    source_mask: Mapped[str] = mapped_column(String(200), default="")
    source_processing: Mapped[str] = mapped_column(String(16), default="img2img")
    softprompt: Mapped[str] = mapped_column(String(200), default="")
    client_agent: Mapped[str] = mapped_column(String(200), default="")
    proxied_account: Mapped[str] = mapped_column(String(200), default="")
    ipaddr: Mapped[str] = mapped_column(String(64), default="")
    webhook: Mapped[str] = mapped_column(String(1024), default="")  # POST each finished generation here
    # Pops hand this request's jobs out one at a time (exact seeds; AI Horde lets trusted users ask for it).
    disable_batching: Mapped[bool] = mapped_column(Boolean, default=False)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # The waiting queue: walked in rank order by every pop.
        Index(
            "ix_jobs_waiting",
            "kind",
            "rank",
            postgresql_where=_WAITING,
            sqlite_where=_WAITING,
        ),
        Index("ix_jobs_user_waiting", "user_id", "kind", "rank",
              postgresql_where=_WAITING, sqlite_where=_WAITING),
        Index("ix_jobs_user_active", "user_id", postgresql_where=_ACTIVE, sqlite_where=_ACTIVE),
        Index("ix_jobs_request_state", "request_id", "state"),
        Index("ix_jobs_state_deadline", "state", "deadline"),
        Index("ix_jobs_finished", "finished_at"),
        Index("ix_jobs_user_finished", "user_id", "finished_at"),  # a member's gallery, newest first
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(Integer)
    # waiting | processing | held (done, awaiting its safety scan) | done | faulted | cancelled
    state: Mapped[str] = mapped_column(String(16))
    rank: Mapped[float] = mapped_column(Float)
    worker_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    popped_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    deadline: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    faults: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[str] = mapped_column(String(32), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    form: Mapped[str] = mapped_column(String(64), default="")  # interrogation form name
    reward: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)  # megapixelsteps or tokens
    censored: Mapped[bool] = mapped_column(Boolean, default=False)
    gen_state: Mapped[str] = mapped_column(String(16), default="")  # ok | censored | csam
    gen_metadata: Mapped[str] = mapped_column(Text, default="")  # JSON list
    image_key: Mapped[str] = mapped_column(String(200), default="")
    # Where the worker holding the job may PUT its result: a fresh key per claim, so a stale claim's URL
    # addresses nothing anyone reads. Submit checks what is there and publishes it as `image_key`.
    upload_key: Mapped[str] = mapped_column(String(200), default="")
    uploaded: Mapped[bool] = mapped_column(Boolean, default=False)
    pruned: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[str] = mapped_column(Text, default="")  # text, or JSON for interrogation forms
    # While an image is held for a safety scan ("scan before release"): the scan's interrogation request.
    scan_request: Mapped[str] = mapped_column(String(36), default="")
    # Upstream mode: the upstream horde's request id while the job is there, how often it went upstream
    # without result, and the earliest time it may go again (a failed job falls back to local workers).
    upstream_id: Mapped[str] = mapped_column(String(64), default="")
    upstream_tries: Mapped[int] = mapped_column(Integer, default=0)
    upstream_after: Mapped[float] = mapped_column(Float, default=0.0)
