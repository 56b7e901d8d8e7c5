"""Fairness among the members of a community: at most N requests in flight per member, and a daily image
quota that may depend on the member's roles (boosters get more).

It is enforced where requests are accepted, inside the transaction that queues them, for every request a
community's bot sends (`proxied_account = discord:<guild>:<member>`): the features that generate need
no check of their own, and a burst of concurrent requests cannot slip past a count. The rules are the
community's settings `max_in_flight`, `daily_images` and `role_quotas` (declared and validated by the
bot in `bot/settings.py`). The core cannot see Discord roles: the bot notes the roles of each member it
acts for (`note_member_roles`) before it asks for anything, into `member_roles`, a named in-process map
(requests enter the core in the bot's own process).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from horde_core.communities.scopes import member_of
from horde_core.queue import fairness

from .communities import CommunityMixin
from .errors import Forbidden, TooMany

DAY = 86400.0


class MemberRoles:
    """Role ids the bot last saw each member hold, per community (forgotten after `ttl` seconds)."""

    def __init__(self, ttl: float = DAY, max_size: int = 200_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._roles: dict[tuple[str, str], tuple[float, frozenset[int]]] = {}

    def note(self, community: str, member: str, role_ids: Iterable[int]) -> None:
        if len(self._roles) >= self.max_size:
            self._roles.clear()
        self._roles[(community, member)] = (time.monotonic(), frozenset(role_ids))

    def get(self, community: str, member: str) -> frozenset[int]:
        hit = self._roles.get((community, member))
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return frozenset()
        return hit[1]


@dataclass(frozen=True, slots=True)
class FairnessRules:
    max_in_flight: int = 0  # 0: no limit
    daily_images: int = 0  # for members with none of the quota roles; 0: no limit
    role_quotas: dict[int, int] = field(default_factory=dict)  # role id -> daily images (0: no limit)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> FairnessRules:
        quotas = settings.get("role_quotas") or {}
        return cls(max_in_flight=int(settings.get("max_in_flight") or 0),
                   daily_images=int(settings.get("daily_images") or 0),
                   role_quotas={int(k): int(v) for k, v in quotas.items()})

    @property
    def active(self) -> bool:
        return bool(self.max_in_flight or self.daily_images or self.role_quotas)

    def allowance(self, roles: frozenset[int]) -> int:
        """Images a day for a member holding `roles`: the best quota among their roles (0: unlimited), else
        the community's `daily_images`."""
        quotas = [self.role_quotas[r] for r in roles if r in self.role_quotas]
        if not quotas:
            return self.daily_images
        return 0 if 0 in quotas else max(quotas)


class FairnessMixin(CommunityMixin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member_roles = MemberRoles()

    def note_member_roles(self, community: str, member_id: int, role_ids: Iterable[int]) -> None:
        """The bot says which roles a member holds now (role quotas depend on them)."""
        self.member_roles.note(community, str(member_id), role_ids)

    async def fairness_rules(self, community: str) -> FairnessRules:
        return FairnessRules.from_settings(await self.community_settings(community))

    async def fairness_applies(self, request: dict[str, Any]) -> bool:
        """Whether `admit_fairly` has anything to check for this request (a member under active rules)."""
        member = member_of(request.get("proxied_account") or "")
        return member is not None and (await self.fairness_rules(member[0])).active

    async def admit_fairly(self, conn: Any, request: dict[str, Any], jobs: int) -> None:
        """Refuse a member's request beyond their community's limits; call inside the accepting transaction."""
        proxied = request.get("proxied_account") or ""
        member = member_of(proxied)
        if member is None:
            return
        rules = await self.fairness_rules(member[0])
        if not rules.active:
            return
        now = request["created_at"]
        await fairness.serialize_member(conn, self.db.dialect, proxied)
        if rules.max_in_flight:
            busy = await fairness.in_flight(conn, proxied, now - self.config.core.request_expiry)
            if busy >= rules.max_in_flight:
                raise TooMany(f"You already have {busy} request{'s' if busy != 1 else ''} in flight on this server, "
                              f"which allows {rules.max_in_flight} at once. Wait for one to finish.",
                              rc="TooManyInFlight")
        allowance = rules.allowance(self.member_roles.get(*member)) if request["kind"] == "image" else 0
        if allowance:
            used = await fairness.images_since(conn, proxied, now - DAY)
            if used + jobs > allowance:
                left = max(0, allowance - used)
                raise Forbidden(f"This server allows you {allowance} images a day; you have {left} left. "
                                "Try again later, or ask for fewer images.", rc="DailyQuota")
