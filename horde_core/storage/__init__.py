"""Image storage behind a small interface, and signed URLs that act as capabilities."""

from horde_core.config import AppConfig
from horde_core.storage.images import ImagePool
from horde_core.storage.local import LocalImageStore
from horde_core.storage.signing import UrlSigner
from horde_core.storage.store import ImageStore, check_key


async def open_store(config: AppConfig) -> ImageStore:
    """The store `core.image_store` names, ready to use (main.py closes it at shutdown)."""
    if config.core.image_store == "s3":
        from horde_core.storage.s3 import S3ImageStore

        return await S3ImageStore(config.s3).open()
    return LocalImageStore(f"{config.core.data_dir}/images")


__all__ = ["ImagePool", "ImageStore", "LocalImageStore", "UrlSigner", "check_key", "open_store"]
