"""Settings of the whole process, declared once with their defaults.

The values come from three places, strongest first: environment variables
(`HORDE_<SECTION>__<KEY>`), the TOML file given with `--config`, and the defaults
below. Only `main.py` calls `load_config`; nothing reads the environment at import.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 7001
    # Base of every URL the API hands out (upload and download links). Empty means
    # http://HOST:PORT. In deployment put an https proxy in front and set this to it.
    public_url: str = ""
    max_body_bytes: int = 12 * 1024 * 1024
    max_upload_bytes: int = 24 * 1024 * 1024
    # Routes that carry no image (pops, ratings, transfers) take bodies up to this size.
    max_small_body_bytes: int = 256 * 1024
    # Larger bodies (source images, base64 results, uploads) read at once; others wait up to
    # large_body_wait seconds for a slot, then answer 503 ServerBusy.
    large_bodies_at_once: int = 8
    large_body_wait: float = 30.0
    # Seconds a client may take to send its body (408 after), and an idle connection stays open.
    body_timeout: float = 60.0
    idle_timeout: float = 75.0
    # Addresses (or networks, "10.0.0.0/8") of reverse proxies whose X-Forwarded-For is believed.
    # Empty: the header is ignored and the connection's address counts.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Secret for signed upload/download URLs; empty means one generated and kept in the database.
    signing_secret: str = ""
    download_url_ttl_seconds: int = 1800
    # Per-API-key rate limit of generation requests (token bucket).
    requests_per_second: float = 10.0
    request_burst: int = 40


class NewsItem(_Section):
    """One piece of the operator's news (/api/v2/status/news and /news in Discord)."""

    date: str  # YYYY-MM-DD
    text: str
    title: str = ""
    importance: str = "Information"  # Information | Workers | Crisis, as the AI Horde has them
    url: str = ""


class CoreSettings(_Section):
    data_dir: str = "./data"
    # Empty means a SQLite file in data_dir. PostgreSQL: postgresql+asyncpg://user@host/db
    database_url: str = ""
    # PostgreSQL connections kept open (as many again may be opened under load).
    db_pool_size: int = 20
    # Upload and image store: "local" (under data_dir/images) or "s3" (an S3-compatible bucket, see [s3]).
    image_store: Literal["local", "s3"] = "local"
    # Per-node state (caches, rate limits, events): "auto" shares it through PostgreSQL when the database is
    # PostgreSQL (LISTEN/NOTIFY, shared rate buckets), "local" keeps it in this process (one node only).
    shared_state: Literal["auto", "local"] = "auto"
    horde_name: str = "hordebot"
    max_prompt_length: int = 8000
    max_text_prompt_length: int = 200_000
    allow_custom_models: bool = True
    # Kudos
    new_user_kudos: int = 0
    kudos_floor: int = -50
    anonymous_concurrency: int = 10
    default_concurrency: int = 30
    horde_tax: int = 3
    shared_tax: int = 1
    uptime_kudos_per_hour: int = 50
    # Uptime kudos go only to workers that finished a job within this many seconds, and to at most
    # this many workers of one owner (those that finished a job most recently).
    uptime_job_window: int = 3600
    uptime_workers_per_owner: int = 3
    # Worker names one user may register (each kind of worker counts).
    max_workers_per_user: int = 20
    # Threads that decode and encode images (source images, results); the event loop never does.
    image_threads: int = 2
    # The most pixels a worker's result may have (checked before it is decoded).
    max_result_pixels: int = 6144 * 6144
    # Lifecycle (seconds)
    image_job_ttl: int = 150
    text_job_ttl: int = 300
    interrogation_job_ttl: int = 180
    request_expiry: int = 1200
    image_retention: int = 7200
    # Days a result no Discord channel or DM could take is kept for its member to fetch (/account), images too.
    undelivered_retention_days: int = 7
    max_job_faults: int = 2
    max_form_attempts: int = 3
    # Flood control: interrogation requests waiting at once, per user and per client agent.
    max_waiting_interrogations_per_user: int = 20
    max_waiting_interrogations_per_agent: int = 200
    # Interrogation sources given as URLs: the largest download and how long to wait for it.
    source_download_max_bytes: int = 10 * 1024 * 1024
    source_download_timeout: float = 10.0
    # Allow source URLs that point at loopback or private addresses (off: no server-side request forgery).
    allow_private_source_urls: bool = False
    sweep_interval: float = 10.0
    # How often a polling worker's check-in is written to the database.
    checkin_write_interval: int = 60
    # A worker is online when it checked in within this many seconds.
    worker_online_window: int = 300
    # LoRA and textual-inversion catalogue: entries a community may add beside the shipped ones, and how
    # soon another node's change to them is seen here.
    catalogue_max_per_community: int = 5000
    catalogue_refresh_seconds: float = 30.0
    # The operator's news, newest shown first (empty: a welcome note).
    news: list[NewsItem] = Field(default_factory=list)


class SafetySettings(_Section):
    # Strikes expire after this many seconds.
    strike_ttl: int = 86400
    # A member (or key, or anonymous IP) is timed out after each strike: first this long, then this much longer
    # for each further live strike (3, 9, 15, ... minutes).
    timeout_first: int = 180
    timeout_step: int = 360
    # A community whose members gather this many strikes within the window is throttled, then suspended.
    community_window: int = 3600
    community_throttle_at: int = 5
    community_suspend_at: int = 10
    community_suspension: int = 86400
    # While throttled, each member of the community may send one image request per this many seconds.
    throttle_interval: float = 60.0
    # Hold images from workers that report no safety check of their own until an alchemist's `nsfw` form has
    # scored them (released, censored, or csam by the image verdict); unscanned images are never shown.
    scan_before_release: bool = False
    # Days the moderation log (blocked prompts: the prompt, who, where, why) is kept.
    audit_retention_days: int = 30


class RatingSettings(_Section):
    # Kudos for rating an image, more when an artifacts score is given too; at most this much a day.
    # Untrusted raters earn nothing (see horde_core/ratings/trust.py for the rule and why these numbers).
    reward: int = 5
    artifacts_bonus: int = 2
    daily_reward_cap: int = 100
    # Ratings (owner or pool) a member may send: a token bucket of this many a minute, this many at once.
    ratings_per_minute: float = 30.0
    ratings_burst: int = 10
    # Gold images (imported with a known rating) are slipped into the pool every N picks: every other pick
    # until a rater is trusted (and while untrusted), about one in ten after.
    gold_every_unproven: int = 2
    gold_every_trusted: int = 10
    # Gold ratings needed to condemn a rater, and to trust one; a trusted rater's mean |rating - gold| is at
    # most this (a uniform-random rater averages ~3).
    trust_min_gold: int = 5
    trust_min_gold_to_trust: int = 10
    trust_max_gold_error: float = 2.0
    # Consensus: ratings of images that at least this many other trusted raters rated; how many make a
    # verdict; the most a rater's mean distance from those raters' mean may be (random: ~2.6).
    trust_min_consensus_raters: int = 3
    trust_min_consensus: int = 10
    trust_max_consensus_error: float = 2.5
    # An untrusted rater must do this much better than a limit to be trusted again; consensus always must.
    trust_regain_margin: float = 0.75
    # Errors are running means over about this many recent ratings, so a rater who turns random is caught.
    trust_window: int = 10


class UpstreamSettings(_Section):
    """A public AI Horde as one more source of workers (issue 8). Off unless `enabled` and a `url` are set."""

    enabled: bool = False
    # Base URL of any AI Horde v2 compatible horde, e.g. https://aihorde.net/api/ (with or without /api/).
    url: str = ""
    # The operator's API key at the upstream (its kudos pay for what goes there). Prefer the environment:
    # HORDE_UPSTREAM__API_KEY.
    api_key: str = ""
    # The operator's proxy passkey (a service account's; `python main.py upstream passkey` generates one and
    # keeps it in the database, which is simpler). Set here (HORDE_UPSTREAM__PROXY_PASSKEY) it wins.
    proxy_passkey: str = ""
    # What may go upstream: kinds (image, text, interrogation) and models (empty: any the upstream serves).
    kinds: list[str] = Field(default_factory=lambda: ["image", "text", "interrogation"])
    models: list[str] = Field(default_factory=list)
    # Interrogation forms that may go upstream (image-producing forms stay local).
    forms: list[str] = Field(default_factory=lambda: ["caption", "nsfw", "interrogation"])
    # Seconds a request waits for a local worker before it may go upstream (0: straight upstream).
    wait_seconds: float = 30.0
    # NSFW requests and requests with source images (img2img, inpainting) stay local unless allowed.
    allow_nsfw: bool = False
    allow_source_images: bool = False
    # Limits: upstream requests in flight at once (per node), and kudos spent upstream per day, in all
    # and per community (guild). 0 means no limit.
    max_concurrent: int = 4
    daily_budget: float = 0.0
    daily_budget_per_community: float = 0.0
    # A job the upstream has not finished after this many seconds is taken back and served locally.
    stall_seconds: float = 300.0
    # A job that failed upstream this many times stays local; between tries it waits retry_seconds.
    max_tries: int = 2
    retry_seconds: float = 60.0
    # A member whose prompt the upstream refused (or whose image it found csam) stays local this long.
    hold_member_seconds: float = 86400.0
    # Refusals of one community's members within pause_window seconds that pause its upstream use for
    # pause_seconds (without a proxy passkey one refusal does: it times out everyone's address upstream).
    pause_after: int = 2
    pause_window: float = 86400.0
    pause_seconds: float = 86400.0
    # Refusals of anyone's within an hour that pause the upstream for everyone for pause_all_seconds (the
    # public AI Horde alerts its moderators about a service whose members it refuses often).
    pause_all_after: int = 5
    pause_all_seconds: float = 3600.0
    # After errors (5xx, rate limits, unreachable) the relay backs off this long before trying again,
    # doubling while they last (up to an hour); also the pause after a timeout that states no length.
    backoff_seconds: float = 30.0
    # How often in-flight upstream requests are polled, and the timeout of each HTTP call.
    poll_seconds: float = 2.0
    http_timeout: float = 30.0
    # The largest image accepted from the upstream.
    max_download_bytes: int = 16 * 1024 * 1024


class S3Settings(_Section):
    """An S3-compatible bucket for every image when `core.image_store = "s3"`: what several nodes share.
    Workers upload and clients download through presigned URLs, so image bytes never pass through a node."""

    # Where the nodes reach the store (empty: AWS S3 of `region`), e.g. http://127.0.0.1:8333 for SeaweedFS.
    endpoint_url: str = ""
    # The store's address as workers and clients reach it, used in presigned URLs (empty: endpoint_url).
    public_url: str = ""
    bucket: str = "hordebot"
    region: str = "us-east-1"
    # Credentials (empty: the usual AWS environment, e.g. AWS_ACCESS_KEY_ID). Prefer HORDE_S3__ACCESS_KEY and
    # HORDE_S3__SECRET_KEY to a file.
    access_key: str = ""
    secret_key: str = ""
    # Every key under this prefix (e.g. "hordebot/"), to share a bucket with something else.
    prefix: str = ""
    # "path" (http://host/bucket/key: SeaweedFS, MinIO) or "virtual" (http://bucket.host/key: AWS, R2).
    addressing_style: Literal["path", "virtual"] = "path"
    # Create the bucket at start when it is missing.
    create_bucket: bool = False


class BotSettings(_Section):
    token: str = ""
    dev_guild_id: int = 0
    starting_kudos: int = 25
    # Discord user ids of the bot's operators (they see every guild's abuse and can suspend guilds).
    owner_ids: list[int] = Field(default_factory=list)
    # Privileged intents: message content lets /chat threads continue from plain messages; members
    # lets roles follow contributions. Both must also be enabled in the Discord developer portal.
    message_content_intent: bool = True
    # Shard automatically (discord.py's AutoShardedBot); one process serves many guilds.
    sharded: bool = True
    members_intent: bool = False
    # Bot processes split by shard: this process runs these shard ids (empty: all of them) out of shard_count
    # (0: as many as Discord recommends). Every process of a split bot gets the same shard_count.
    shard_ids: list[int] = Field(default_factory=list)
    shard_count: int = 0

    @model_validator(mode="after")
    def _shards_fit(self) -> BotSettings:
        if self.shard_ids and not self.shard_count:
            raise ValueError("bot.shard_ids needs bot.shard_count (the same in every bot process)")
        if any(not 0 <= i < self.shard_count for i in self.shard_ids):
            raise ValueError(f"bot.shard_ids must lie in 0..{self.shard_count - 1}")
        return self


class WebSettings(_Section):
    """The web pages and /metrics (issue 15), served by the API's aiohttp app."""

    enabled: bool = True
    # Operators who may open the moderation pages: usernames (name or name#id) or user ids.
    admins: list[str | int] = Field(default_factory=list)
    # A gallery of recent shared images that are neither NSFW nor censored, on the front page.
    gallery: bool = False
    gallery_size: int = 24
    # /metrics in the Prometheus text format (put it behind the proxy's access rules if it must stay private).
    metrics: bool = True
    # Hours a web login lasts; set cookie_secure when the pages are served over https (they should be).
    session_hours: float = 12.0
    cookie_secure: bool = False
    # Wrong API keys at the login form per address: this many within login_window seconds, then it waits.
    login_attempts: int = 10
    login_window: int = 900
    # Seconds the status page and /metrics reuse one snapshot of the horde; hours the charts show.
    status_ttl: float = 5.0
    chart_hours: int = 24
    # Days the minute counters behind the charts are kept.
    stats_retention_days: int = 7


class DocumentsSettings(_Section):
    """The operator's documents at /api/v2/documents/{terms,privacy,sponsors}, in Markdown (served as Markdown
    or HTML). Empty: a short default that names the horde and states what it keeps, from the settings."""

    terms: str = ""
    privacy: str = ""
    sponsors: str = ""


class WebhookSettings(_Section):
    """Webhooks: the horde POSTs each finished generation to the URL a request gave (AI Horde's `webhook`)."""

    # HMAC-SHA256 key of the `X-Horde-Signature` header ("sha256=<hex>" of the raw body). Empty: unsigned.
    secret: str = ""
    # Deliver to loopback/private/link-local addresses (tests only: off prevents server-side request forgery).
    allow_private: bool = False
    # At most this many deliveries wait at once; past it new ones are dropped (logged), never the submit.
    max_pending: int = Field(10_000, ge=1)
    max_tries: int = Field(5, ge=1, le=20)
    # Retry after a 5xx, a timeout or a refused connection: first_backoff * 2**(tries-1) seconds.
    first_backoff: float = Field(10.0, gt=0)
    timeout: float = Field(5.0, gt=0)
    # How long a node holds a delivery it is sending before another node may take it over.
    lease: float = Field(60.0, gt=0)
    # Seconds between passes when nothing wakes the sender.
    interval: float = Field(2.0, gt=0)


class AppConfig(BaseSettings):
    """Everything the process can be told. Unknown keys are refused so typos surface."""

    model_config = SettingsConfigDict(
        env_prefix="HORDE_", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    api: ApiSettings = Field(default_factory=ApiSettings)
    core: CoreSettings = Field(default_factory=CoreSettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    ratings: RatingSettings = Field(default_factory=RatingSettings)
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    web: WebSettings = Field(default_factory=WebSettings)
    documents: DocumentsSettings = Field(default_factory=DocumentsSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment beats the file (passed as init values); no .env files are read.
        return (env_settings, init_settings)

    @property
    def public_url(self) -> str:
        base = self.api.public_url or f"http://{self.api.host}:{self.api.port}"
        return base.rstrip("/")

    @property
    def database_url(self) -> str:
        if self.core.database_url:
            return self.core.database_url
        return f"sqlite:///{Path(self.core.data_dir) / 'horde.db'}"


def load_config(path: str | Path | None = None, **overrides: Any) -> AppConfig:
    """Read the TOML file (if any), then let environment variables override it."""
    data: dict[str, Any] = {}
    if path is not None:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return AppConfig(**data)
