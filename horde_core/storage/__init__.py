"""Image storage behind a small interface, and signed URLs that act as capabilities."""

from horde_core.storage.images import ImagePool
from horde_core.storage.local import LocalImageStore
from horde_core.storage.signing import UrlSigner
from horde_core.storage.store import ImageStore

__all__ = ["ImagePool", "ImageStore", "LocalImageStore", "UrlSigner"]
