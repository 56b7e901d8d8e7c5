"""HordeService: the one door into the core for the HTTP API, the CLI and the bot."""

from horde_core.catalogue import Entry as CatalogueItem
from horde_core.users.repo import UserRow

from .alchemy import AlchemyMixin
from .catalogue import CatalogueIndexes, CatalogueMixin, Compatibility
from .datasets import DatasetMixin
from .deliveries import DeliveriesMixin, Delivery, DeliverySpec
from .documents import DocumentsMixin
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
from .fairness import FairnessRules
from .filters_api import FiltersMixin
from .gallery import GalleryEntry, GalleryMixin, GalleryPage
from .info import InfoMixin, KindStatus
from .parties import PartyAward, PartyInfo, PartyMixin, PartySummary
from .ratings import RatingsMixin
from .results import ResultsMixin
from .roles import RolesMixin
from .sharing import SharedKeyInfo, SharedKeysMixin
from .social import GiftError, GiftRules, MemberFacts, SocialMixin
from .style_collections import CollectionsMixin
from .styles import StyleChoice, StyleLimits, StylesMixin
from .sweeps import SweepMixin
from .teams import TeamInfo, TeamsMixin
from .text import TextMixin
from .upstream import EVERYONE, UpstreamJob, UpstreamMixin
from .users_admin import UsersAdminMixin
from .web_account import WebAccountMixin
from .webhooks import WebhookMixin
from .worker_edits import WorkerEditsMixin
from .worker_messages import WorkerMessagesMixin


class HordeService(UpstreamMixin, WebAccountMixin, AlchemyMixin, TextMixin, SweepMixin, InfoMixin, ResultsMixin,
                   SocialMixin, RatingsMixin, DatasetMixin, CatalogueMixin, GalleryMixin, PartyMixin, DeliveriesMixin,
                   RolesMixin, CollectionsMixin, UsersAdminMixin, DocumentsMixin, WorkerMessagesMixin,
                   FiltersMixin, SharedKeysMixin, WorkerEditsMixin, TeamsMixin,
                   WebhookMixin):
    """Every use case of the core, each one transaction. Returns plain DTOs; raises HordeError."""


__all__ = [
    "EVERYONE",
    "Accepted",
    "AlchemyStatus",
    "BadRequest",
    "CatalogueIndexes",
    "CatalogueItem",
    "Compatibility",
    "Conflict",
    "Delivery",
    "DeliverySpec",
    "FairnessRules",
    "Forbidden",
    "FormStatus",
    "GalleryEntry",
    "GalleryPage",
    "Generation",
    "GiftError",
    "GiftRules",
    "HordeError",
    "HordeService",
    "InvalidAPIKey",
    "KindStatus",
    "MemberFacts",
    "ModelStatus",
    "NotFound",
    "PartyAward",
    "PartyInfo",
    "PartySummary",
    "PoppedForm",
    "PoppedJob",
    "Progress",
    "RequestNotFound",
    "RequestStatus",
    "SharedKeyInfo",
    "StyleChoice",
    "StyleLimits",
    "StylesMixin",
    "TeamInfo",
    "TooMany",
    "UpstreamJob",
    "UserInfo",
    "UserRow",
    "WorkerInfo",
]
