"""Bodies of the AI Horde's administrative endpoints (users, awards, worker messages, filters), with the field
names and limits of AI Horde's input models (ModifyUserInput, PutNewFilter, ResponseModelMessage ...).

Unknown fields are ignored, as everywhere in the API; known fields we cannot honour are refused by the use case
(not silently dropped), so a moderator never believes a change was made that was not.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .schemas import Whole

_IGNORE = ConfigDict(extra="ignore", populate_by_name=True)
KUDOS_LIMIT = 1_000_000_000

# ModifyUserInput fields that AI Horde has but this horde has no counterpart for.
UNSUPPORTED_USER_FIELDS = ("usage_multiplier", "worker_invited", "public_workers", "monthly_kudos", "vpn",
                           "service", "education", "special", "undelete", "filtered", "generate_proxy_passkey",
                           "contact", "admin_comment")


class ModifyUserSpec(BaseModel):
    """PUT /v2/users/{id}. The supported fields; the others are declared so they can be named when refused."""

    model_config = _IGNORE
    kudos: Whole | None = Field(None, ge=-KUDOS_LIMIT, le=KUDOS_LIMIT)
    concurrency: int | None = Field(None, ge=0, le=500)
    moderator: bool | None = None
    trusted: bool | None = None
    flagged: bool | None = None
    customizer: bool | None = None
    reset_suspicion: bool | None = None
    username: str | None = Field(None, min_length=3, max_length=100)
    usage_multiplier: float | None = None
    worker_invited: int | None = None
    public_workers: bool | None = None
    monthly_kudos: int | None = None
    vpn: bool | None = None
    service: bool | None = None
    education: bool | None = None
    special: bool | None = None
    undelete: bool | None = None
    filtered: bool | None = None
    generate_proxy_passkey: bool | None = None
    contact: str | None = Field(None, max_length=500)
    admin_comment: str | None = Field(None, max_length=500)

    def unsupported(self) -> list[str]:
        return [name for name in UNSUPPORTED_USER_FIELDS if getattr(self, name) is not None]


class AwardSpec(BaseModel):
    """POST /v2/kudos/award: AI Horde's default amount is 100."""

    model_config = _IGNORE
    username: str = Field(min_length=1, max_length=120)
    amount: Whole = Field(100, ge=1, le=KUDOS_LIMIT)


class WorkerMessageSpec(BaseModel):
    """POST /v2/workers/messages: expiry in hours, 1 to 30 days (AI Horde's limits and default)."""

    model_config = _IGNORE
    worker_id: str | None = Field(None, min_length=36, max_length=36)
    message: str = Field(min_length=1, max_length=10 * 1024)
    origin: str | None = Field(None, min_length=1, max_length=255)
    expiry: int = Field(12, ge=1, le=30 * 24)


class FilterSpec(BaseModel):
    """PUT /v2/filters (regex and filter_type required) and PATCH /v2/filters/{id} (all optional)."""

    model_config = _IGNORE
    regex: str | None = Field(None, min_length=1, max_length=100)
    filter_type: int | None = Field(None, ge=10, le=29)
    description: str | None = Field(None, max_length=1000)
    replacement: str | None = Field(None, max_length=100)


class FilterCheckSpec(BaseModel):
    """POST /v2/filters: would this prompt be blocked, and by what?"""

    model_config = _IGNORE
    prompt: str = Field(min_length=1, max_length=200_000)
    filter_type: int | None = Field(None, ge=10, le=29)


__all__ = ["AwardSpec", "FilterCheckSpec", "FilterSpec", "ModifyUserSpec", "WorkerMessageSpec"]
