"""Users as AI Horde's UserDetails shows them, by the viewer's privilege (0 public, 1 themselves, 2 moderator).

Only fields horde-sdk 0.18.0's UserDetailsResponse declares, and only those we can fill from our own data:
no monthly kudos, evaluating kudos, shared keys, contact or service/education/vpn roles.
"""

from __future__ import annotations

from typing import Any

from horde_core.service.users_admin import UserView


def user_details(view: UserView, now: float) -> dict[str, Any]:
    u, privilege = view.info, view.privilege
    records = u.records
    out: dict[str, Any] = {
        "id": u.id, "username": u.username, "kudos": float(u.kudos), "concurrency": u.concurrency,
        "trusted": u.trusted, "moderator": u.moderator, "flagged": u.flagged, "customizer": u.customizer,
        "pseudonymous": False, "account_age": max(0, int(now - u.created_at)), "worker_count": len(u.worker_ids),
        "kudos_details": {k: float(v) for k, v in u.kudos_details.items()},
        "records": records,
        # AI Horde's older summaries, kept for the clients that still read them (images only, as there).
        "usage": {"megapixelsteps": float(records["usage"]["megapixelsteps"]),
                  "requests": int(records["request"]["image"])},
        "contributions": {"megapixelsteps": float(records["contribution"]["megapixelsteps"]),
                          "fulfillments": int(records["fulfillment"]["image"])},
        "styles": view.styles,
    }
    if privilege >= 1:
        out["worker_ids"] = u.worker_ids
        out["active_generations"] = {"image": u.active_generations.get("image", []),
                                     "text": u.active_generations.get("text", []),
                                     "alchemy": u.active_generations.get("interrogation", [])}
    if privilege >= 2:
        out["suspicious"] = view.suspicion
    return out
