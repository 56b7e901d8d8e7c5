"""HMAC-signed, expiring URLs: the signature is the capability (no apikey on uploads or downloads)."""

from __future__ import annotations

import hashlib
import hmac


class UrlSigner:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def signature(self, path: str, expires: int) -> str:
        msg = f"{path}\n{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def sign(self, base_url: str, path: str, expires: int) -> str:
        return f"{base_url}{path}?exp={expires}&sig={self.signature(path, expires)}"

    def pseudonym(self, kind: str, value: object) -> str:
        """A stable, opaque stand-in for an id (exports name raters by it). The message has no URL path's
        shape, so a pseudonym is never a valid link signature."""
        return hmac.new(self._secret, f"pseudonym\n{kind}\n{value}".encode(), hashlib.sha256).hexdigest()[:20]

    def verify(self, path: str, expires: str, signature: str, now: float) -> bool:
        """Anything a client can put in a query string is a no, never an exception."""
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 12 or int(expires) < now:
            return False
        return hmac.compare_digest(self.signature(path, int(expires)).encode(), signature.encode("utf-8", "replace"))
