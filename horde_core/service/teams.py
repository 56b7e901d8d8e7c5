"""Worker teams (AI Horde's /v2/teams): trusted users create them, workers join with PUT /v2/workers/{id}.

A team's figures (requests fulfilled, kudos, uptime, contributions) are the sums over its current workers: they
are read, not kept, so a worker that leaves takes its figures along (AI Horde counts while it is a member).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from horde_core.users.repo import UserRow
from horde_core.workers import repo as workers_repo
from horde_core.workers import teams as teams_repo
from horde_core.workers.repo import WorkerRow
from horde_core.workers.teams import TeamRow

from .errors import BadRequest, Forbidden, NotFound
from .moderation import ModerationMixin
from .sharing_specs import TeamCreateSpec, TeamModifySpec


@dataclass(frozen=True, slots=True)
class TeamInfo:
    """AI Horde's TeamDetails."""

    id: str
    name: str
    info: str
    creator: str
    requests_fulfilled: int = 0
    kudos: int = 0
    uptime: int = 0
    contributions: int = 0
    workers: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)


def _team_info(team: TeamRow, members: list[WorkerRow], online_since: float) -> TeamInfo:
    models: dict[str, int] = {}
    for w in members:
        for m in w.models:
            models[m] = models.get(m, 0) + 1
    return TeamInfo(
        id=team.id, name=team.name, info=team.info, creator=team.owner_name,
        requests_fulfilled=sum(w.requests_fulfilled for w in members),
        kudos=sum(w.kudos_generated + w.kudos_uptime for w in members),
        uptime=sum(w.uptime_seconds for w in members),
        contributions=sum(w.units_generated for w in members if w.kind == "image"),
        workers=[{"name": w.name, "id": w.id, "online": w.last_check_in >= online_since, "type": w.kind}
                 for w in members],
        models=[{"name": m, "count": n} for m, n in sorted(models.items())])


class TeamsMixin(ModerationMixin):
    def _team_online_since(self) -> float:
        return self.clock.now() - self.config.core.worker_online_window

    async def list_teams(self) -> list[TeamInfo]:
        async with self.db.read() as conn:
            teams = await teams_repo.listing(conn)
            workers = await workers_repo.listing(conn) if teams else []
        since = self._team_online_since()
        return [_team_info(t, [w for w in workers if w.team_id == t.id], since) for t in teams]

    async def get_team(self, team_id: str) -> TeamInfo:
        async with self.db.read() as conn:
            team = await teams_repo.by_id(conn, team_id)
            if team is None:
                raise NotFound(f"Team with ID '{team_id}' not found.", rc="TeamNotFound")
            workers = [w for w in await workers_repo.listing(conn) if w.team_id == team.id]
        return _team_info(team, workers, self._team_online_since())

    async def create_team(self, user: UserRow, spec: TeamCreateSpec) -> dict[str, Any]:
        """Only trusted users (and moderators) may create teams, as in AI Horde."""
        if user.anonymous:
            raise Forbidden("Anonymous users cannot create teams.", rc="AnonForbidden")
        if not (user.trusted or self.is_web_admin(user)):
            raise Forbidden("Only trusted users can create teams.", rc="UntrustedTeamCreation")
        name = spec.name.strip()
        team_id = str(uuid.uuid4())
        async with self.db.transaction() as conn:
            if not await teams_repo.create(conn, team_id, name, spec.info or "", user.id, self.clock.now()):
                raise BadRequest(f"The specified team name '{name}' is already taken!", rc="TeamNameAlreadyExists")
        return {"id": team_id, "name": name, "info": spec.info}

    async def _team_to_change(self, conn: Any, user: UserRow, team_id: str) -> TeamRow:
        team = await teams_repo.by_id(conn, team_id)
        if team is None:
            raise NotFound(f"Team with ID '{team_id}' not found.", rc="TeamNotFound")
        return team

    def _may_change_team(self, user: UserRow, team: TeamRow) -> bool:
        return (team.owner_id == user.id and not user.anonymous) or self.is_web_admin(user)

    async def modify_team(self, user: UserRow, team_id: str, spec: TeamModifySpec) -> dict[str, Any]:
        if spec.name is None and spec.info is None:
            raise BadRequest("No team modification selected!", rc="NoTeamModSelected")
        out: dict[str, Any] = {"id": team_id}
        async with self.db.transaction() as conn:
            team = await self._team_to_change(conn, user, team_id)
            if not self._may_change_team(user, team):
                raise Forbidden("Only the team's creator or a moderator can change it.",
                                rc="NotOwner" if spec.name is None else "NotModerator")
            if spec.info is not None:
                await teams_repo.set_info(conn, team.id, spec.info)
                out["info"] = spec.info
            if spec.name is not None:
                name = spec.name.strip()
                if name != team.name and not await teams_repo.rename(conn, team.id, name):
                    raise BadRequest(f"The specified team name '{name}' is already taken!",
                                     rc="TeamNameAlreadyExists")
                out["name"] = name
        return out

    async def delete_team(self, user: UserRow, team_id: str) -> dict[str, Any]:
        """Its workers stay, without a team."""
        async with self.db.transaction() as conn:
            team = await self._team_to_change(conn, user, team_id)
            if not self._may_change_team(user, team):
                raise Forbidden("Only the team's creator or a moderator can delete it.", rc="NotModerator")
            members = await teams_repo.remove(conn, team.id)
        for worker_id, name in members:
            self.workers.worker_changed(worker_id, name)
        return {"deleted_id": team.id, "deleted_name": team.name}
