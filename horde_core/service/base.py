"""State shared by the service's use cases: storage, settings, clock, and small caches.

The caches keep the hot paths (pop, submit, check) off the database where a slightly stale
answer is harmless: who owns an API key (10 s), which workers exist, and whether anything
is waiting at all (re-read at most once a second, and bumped at once by local writes).
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from horde_core.clock import Clock
from horde_core.config import AppConfig
from horde_core.db import Database
from horde_core.events import EventBus
from horde_core.models import Meta
from horde_core.queue import lifecycle
from horde_core.queue.matching import WorkerProfile
from horde_core.reference import ModelReference
from horde_core.storage import ImageStore, LocalImageStore, UrlSigner
from horde_core.users import repo as users_repo
from horde_core.users.keys import ANONYMOUS_KEY, hash_key
from horde_core.users.repo import UserRow
from horde_core.workers.repo import WorkerRow

from .errors import Forbidden, InvalidAPIKey

AUTH_TTL = 10.0
HINT_TTL = 1.0


@dataclass(slots=True)
class CachedWorker:
    row: WorkerRow
    profile: WorkerProfile
    profile_key: tuple = ()  # type: ignore[type-arg]
    written_at: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_version: int = -1
    skipped_at: float = 0.0


class ServiceBase:
    def __init__(self, config: AppConfig, db: Database, *, clock: Clock | None = None,
                 store: ImageStore | None = None, reference: ModelReference | None = None,
                 events: EventBus | None = None) -> None:
        self.config = config
        self.db = db
        self.clock = clock or Clock()
        self.store: ImageStore = store or LocalImageStore(f"{config.core.data_dir}/images")
        self.reference = reference or ModelReference.load_default()
        self.events = events or EventBus()
        self.signer = UrlSigner(config.api.signing_secret or "unset")
        self._auth: dict[str, tuple[float, UserRow]] = {}
        self._workers: dict[str, CachedWorker] = {}
        self._names: dict[str, tuple[float, int | None]] = {}
        self._hint: dict[str, tuple[bool, float]] = {}
        self.queue_version = 0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._online: dict[str, tuple[float, list[WorkerRow]]] = {}
        self._community_cache: dict[str, tuple[float, dict[str, object]]] = {}
        self.fetch_url = None  # set by the HTTP adapter: downloads interrogation sources given as URLs
        # When raters meet gold images; unpredictable to them (tests put a seeded random.Random here).
        self.rng: random.Random = random.SystemRandom()

    @property
    def public_url(self) -> str:
        return self.config.public_url

    async def bootstrap(self) -> None:
        """Seed what every database needs: the anonymous user and the URL-signing secret."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await users_repo.ensure_anonymous(conn, now, self.config.core.anonymous_concurrency)
            secret = self.config.api.signing_secret
            if not secret:
                secret = await conn.scalar(select(Meta.value).where(Meta.key == "signing_secret"))
                if secret is None:
                    secret = secrets.token_hex(32)
                    await conn.execute(Meta.__table__.insert().values(key="signing_secret", value=secret))
        self.signer = UrlSigner(secret)

    # --- signed URLs (the signature is the capability) ------------------------------------------

    def upload_url(self, job_id: str) -> str:
        """Where a worker PUTs a job's result: straight into the store when it presigns (S3), else our route."""
        ttl = self.config.core.image_job_ttl * 4
        presigned = self.store.presigned_put(f"img/{job_id}.webp", ttl)
        if presigned is not None:
            return presigned
        exp = int(self.clock.now()) + ttl
        return self.signer.sign(self.public_url, f"/api/v2/r2/upload/{job_id}", exp)

    def download_url(self, key: str) -> str:
        """Where anyone holding the link GETs an image: the store's presigned URL (S3), else our route."""
        ttl = self.config.api.download_url_ttl_seconds
        presigned = self.store.presigned_get(key, ttl)
        if presigned is not None:
            return presigned
        exp = int(self.clock.now()) + ttl
        exp -= exp % 60  # stable for a minute, so polling clients see the same URL
        return self.signer.sign(self.public_url, f"/api/v2/r2/{key}", exp)

    def check_signature(self, path: str, exp: str, sig: str) -> None:
        if not self.signer.verify(path, exp, sig, self.clock.now()):
            raise Forbidden("This link is invalid or has expired.", rc="InvalidSignature")

    # --- authentication -------------------------------------------------------------------

    async def authenticate(self, apikey: str | None, *, allow_anonymous: bool = True) -> UserRow:
        """The user behind an API key; a missing key is the anonymous user where that is allowed."""
        key = (apikey or "").strip() or ANONYMOUS_KEY
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._auth.get(digest)
        if hit is not None and now - hit[0] < AUTH_TTL:
            user = hit[1]
        else:
            async with self.db.read() as conn:
                found = await users_repo.by_key_hash(conn, digest)
            if found is None:
                raise InvalidAPIKey("No user matching sent API Key. Have you remembered to register at "
                                    "this horde (`python main.py user create NAME`)?")
            user = found
            if len(self._auth) > 50_000:
                self._auth.clear()
            self._auth[digest] = (now, user)
        if user.anonymous and not allow_anonymous:
            raise InvalidAPIKey("Anonymous users cannot do this; use a registered API key.",
                                rc="AnonForbidden", status=403)
        return user

    def forget_key(self) -> None:
        """Drop cached authentications (after a key changes)."""
        self._auth.clear()

    # --- queue hint -----------------------------------------------------------------------

    def note_waiting(self, kind: str) -> None:
        self._hint[kind] = (True, time.monotonic())
        self.queue_version += 1

    async def maybe_waiting(self, kind: str) -> bool:
        """False only when nothing of this kind waited at our last look, under a second ago."""
        hit = self._hint.get(kind)
        now = time.monotonic()
        if hit is not None and now - hit[1] < HINT_TTL:
            return hit[0]
        async with self.db.read() as conn:
            waiting = await lifecycle.anything_waiting(conn, kind)
        if hit is None or hit[0] != waiting:
            self.queue_version += 1
        self._hint[kind] = (waiting, now)
        return waiting

    def is_upstream_user(self, user_id: int) -> bool:
        """Whether this user is upstream mode's system user (set once the relay runs)."""
        return False

    # --- rate limits ----------------------------------------------------------------------

    def rate_limited(self, key: str, rate: float | None = None, burst: int | None = None) -> bool:
        """Token bucket per key: generation requests per API key by default, or `rate` a second up to `burst`."""
        if rate is None or burst is None:
            rate, burst = self.config.api.requests_per_second, self.config.api.request_burst
        now = self.clock.now()
        tokens, last = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return True
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:
            self._buckets.clear()
        return False
