"""Validated inputs of the core's use cases, shared by the HTTP API and the bot.

Field names are the AI Horde v2 names. Unknown fields are ignored (old and new clients send
plenty); bad values are refused with the field named.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

_IGNORE = ConfigDict(extra="ignore", populate_by_name=True)
MAX_SEED_LENGTH = 64


def _seed(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("a seed is a string or a number")
    text = str(value)
    if len(text) > MAX_SEED_LENGTH:
        raise ValueError(f"a seed has at most {MAX_SEED_LENGTH} characters")
    return text


def _whole(value: Any) -> Any:
    """An amount: a JSON integer (or a float with nothing after the point, as horde-sdk sends it); never a
    string, a boolean, a fraction or something too large for a kudos balance."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("must be a whole number")
        value = int(value)
    return value


# Kudos amounts and job counts: whole numbers only ("10" and true are refused), bounded by each field.
Whole = Annotated[int, BeforeValidator(_whole)]


class LoraSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=255)
    model: float = Field(1.0, ge=-5, le=5)
    clip: float = Field(1.0, ge=-5, le=5)
    inject_trigger: str | None = None
    is_version: bool = False


class TiSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=255)
    inject_ti: str | None = None
    strength: float = Field(1.0, ge=-5, le=5)


class ImageParams(BaseModel):
    model_config = _IGNORE
    width: int = Field(512, ge=64, le=3072, multiple_of=64)
    height: int = Field(512, ge=64, le=3072, multiple_of=64)
    steps: int = Field(30, ge=1, le=500)
    n: int = Field(1, ge=1, le=20)
    seed: str | None = None
    seed_variation: int | None = Field(None, ge=1, le=1000)
    sampler_name: str = Field("k_euler_a", max_length=64)
    cfg_scale: float = Field(7.5, ge=0, le=100)
    karras: bool = True
    tiling: bool = False
    hires_fix: bool = False
    hires_fix_denoising_strength: float | None = Field(None, ge=0.01, le=1.0)
    clip_skip: int = Field(1, ge=1, le=12)
    post_processing: list[str] = Field(default_factory=list, max_length=10)
    facefixer_strength: float | None = Field(None, ge=0, le=1.0)
    denoising_strength: float | None = Field(None, ge=0.01, le=1.0)
    loras: list[LoraSpec] = Field(default_factory=list, max_length=5)
    tis: list[TiSpec] = Field(default_factory=list, max_length=20)
    control_type: str | None = None
    image_is_control: bool | None = None
    return_control_map: bool | None = None
    transparent: bool | None = None

    _norm_seed = field_validator("seed", mode="before")(_seed)


class ImageRequestSpec(BaseModel):
    model_config = _IGNORE
    prompt: str = Field(min_length=1)
    params: ImageParams = Field(default_factory=ImageParams)
    nsfw: bool = False
    censor_nsfw: bool = False
    trusted_workers: bool = False
    slow_workers: bool = True
    workers: list[str] = Field(default_factory=list, max_length=20)
    worker_blacklist: bool = False
    models: list[str] = Field(default_factory=list, max_length=50)
    r2: bool = True
    shared: bool = False
    replacement_filter: bool = True
    dry_run: bool = False
    source_image: str | None = None
    source_processing: Literal["img2img", "inpainting", "outpainting"] = "img2img"
    source_mask: str | None = None
    proxied_account: str | None = Field(None, max_length=200)
    allow_downgrade: bool = False
    disable_batching: bool = False  # honoured for trusted users (AI Horde's rule); ignored for others
    webhook: str | None = None
    style: str | None = Field(None, max_length=300)  # a style's or collection's id or name (service/styles.py)


class ImagePopSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=100)
    priority_usernames: list[str] = Field(default_factory=list, max_length=50)
    nsfw: bool = False
    models: list[str] = Field(default_factory=list, max_length=500)
    bridge_agent: str = Field("unknown:0:unknown", max_length=200)
    threads: int = Field(1, ge=1, le=50)
    require_upfront_kudos: bool = False
    amount: Whole = Field(1, ge=1, le=20)
    max_pixels: int = Field(512 * 512, ge=0, le=3072 * 3072 * 4)
    blacklist: list[str] = Field(default_factory=list, max_length=200)
    allow_img2img: bool = True
    allow_painting: bool = True
    allow_unsafe_ipaddr: bool = True
    allow_post_processing: bool = True
    allow_controlnet: bool = False
    allow_sdxl_controlnet: bool = False
    allow_lora: bool = False
    extra_slow_worker: bool = False
    limit_max_steps: bool = False


class GenMetadataEntry(BaseModel):
    model_config = _IGNORE
    type: str
    value: str
    ref: str | None = None


class SubmitSpec(BaseModel):
    model_config = _IGNORE
    id: str = Field(min_length=1, max_length=64)
    generation: str = ""
    state: Literal["ok", "censored", "faulted", "csam"] = "ok"
    seed: str | None = None
    censored: bool = False
    gen_metadata: list[GenMetadataEntry] | None = None

    _norm_seed = field_validator("seed", mode="before")(_seed)


class TransferSpec(BaseModel):
    model_config = _IGNORE
    username: str = Field(min_length=1, max_length=120)
    amount: Whole = Field(ge=1, le=1_000_000_000)


class WorkerModifySpec(BaseModel):
    model_config = _IGNORE
    maintenance: bool | None = None
    maintenance_msg: str | None = Field(None, max_length=500)
    info: str | None = Field(None, max_length=1000)
    name: str | None = Field(None, min_length=1, max_length=100)
    paused: bool | None = None
    team: str | None = Field(None, max_length=36)  # a team id; "" leaves the team


class TextParams(BaseModel):
    """KoboldAI generation parameters; unknown ones (min_p, dynatemp_*, ...) pass through unchecked."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    max_length: int = Field(80, ge=16, le=1024)
    max_context_length: int = Field(1024, ge=80, le=32000)
    n: int = Field(1, ge=1, le=20)
    temperature: float | None = Field(None, ge=0, le=5)
    top_p: float | None = Field(None, ge=0.001, le=1)
    top_k: int | None = Field(None, ge=0, le=100)
    top_a: float | None = Field(None, ge=0, le=1)
    typical: float | None = Field(None, ge=0, le=1)
    tfs: float | None = Field(None, ge=0, le=1)
    rep_pen: float | None = Field(None, ge=1, le=3)
    rep_pen_range: int | None = Field(None, ge=0, le=4096)
    rep_pen_slope: float | None = Field(None, ge=0, le=10)
    sampler_order: list[int] | None = None
    stop_sequence: list[str] | None = Field(None, max_length=32)


class TextRequestSpec(BaseModel):
    model_config = _IGNORE
    prompt: str = Field(min_length=1)
    params: TextParams = Field(default_factory=TextParams)
    softprompt: str | None = Field(None, max_length=200)
    models: list[str] = Field(default_factory=list, max_length=50)
    workers: list[str] = Field(default_factory=list, max_length=20)
    worker_blacklist: bool = False
    trusted_workers: bool = False
    slow_workers: bool = True
    nsfw: bool = False
    dry_run: bool = False
    proxied_account: str | None = Field(None, max_length=200)
    allow_downgrade: bool = False
    disable_batching: bool = False  # honoured for trusted users (AI Horde's rule); ignored for others
    webhook: str | None = None
    style: str | None = Field(None, max_length=300)  # a style's or collection's id or name (service/styles.py)


class TextPopSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=100)
    models: list[str] = Field(default_factory=list, max_length=500)
    max_length: int = Field(512, ge=1, le=16384)
    max_context_length: int = Field(2048, ge=1, le=1_048_576)
    softprompts: list[str] | None = None
    priority_usernames: list[str] = Field(default_factory=list, max_length=50)
    nsfw: bool = False
    blacklist: list[str] = Field(default_factory=list, max_length=200)
    bridge_agent: str = Field("unknown:0:unknown", max_length=200)
    threads: int = Field(1, ge=1, le=50)
    amount: Whole = Field(1, ge=1, le=20)
    require_upfront_kudos: bool = False
    extra_slow_worker: bool = False


class TextSubmitSpec(BaseModel):
    model_config = _IGNORE
    id: str = Field(min_length=1, max_length=64)
    generation: str = ""
    state: Literal["ok", "censored", "faulted", "csam"] = "ok"
    seed: int | str | None = None
    gen_metadata: list[GenMetadataEntry] | None = None


class AlchemyFormSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] | None = None


class AlchemyRequestSpec(BaseModel):
    model_config = _IGNORE
    forms: list[AlchemyFormSpec] = Field(min_length=1, max_length=12)
    source_image: str = Field(min_length=1)
    trusted_workers: bool = False
    slow_workers: bool = True
    extra_slow_workers: bool = False
    workers: list[str] = Field(default_factory=list, max_length=20)
    worker_blacklist: bool = False
    proxied_account: str | None = Field(None, max_length=200)
    webhook: str | None = None


class AlchemyPopSpec(BaseModel):
    model_config = _IGNORE
    name: str = Field(min_length=1, max_length=100)
    forms: list[str] = Field(default_factory=list, max_length=50)
    priority_usernames: list[str] = Field(default_factory=list, max_length=50)
    amount: Whole = Field(1, ge=1, le=20)
    max_tiles: int = Field(16, ge=1, le=256)
    threads: int = Field(1, ge=1, le=50)
    bridge_agent: str = Field("unknown:0:unknown", max_length=200)


class AlchemySubmitSpec(BaseModel):
    model_config = _IGNORE
    id: str = Field(min_length=1, max_length=64)
    result: Any = None
    state: Literal["ok", "censored", "faulted", "csam"] = "ok"


class RatingEntry(BaseModel):
    model_config = _IGNORE
    id: str = Field(min_length=1, max_length=64)
    rating: int = Field(ge=1, le=10)
    artifacts: int | None = Field(None, ge=0, le=5)


class RateSpec(BaseModel):
    """Owners rate their own results: one rating per image, and which image of the request was best."""

    model_config = _IGNORE
    ratings: list[RatingEntry] = Field(default_factory=list, max_length=20)
    best: str | None = None


class PoolRatingSpec(BaseModel):
    model_config = _IGNORE
    rating: int = Field(ge=1, le=10)
    artifacts: int | None = Field(None, ge=0, le=5)
