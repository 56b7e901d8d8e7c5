"""SQLAlchemy 2.0 typed tables. Plain data: no methods that commit, call out or know Discord."""

from horde_core.models.abuse import ModerationEntry, Penalty, Strike
from horde_core.models.base import Base, metadata
from horde_core.models.communities import CommunitySettings, SettingsChange
from horde_core.models.deliveries import Delivery
from horde_core.models.gifts import Gift
from horde_core.models.jobs import Job, Request
from horde_core.models.ledger import LedgerEntry, Meta
from horde_core.models.limits import RateBucket
from horde_core.models.members import CatalogueEntry, Favourite
from horde_core.models.parties import Party, PartyEntry
from horde_core.models.ratings import DatasetImage, RaterTrust, Rating
from horde_core.models.sharing import SharedKey, SharedKeyCharge, Team
from horde_core.models.stats import StatsMinute
from horde_core.models.styles import Style, StyleCollection, StyleCollectionMember, StyleExample, StyleModel, StyleTag
from horde_core.models.upstream import UpstreamDay, UpstreamPause
from horde_core.models.users import ANONYMOUS_USER_ID, Identity, User
from horde_core.models.webhooks import Webhook
from horde_core.models.worker_messages import WorkerMessage
from horde_core.models.workers import Worker, WorkerStat

__all__ = [
    "ANONYMOUS_USER_ID",
    "Base",
    "CatalogueEntry",
    "CommunitySettings",
    "DatasetImage",
    "Delivery",
    "Favourite",
    "Gift",
    "Identity",
    "Job",
    "LedgerEntry",
    "Meta",
    "ModerationEntry",
    "Party",
    "PartyEntry",
    "Penalty",
    "RateBucket",
    "RaterTrust",
    "Rating",
    "Request",
    "SettingsChange",
    "SharedKey",
    "SharedKeyCharge",
    "StatsMinute",
    "Strike",
    "Style",
    "StyleCollection",
    "StyleCollectionMember",
    "StyleExample",
    "StyleModel",
    "StyleTag",
    "Team",
    "UpstreamDay",
    "UpstreamPause",
    "User",
    "Webhook",
    "Worker",
    "WorkerMessage",
    "WorkerStat",
    "metadata",
]
