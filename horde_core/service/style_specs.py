"""Bodies of the style and collection endpoints, with AI Horde's field names and bounds
(ModelStyleInputStable / ModelStylePatchStable, InputStyleExamplePost, InputModelCollection)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_IGNORE = ConfigDict(extra="ignore", populate_by_name=True)


class StyleSpec(BaseModel):
    """POST /v2/styles/{image,text}. `params` are checked against the generation parameters of the kind."""

    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=100)
    info: str | None = Field(None, max_length=1000)
    prompt: str = Field("{p}{np}", min_length=3)
    params: dict[str, Any] | None = None
    public: bool = True
    nsfw: bool = False
    tags: list[str] | None = None
    models: list[str] | None = None
    sharedkey: str | None = Field(None, max_length=36)


class StylePatchSpec(BaseModel):
    """PATCH /v2/styles/{image,text}/{id}: what is given replaces what was there."""

    model_config = _IGNORE
    name: str | None = Field(None, min_length=1, max_length=100)
    info: str | None = Field(None, max_length=1000)
    prompt: str | None = Field(None, min_length=3)
    params: dict[str, Any] | None = None
    public: bool | None = None
    nsfw: bool | None = None
    tags: list[str] | None = None
    models: list[str] | None = None
    sharedkey: str | None = Field(None, max_length=36)


class StyleExampleSpec(BaseModel):
    model_config = _IGNORE
    url: str = Field(min_length=9, max_length=2000)
    primary: bool = False


class StyleExamplePatchSpec(BaseModel):
    model_config = _IGNORE
    url: str | None = Field(None, min_length=9, max_length=2000)
    primary: bool | None = None


class CollectionSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=100)
    info: str | None = Field(None, max_length=1000)
    public: bool = True
    styles: list[str] = Field(min_length=1, max_length=100)


class CollectionPatchSpec(BaseModel):
    model_config = _IGNORE
    name: str | None = Field(None, min_length=1, max_length=100)
    info: str | None = Field(None, max_length=1000)
    public: bool | None = None
    styles: list[str] | None = Field(None, min_length=1, max_length=100)
