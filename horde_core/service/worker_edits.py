"""PUT /v2/workers/{id}: what a worker's owner, a moderator or the horde's operators may change, field by field
with AI Horde's rules (ModifyWorker): maintenance and info (owner or moderator), name and team (owner or
moderator), paused (moderators only: a paused worker keeps popping and gets no jobs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo
from horde_core.workers import teams as teams_repo

from .errors import BadRequest, Forbidden, NotFound
from .moderation import ModerationMixin
from .schemas import WorkerModifySpec


class WorkerEditsMixin(ModerationMixin):
    async def modify_worker(self, user: UserRow, worker_id: str, spec: WorkerModifySpec, *,
                            operator: bool = False) -> dict[str, Any]:
        """Apply the fields sent; answer AI Horde's ModifyWorker shape (only what changed). `operator`: the
        bot's `owner_ids`, vouched for by the caller, may change any worker as a moderator would."""
        moderator = operator or self.is_web_admin(user)
        name = spec.name.strip() if spec.name is not None else None
        if name == "":
            raise BadRequest("A worker name cannot be empty.", rc="BadRequest")
        async with self.db.transaction() as conn:
            row = await workers_repo.by_id(conn, worker_id)
            if row is None:
                raise NotFound(f"Worker with ID '{worker_id}' not found.", rc="WorkerNotFound")
            owner = row.owner_id == user.id and not user.anonymous
            values: dict[str, Any] = {}
            out: dict[str, Any] = {}
            if (spec.maintenance is not None or spec.info is not None) and not (owner or moderator):
                raise Forbidden("Only the owner can change this worker.", rc="NotOwner")
            if spec.maintenance is not None:
                values["maintenance"] = out["maintenance"] = spec.maintenance
            if spec.info is not None:
                values["info"] = out["info"] = spec.info
            if spec.paused is not None:
                if not moderator:
                    raise Forbidden("Only the horde's moderators can pause a worker.", rc="NotModerator")
                values["paused"] = out["paused"] = spec.paused
            if (name is not None or spec.team is not None) and not (owner or moderator):
                raise Forbidden("Only the owner or a moderator can rename a worker or change its team.",
                                rc="NotModerator")
            if name is not None:
                values["name"] = out["name"] = name
            if spec.team is not None:
                values["team_id"], out["team"] = await self._team_for_worker(conn, spec.team)
            if not values:
                raise BadRequest("No worker modification selected!", rc="NoWorkerModSelected")
            if name is not None and name != row.name:
                taken = await workers_repo.by_name(conn, name)
                if taken is not None:
                    raise BadRequest(f"The specified worker name '{name}' is already taken!",
                                     rc="WorkerNameAlreadyExists")
            try:
                async with conn.begin_nested():
                    await workers_repo.set_fields(conn, worker_id, **values)
            except IntegrityError:  # taken meanwhile, by a worker registering under that name
                raise BadRequest(f"The specified worker name '{name}' is already taken!",
                                 rc="WorkerNameAlreadyExists") from None
        # Every node drops the worker (by its old name) from its registry and online lists, at once.
        self.workers.worker_changed(row.id, row.name)
        return out

    async def _team_for_worker(self, conn: Any, team: str) -> tuple[str | None, str]:
        """(team id to store, what ModifyWorker answers): "" leaves the team ("None", as AI Horde says)."""
        if team == "":
            return None, "None"
        found = await teams_repo.by_id(conn, team)
        if found is None:
            raise NotFound(f"Team with ID '{team}' not found.", rc="TeamNotFound")
        return found.id, found.name
