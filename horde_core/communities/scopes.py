"""Which community a request belongs to, from the `proxied_account` a community's bot sends.

The bot sends `discord:<guild>:<member>` and keeps the guild's settings under `discord:guild:<guild>`;
features of the core that act per community (fairness, parties) find both here, in one place.
"""

from __future__ import annotations

import re

_PROXIED = re.compile(r"^discord:(?P<guild>\d+):(?P<member>\d+)$")


def member_of(proxied_account: str | None) -> tuple[str, str] | None:
    """(settings scope of the community, member id) for a request a community's bot sent, else None."""
    match = _PROXIED.match(proxied_account or "")
    if match is None:
        return None
    return f"discord:guild:{match['guild']}", match["member"]
