"""HordeService: the one door into the core for the HTTP API, the CLI and the bot."""

from .accounts import AccountsMixin
from .dto import Accepted, Generation, ModelStatus, PoppedJob, Progress, RequestStatus, UserInfo, WorkerInfo
from .errors import BadRequest, Forbidden, HordeError, InvalidAPIKey, NotFound, RequestNotFound, TooMany
from .horde_status import StatusMixin
from .sweeps import SweepMixin
from .text import TextMixin


class HordeService(TextMixin, SweepMixin, StatusMixin, AccountsMixin):
    """Every use case of the core, each one transaction. Returns plain DTOs; raises HordeError."""


__all__ = [
    "Accepted",
    "BadRequest",
    "Forbidden",
    "Generation",
    "HordeError",
    "HordeService",
    "InvalidAPIKey",
    "ModelStatus",
    "NotFound",
    "PoppedJob",
    "Progress",
    "RequestNotFound",
    "RequestStatus",
    "TooMany",
    "UserInfo",
    "WorkerInfo",
]
