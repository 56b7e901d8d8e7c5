"""HordeService: the one door into the core for the HTTP API, the CLI and the bot."""

from horde_core.users.repo import UserRow

from .accounts import AccountsMixin
from .alchemy import AlchemyMixin
from .communities import CommunityMixin
from .datasets import DatasetMixin
from .dto import (
    Accepted,
    AlchemyStatus,
    FormStatus,
    Generation,
    ModelStatus,
    PoppedForm,
    PoppedJob,
    Progress,
    RequestStatus,
    UserInfo,
    WorkerInfo,
)
from .errors import BadRequest, Conflict, Forbidden, HordeError, InvalidAPIKey, NotFound, RequestNotFound, TooMany
from .horde_status import StatusMixin
from .ratings import RatingsMixin
from .results import ResultsMixin
from .social import GiftError, GiftRules, MemberFacts, SocialMixin
from .sweeps import SweepMixin
from .text import TextMixin
from .upstream import EVERYONE, UpstreamJob, UpstreamMixin


class HordeService(UpstreamMixin, AlchemyMixin, TextMixin, SweepMixin, StatusMixin, AccountsMixin, CommunityMixin,
                   ResultsMixin, SocialMixin, RatingsMixin, DatasetMixin):
    """Every use case of the core, each one transaction. Returns plain DTOs; raises HordeError."""


__all__ = [
    "EVERYONE",
    "Accepted",
    "AlchemyStatus",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "FormStatus",
    "Generation",
    "GiftError",
    "GiftRules",
    "HordeError",
    "HordeService",
    "InvalidAPIKey",
    "MemberFacts",
    "ModelStatus",
    "NotFound",
    "PoppedForm",
    "PoppedJob",
    "Progress",
    "RequestNotFound",
    "RequestStatus",
    "TooMany",
    "UpstreamJob",
    "UserInfo",
    "UserRow",
    "WorkerInfo",
]
