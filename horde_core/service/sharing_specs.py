"""Request bodies of shared keys and teams (issue 16), with AI Horde's bounds (SharedKeyInput, CreateTeamInput,
ModifyTeamInput). Unknown fields are ignored, as everywhere in the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_IGNORE = ConfigDict(extra="ignore", populate_by_name=True)


class SharedKeySpec(BaseModel):
    """PUT /v2/sharedkeys: AI Horde's defaults (5000 kudos, never expires, no caps)."""

    model_config = _IGNORE
    kudos: int = Field(5000, ge=-1, le=50_000_000)
    expiry: int = Field(-1, ge=-1, le=36_500)
    name: str | None = Field(None, min_length=3, max_length=255)
    max_image_pixels: int = Field(-1, ge=-1, le=4_194_304)
    max_image_steps: int = Field(-1, ge=-1, le=500)
    max_text_tokens: int = Field(-1, ge=-1, le=500)


class SharedKeyModifySpec(BaseModel):
    """PATCH /v2/sharedkeys/{id}: only the fields sent change."""

    model_config = _IGNORE
    kudos: int | None = Field(None, ge=-1, le=50_000_000)
    expiry: int | None = Field(None, ge=-1, le=36_500)
    name: str | None = Field(None, min_length=3, max_length=255)
    max_image_pixels: int | None = Field(None, ge=-1, le=4_194_304)
    max_image_steps: int | None = Field(None, ge=-1, le=500)
    max_text_tokens: int | None = Field(None, ge=-1, le=500)


class TeamCreateSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=3, max_length=100)
    info: str | None = Field(None, min_length=3, max_length=1000)


class TeamModifySpec(BaseModel):
    model_config = _IGNORE
    name: str | None = Field(None, min_length=3, max_length=100)
    info: str | None = Field(None, min_length=3, max_length=1000)
