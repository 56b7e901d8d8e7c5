"""The append-only kudos ledger (double entry between accounts) and small key/value metadata.

Accounts are strings: `user:<id>`, `escrow:<request id>`, `mint` (where kudos come from)
and `burn` (where the horde tax goes). Balances of users and escrows are materialised on
their rows and change only in the same transaction as the ledger row that explains them.
"""

from sqlalchemy import BigInteger, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from horde_core.models.base import Base


class LedgerEntry(Base):
    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    debit: Mapped[str] = mapped_column(String(64), index=True)  # where the kudos leave
    credit: Mapped[str] = mapped_column(String(64), index=True)  # where they arrive
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class Meta(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
