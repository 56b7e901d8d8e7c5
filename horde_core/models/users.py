"""People of the horde and the outside identities (e.g. `discord:<id>`) that point at them."""

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base

ANONYMOUS_USER_ID = 0


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100))
    # sha256 of the API key; the key itself is shown once and never stored.
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Materialised balance; it only changes together with a ledger row (see ledger/).
    kudos: Mapped[int] = mapped_column(BigInteger, default=0)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    concurrency: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[float] = mapped_column(Float)
    # Roles as AI Horde names them: moderators run the horde's moderation (API and web pages), customizers may
    # create styles and collections, flagged users are watched (their workers are not trusted to be paid).
    moderator: Mapped[bool] = mapped_column(Boolean, default=False)
    customizer: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)


class Identity(Base):
    __tablename__ = "identities"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[float] = mapped_column(Float)
