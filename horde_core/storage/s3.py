"""Images in an S3-compatible bucket (AWS S3, Cloudflare R2, SeaweedFS, MinIO ...): the store several nodes share.

Workers PUT their results and clients GET images straight from the bucket through presigned URLs (what AI Horde
does with R2), so image bytes do not pass through an API node. The node itself reads and writes only what it
must: sources and base64 results it was sent, a result it validates once at submit, and the bot's downloads.

Two clients: aiobotocore for the data operations (async, a pooled connection), and a plain botocore client for
presigning, which is computation only (no request leaves the node), so URLs are made without awaiting and with
the address workers and clients use (`s3.public_url`), which may differ from the nodes' own (`endpoint_url`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from typing import Any

from horde_core.config import S3Settings
from horde_core.storage.store import check_key

# Presigned GET URLs are remembered for a minute, so a client polling a request sees the same URL.
URL_STABLE_FOR = 60
_MAX_REMEMBERED = 20_000


class S3Unavailable(RuntimeError):
    """The S3 client library is missing or the bucket cannot be reached."""


def _client_kwargs(settings: S3Settings, endpoint: str, config_class: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "region_name": settings.region,
        "config": config_class(signature_version="s3v4", s3={"addressing_style": settings.addressing_style},
                               max_pool_connections=64, retries={"max_attempts": 3, "mode": "standard"}),
    }
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if settings.access_key:
        kwargs["aws_access_key_id"] = settings.access_key
        kwargs["aws_secret_access_key"] = settings.secret_key
    return kwargs


class S3ImageStore:
    """Call `open()` before use and `close()` at shutdown (main.py and the fixtures do)."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self._client: Any = None
        self._exit: contextlib.AsyncExitStack | None = None
        self._presigner: Any = None
        self._urls: dict[tuple[str, str, int], str] = {}

    async def open(self) -> S3ImageStore:
        try:
            import botocore.session
            from aiobotocore.session import get_session
        except ImportError as exc:  # pragma: no cover - the dependency ships with the project
            raise S3Unavailable("core.image_store = 's3' needs aiobotocore: pip install aiobotocore") from exc
        from aiobotocore.config import AioConfig
        from botocore.config import Config

        kwargs = _client_kwargs(self.settings, self.settings.endpoint_url, AioConfig)
        self._exit = contextlib.AsyncExitStack()
        self._client = await self._exit.enter_async_context(get_session().create_client("s3", **kwargs))
        public = self.settings.public_url or self.settings.endpoint_url
        self._presigner = botocore.session.get_session().create_client(
            "s3", **_client_kwargs(self.settings, public, Config))
        if self.settings.create_bucket:
            await self.ensure_bucket()
        return self

    async def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except ClientError:
            await self._client.create_bucket(Bucket=self.bucket)

    async def close(self) -> None:
        if self._exit is not None:
            await self._exit.aclose()
            self._exit = None
        if self._presigner is not None:
            self._presigner.close()
            self._presigner = None

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def put(self, key: str, data: bytes) -> None:
        await self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType="image/webp")

    async def get(self, key: str) -> bytes | None:
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self._client.exceptions.NoSuchKey:
            return None
        async with response["Body"] as body:
            return bytes(await body.read())

    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is none (checked before a node reads an upload)."""
        from botocore.exceptions import ClientError

        try:
            head = await self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    async def delete_many(self, keys: Iterable[str]) -> None:
        names = [self._key(k) for k in keys]
        for start in range(0, len(names), 1000):  # the most one DeleteObjects call takes
            chunk = names[start:start + 1000]
            await self._client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": name} for name in chunk], "Quiet": True})

    def presigned_get(self, key: str, expires_in: int) -> str | None:
        window = int(time.time()) // URL_STABLE_FOR
        remembered = self._urls.get((key, "get", window))
        if remembered is not None:
            return remembered
        url = self._presigner.generate_presigned_url(
            "get_object", ExpiresIn=expires_in + URL_STABLE_FOR,
            Params={"Bucket": self.bucket, "Key": self._key(key), "ResponseContentType": "image/webp"})
        if len(self._urls) > _MAX_REMEMBERED:
            self._urls.clear()
        self._urls[(key, "get", window)] = url
        return str(url)

    def presigned_put(self, key: str, expires_in: int) -> str | None:
        # No content type is signed: workers PUT the bytes with whatever headers their HTTP library sends.
        return str(self._presigner.generate_presigned_url(
            "put_object", ExpiresIn=expires_in, Params={"Bucket": self.bucket, "Key": self._key(key)}))
