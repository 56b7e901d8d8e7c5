"""Errors the core raises for anything a caller did wrong; the API maps them to 4xx JSON."""

from __future__ import annotations


class HordeError(Exception):
    status = 400
    rc = "BadRequest"

    def __init__(self, message: str, *, rc: str | None = None, status: int | None = None,
                 errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if rc:
            self.rc = rc
        if status:
            self.status = status
        self.errors = errors or {}


class BadRequest(HordeError):
    pass


class InvalidAPIKey(HordeError):
    status = 401
    rc = "InvalidAPIKey"


class Forbidden(HordeError):
    status = 403
    rc = "Forbidden"


class NotFound(HordeError):
    status = 404
    rc = "NotFound"


class RequestNotFound(NotFound):
    rc = "RequestNotFound"


class TooMany(HordeError):
    status = 429
    rc = "TooManyPrompts"


class Conflict(HordeError):
    status = 409
    rc = "Conflict"
