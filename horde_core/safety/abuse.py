"""Who is answerable for a request, and how strikes turn into penalties (pure rules).

A member of a community (a Discord guild, via the bot's `proxied_account`) answers for their own
requests, and their community for its members together; the service that proxies them (the
bot) never does. An API client answers by its key, and by its IP when anonymous or unproxied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROXIED = re.compile(r"^(?P<platform>[a-z0-9_]+):(?P<community>[^:\s]+):(?P<member>[^:\s]+)$")


@dataclass(frozen=True, slots=True)
class Subject:
    user_id: int
    anonymous: bool
    subject: str  # member:<proxied> | user:<id> | ip:<addr>
    community: str  # "<platform>:<community id>" or ""
    ipaddr: str

    def penalty_keys(self) -> list[str]:
        """The penalties that apply to this requester (checked on every image request)."""
        keys = [self.subject]
        if self.community:
            keys.append(f"community:{self.community}")
        if self.ipaddr and not self.subject.startswith("member:") and self.subject != f"ip:{self.ipaddr}":
            keys.append(f"ip:{self.ipaddr}")
        return keys


def subject_of(user_id: int, anonymous: bool, proxied_account: str, ipaddr: str) -> Subject:
    match = _PROXIED.match(proxied_account or "")
    if match:
        return Subject(user_id, anonymous, f"member:{proxied_account}",
                       f"{match['platform']}:{match['community']}", ipaddr)
    if anonymous:
        return Subject(user_id, True, f"ip:{ipaddr or 'unknown'}", "", ipaddr)
    return Subject(user_id, False, f"user:{user_id}", "", ipaddr)


@dataclass(frozen=True, slots=True)
class Rules:
    strike_ttl: float = 86400.0
    timeout_first: float = 180.0  # 3 minutes after the first strike
    timeout_step: float = 360.0  # then 9, 15, 21 ... minutes
    community_window: float = 3600.0
    community_throttle_at: int = 5
    community_suspend_at: int = 10
    community_suspension: float = 86400.0


def member_timeout(strikes: int, rules: Rules) -> float:
    """Seconds of timeout after the `strikes`-th live strike: escalating, never zero."""
    return rules.timeout_first + rules.timeout_step * max(0, strikes - 1)


def community_state(recent: int, rules: Rules) -> str | None:
    """What a community earns for `recent` strikes of its members within the window."""
    if recent >= rules.community_suspend_at:
        return "suspended"
    if recent >= rules.community_throttle_at:
        return "throttled"
    return None
