"""What every use case of the service may use: storage, settings, clock, and the node's named parts.

The per-node state (caches, rate buckets, hints, the event bus) lives in `horde_core.parts`, one part per
concern, each built by main.py in its in-process or shared form and handed in here as `NodeParts`. The use
cases name the part they touch (`self.auth_cache`, `self.workers`, `self.online`, `self.limits`,
`self.settings_cache`, `self.hints`, `self.events`); nothing else in the service keeps state between calls.
"""

from __future__ import annotations

import asyncio
import random
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from horde_core.clock import Clock
from horde_core.config import AppConfig
from horde_core.db import Database
from horde_core.events import Bus
from horde_core.models import Meta
from horde_core.parts import CachedWorker, NodeParts, in_process_parts
from horde_core.queue import lifecycle
from horde_core.reference import ModelReference
from horde_core.storage import ImagePool, ImageStore, LocalImageStore, UrlSigner
from horde_core.users import repo as users_repo
from horde_core.users.keys import ANONYMOUS_KEY, hash_key
from horde_core.users.repo import UserRow

from .errors import Forbidden, InvalidAPIKey
from .login_guard import LoginGuard
from .sharing_rules import check_shared_use, looks_like_shared_key, shared_key_digest
from .sharing_rules import holder as shared_key_holder
from .snapshots import Snapshots
from .tally import Tally


class ServiceBase:
    def __init__(self, config: AppConfig, db: Database, *, clock: Clock | None = None,
                 store: ImageStore | None = None, reference: ModelReference | None = None,
                 parts: NodeParts | None = None, events: Bus | None = None,
                 images: ImagePool | None = None) -> None:
        self.config = config
        self.db = db
        self.clock = clock or Clock()
        self.store: ImageStore = store or LocalImageStore(f"{config.core.data_dir}/images")
        # Every image the core decodes or encodes goes through this pool, never the event loop.
        self.images = images or ImagePool(config.core.image_threads)
        self.reference = reference or ModelReference.load_default()
        self.parts = parts or in_process_parts(self.clock, events)
        # The node's parts, by name (horde_core/parts says what each holds and how it is shared).
        self.events = self.parts.events
        self.auth_cache = self.parts.auth
        self.workers = self.parts.workers
        self.online = self.parts.online
        self.limits = self.parts.limits
        self.settings_cache = self.parts.communities
        self.hints = self.parts.hints
        # Web pages and /metrics (issue 15): read views rebuilt per node, this node's own job counters (only
        # its own events: Prometheus sums the nodes), wrong web logins per address (the shared limiter).
        self.snapshots = Snapshots()
        self.tally = Tally()
        self.tally.listen(self.events)
        self.login_guard = LoginGuard(self.limits, config.web.login_attempts, config.web.login_window)
        self.signer = UrlSigner(config.api.signing_secret or "unset")
        self.fetch_url = None  # set by the HTTP adapter: downloads interrogation sources given as URLs
        self.webhook_wake: asyncio.Event | None = None  # set while this node sends webhooks (service/webhooks.py)
        # When raters meet gold images; unpredictable to them (tests put a seeded random.Random here).
        self.rng: random.Random = random.SystemRandom()

    def wake_webhooks(self) -> None:
        """A webhook delivery was queued: this node's sender looks now instead of at its next interval."""
        if self.webhook_wake is not None:
            self.webhook_wake.set()

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
                if secret is None:  # the first node to start makes it; a node starting beside it reads theirs
                    try:
                        async with conn.begin_nested():
                            await conn.execute(Meta.__table__.insert().values(key="signing_secret",
                                                                              value=secrets.token_hex(32)))
                    except IntegrityError:
                        pass
                    secret = await conn.scalar(select(Meta.value).where(Meta.key == "signing_secret"))
        self.signer = UrlSigner(secret)

    # --- signed URLs (the signature is the capability) ------------------------------------------

    def upload_url(self, key: str) -> str:
        """Where the claim that owns upload `key` PUTs its result (the key is fresh per claim): straight into the
        store when it presigns (S3), else our route, which refuses the PUT once that claim no longer holds its
        job. Either way only the accepted submit's upload is read, checked and published under the job's own
        key, so a stale or second PUT never changes a delivered image."""
        ttl = self.config.core.image_job_ttl * 4
        presigned = self.store.presigned_put(key, ttl)
        if presigned is not None:
            return presigned
        exp = int(self.clock.now()) + ttl
        return self.signer.sign(self.public_url, f"/api/v2/r2/upload/{key}", exp)

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

    async def authenticate(self, apikey: str | None, *, allow_anonymous: bool = True,
                           allow_shared: bool = False) -> UserRow:
        """The user behind an API key; a missing key is the anonymous user where that is allowed. A shared key
        (service/sharing.py) counts only where `allow_shared` says so: generation requests."""
        key = (apikey or "").strip() or ANONYMOUS_KEY
        digest = hash_key(key)
        user = self.auth_cache.get(digest)
        if user is None:
            async with self.db.read() as conn:
                found = await users_repo.by_key_hash(conn, digest)
                if found is None and looks_like_shared_key(key):
                    found = await shared_key_holder(conn, shared_key_digest(key))
            if found is None:
                raise InvalidAPIKey("No user matching sent API Key. Have you remembered to register at "
                                    "this horde (`python main.py user create NAME`)?")
            user = found
            self.auth_cache.put(digest, user)
        if user.shared_key is not None:
            check_shared_use(user.shared_key, allow_shared, self.clock.now())
        if user.anonymous and not allow_anonymous:
            raise InvalidAPIKey("Anonymous users cannot do this; use a registered API key.",
                                rc="AnonForbidden", status=403)
        return user

    # --- queue hint (the `hints` part) ------------------------------------------------------------

    def note_waiting(self, kind: str) -> None:
        """Jobs of this kind wait now (queued, requeued): every node's poppers look again."""
        self.hints.note(kind)

    async def maybe_waiting(self, kind: str) -> bool:
        """False only when nothing of this kind waited at our last look, under a second ago."""

        async def load() -> bool:
            async with self.db.read() as conn:
                return await lifecycle.anything_waiting(conn, kind)

        return await self.hints.maybe(kind, load)

    def is_upstream_user(self, user_id: int) -> bool:
        """Whether this user is upstream mode's system user (set once the relay runs)."""
        return False

    # --- rate limits (the `limits` part) ------------------------------------------------------------

    async def over_request_limit(self, key: str) -> bool:
        """The API's request limit (`api.requests_per_second`, `api.request_burst`) for one requester."""
        return await self.limits.limited(key, self.config.api.requests_per_second, self.config.api.request_burst)


__all__ = ["CachedWorker", "ServiceBase"]
