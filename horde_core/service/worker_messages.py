"""Messages to workers (AI Horde's /v2/workers/messages, issue 16).

Moderators write to one worker or, without a worker id, to every worker; an owner may write to their own
workers (the origin is then their user id, as on AI Horde). Workers get the live messages meant for them in
every pop answer. Listing: moderators see all; anyone else sees what they wrote, what was written to their
workers, and the messages to everyone. Deleting: the writer or a moderator. Expired messages are kept (listable
with validity=expired) as long as the moderation log keeps entries; writing a message drops older ones.

Pops must stay off the database when there is nothing to say: a hint ("is any message live anywhere?") is
read at most once a second, and set at once on every node when a message is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, or_, select

from horde_core.models import Worker, WorkerMessage
from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo

from .admin_schemas import WorkerMessageSpec
from .errors import BadRequest, Forbidden, NotFound
from .moderation import ModerationMixin

MESSAGES_PER_PAGE = 50
HINT = "worker_messages"
_M, _W = WorkerMessage.__table__.c, Worker.__table__.c


@dataclass(frozen=True, slots=True)
class WorkerMessageInfo:
    id: str
    worker_id: str | None
    user_id: int
    message: str
    origin: str
    expiry: float
    created: float


def _info(row: Any) -> WorkerMessageInfo:
    return WorkerMessageInfo(row.id, row.worker_id, int(row.user_id), row.message, row.origin, float(row.expiry),
                             float(row.created))


class WorkerMessagesMixin(ModerationMixin):
    async def post_worker_message(self, actor: UserRow, spec: WorkerMessageSpec) -> WorkerMessageInfo:
        moderator = self.is_web_admin(actor)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            worker = await workers_repo.by_id(conn, spec.worker_id) if spec.worker_id else None
            if spec.worker_id and worker is None:
                raise NotFound(f"Worker {spec.worker_id} not found.", rc="WorkerNotFound")
            if not moderator and (worker is None or worker.owner_id != actor.id):
                raise Forbidden("You can only send messages to your own workers.", rc="MessagesOnlyOwnWorkers")
            origin = (spec.origin or f"{self.config.core.horde_name} moderators") if moderator else str(actor.id)
            found = WorkerMessageInfo(str(uuid.uuid4()), spec.worker_id, actor.id, spec.message, origin,
                                      now + spec.expiry * 3600, now)
            # Expired messages stay listable (validity=expired) as long as the moderation log keeps its entries.
            kept = now - self.config.safety.audit_retention_days * 86400
            await conn.execute(delete(WorkerMessage.__table__).where(_M.expiry < kept))
            await conn.execute(insert(WorkerMessage.__table__).values(
                id=found.id, worker_id=found.worker_id, user_id=found.user_id, message=found.message,
                origin=found.origin, expiry=found.expiry, created=found.created))
            if moderator:
                target = f"worker:{spec.worker_id}" if spec.worker_id else "workers"
                await self._moderation_entry(conn, actor, "message", target, spec.message[:500],
                                             message_id=found.id, hours=spec.expiry)
        self.hints.note(HINT)
        return found

    async def worker_messages(self, viewer: UserRow, *, user_id: int | None = None, worker_id: str | None = None,
                              validity: str = "active", page: int = 1) -> list[WorkerMessageInfo]:
        if validity not in ("active", "expired", "all"):
            raise BadRequest("validity can only be one of 'active', 'expired' or 'all'.", rc="InvalidQuery")
        moderator = self.is_web_admin(viewer)
        if not moderator and user_id is not None and user_id != viewer.id:
            raise Forbidden("You can only view your own messages.", rc="Forbidden")
        now = self.clock.now()
        q = select(WorkerMessage.__table__)
        if not moderator:
            mine = select(_W.id).where(_W.owner_id == viewer.id)
            q = q.where(or_(_M.user_id == viewer.id, _M.worker_id.in_(mine), _M.worker_id.is_(None)))
        elif user_id is not None:
            theirs = select(_W.id).where(_W.owner_id == user_id)
            q = q.where(or_(_M.user_id == user_id, _M.worker_id.in_(theirs)))
        if worker_id is not None:
            q = q.where(_M.worker_id == worker_id)
        if validity == "active":
            q = q.where(_M.expiry > now)
        elif validity == "expired":
            q = q.where(_M.expiry <= now)
        q = q.order_by(_M.created.desc(), _M.id).offset((max(page, 1) - 1) * MESSAGES_PER_PAGE)
        async with self.db.read() as conn:
            return [_info(r) for r in await conn.execute(q.limit(MESSAGES_PER_PAGE))]

    async def worker_message(self, message_id: str) -> WorkerMessageInfo:
        """One message by its id (unguessable; AI Horde shows it to anyone who has it)."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(WorkerMessage.__table__).where(_M.id == message_id[:36]))).first()
        if row is None:
            raise NotFound(f"WorkerMessage with ID '{message_id[:36]}' not found.", rc="WorkermessageNotFound")
        return _info(row)

    async def delete_worker_message(self, actor: UserRow, message_id: str) -> None:
        found = await self.worker_message(message_id)
        moderator = self.is_web_admin(actor)
        if found.user_id != actor.id and not moderator:
            raise Forbidden("You can only delete your own messages.", rc="Forbidden")
        async with self.db.transaction() as conn:
            await conn.execute(delete(WorkerMessage.__table__).where(_M.id == found.id))
            if moderator:
                await self._moderation_entry(conn, actor, "unmessage", f"worker:{found.worker_id or '*'}",
                                             f"deleted message {found.id}", message_id=found.id)
        self.hints.forget(HINT)

    async def messages_for_worker(self, owner: UserRow, worker_name: str) -> list[WorkerMessageInfo]:
        """The live messages a worker reads in its pop answer: those to it and those to every worker. No read
        at all while no message is live anywhere."""
        now = self.clock.now()

        async def load() -> bool:
            async with self.db.read() as conn:
                return await conn.scalar(select(_M.id).where(_M.expiry > now).limit(1)) is not None

        if not await self.hints.maybe(HINT, load):
            return []
        worker = select(_W.id).where(_W.name == worker_name, _W.owner_id == owner.id)
        q = (select(WorkerMessage.__table__).where(_M.expiry > now, or_(_M.worker_id.is_(None),
                                                                           _M.worker_id.in_(worker)))
             .order_by(_M.created, _M.id).limit(MESSAGES_PER_PAGE))
        async with self.db.read() as conn:
            return [_info(r) for r in await conn.execute(q)]


__all__ = ["MESSAGES_PER_PAGE", "WorkerMessageInfo", "WorkerMessagesMixin"]
