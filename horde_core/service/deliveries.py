"""Deliveries: where a client owes a request's result, kept in the database so a restart loses nothing.

The bot accepts work for a member with `request_images(..., deliver=DeliverySpec(...))` (also text and
interrogation): the request and the note of where its result goes are one transaction. The process that accepted
it holds a lease on the delivery and renews it while it waits; on start, every process claims the open deliveries
whose lease has run out (`claimable_deliveries`, `claim_delivery`) and carries on. `finish_delivery` removes it
once posted; `strand_delivery` keeps one that could not be posted anywhere for its member to fetch later.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from horde_core.deliveries import repo

from .base import ServiceBase


@dataclass(frozen=True, slots=True)
class DeliverySpec:
    """Where a result goes, as the client names things (the core never reads these addresses)."""

    feature: str  # which part of the client renders it
    holder: str  # the client process that follows it from now on
    lease: float  # seconds the holder keeps it without renewing
    community: str = ""
    channel: str = ""
    thread: str = ""
    recipient: str = ""
    application: str = ""
    token: str = ""  # lets the client edit its reply until token_expires; nothing more
    token_expires: float = 0.0
    message: str = ""
    private: bool = False
    context: dict[str, Any] = field(default_factory=dict)

    def row(self, request: dict[str, Any], now: float) -> dict[str, Any]:
        values = asdict(self)
        lease = values.pop("lease")
        values["claimed_by"] = values.pop("holder")
        values["context"] = json.dumps(self.context)
        return {**values, "id": str(uuid.uuid4()), "request_id": request["id"], "kind": request["kind"],
                "user_id": request["user_id"], "created_at": now, "lease_until": now + lease, "state": repo.OPEN}


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    request_id: str
    kind: str
    feature: str
    user_id: int
    community: str
    channel: str
    thread: str
    recipient: str
    application: str
    token: str
    token_expires: float
    message: str
    private: bool
    context: dict[str, Any]
    state: str
    note: str
    created_at: float
    claimed_by: str
    lease_until: float
    failures: int  # leases lost to a crash or given up on an error: a result that keeps failing is stranded

    @classmethod
    def of(cls, row: Any) -> Delivery:
        values = dict(row._mapping)
        values["context"] = json.loads(values["context"] or "{}")
        values["private"] = bool(values["private"])
        return cls(**values)


class DeliveriesMixin(ServiceBase):
    async def claim_delivery(self, delivery_id: str, holder: str, lease: float) -> Delivery | None:
        """The delivery, now followed by `holder`; None when another process holds it or it is gone."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if not await repo.claim(conn, delivery_id, holder, now, lease):
                return None
            return Delivery.of(await repo.get(conn, delivery_id))

    async def claimable_deliveries(self, *, request_id: str | None = None, features: list[str] | None = None,
                                   limit: int = 100) -> list[Delivery]:
        """Open deliveries nobody follows (their process stopped, or died and its lease ran out), oldest first;
        only those of `features` (what the caller can render) when given."""
        async with self.db.read() as conn:
            rows = await repo.claimable(conn, self.clock.now(), limit, request_id, features)
        return [Delivery.of(r) for r in rows]

    async def renew_delivery(self, delivery_id: str, holder: str, lease: float) -> bool:
        """False when another process took it over: the caller must stop, and post nothing."""
        async with self.db.transaction() as conn:
            return await repo.renew(conn, delivery_id, holder, self.clock.now(), lease)

    async def release_delivery(self, delivery_id: str, holder: str, *, failed: bool = False) -> bool:
        """Hand it back (a clean shutdown; or, `failed`, an error another try may not meet)."""
        async with self.db.transaction() as conn:
            return await repo.release(conn, delivery_id, holder, failed=failed)

    async def release_deliveries(self, holder: str) -> int:
        """A clean shutdown: every open delivery `holder` leases goes back at once, followed yet or not."""
        async with self.db.transaction() as conn:
            return await repo.release_all(conn, holder)

    async def finish_delivery(self, delivery_id: str, holder: str) -> bool:
        async with self.db.transaction() as conn:
            return await repo.finish(conn, delivery_id, holder)

    async def strand_delivery(self, delivery_id: str, holder: str, reason: str) -> bool:
        async with self.db.transaction() as conn:
            return await repo.strand(conn, delivery_id, holder, reason)

    async def held_delivery(self, request_id: str, holder: str) -> Delivery | None:
        """The open delivery of a request that `holder` follows (the one it wrote with the request)."""
        async with self.db.read() as conn:
            row = await repo.held(conn, request_id, holder)
        return Delivery.of(row) if row is not None else None

    async def undelivered(self, user_id: int, *, limit: int = 10) -> list[Delivery]:
        """A member's results that could not be posted anywhere, newest first."""
        async with self.db.read() as conn:
            return [Delivery.of(r) for r in await repo.stranded_of(conn, user_id, limit)]

    async def claim_undelivered(self, delivery_id: str, user_id: int, holder: str, lease: float) -> Delivery | None:
        """One of the member's own stranded results, to hand over now (then `finish_delivery`)."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            if not await repo.claim(conn, delivery_id, holder, now, lease, state=repo.STRANDED, user_id=user_id):
                return None
            return Delivery.of(await repo.get(conn, delivery_id))
