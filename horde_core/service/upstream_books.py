"""Upstream mode's books: kudos spent at the upstream and outcomes per community and day, the holds and
pauses (of members, communities or everyone), the relay's health and the operator's account as last seen,
the proxy passkey and the secret behind each member's `Proxied-For` value, all in the database so that
`main.py upstream status` (another process) and every node see the same."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from horde_core.models import Meta, UpstreamDay, UpstreamPause

from .base import ServiceBase

HEALTH_KEY = "upstream_health"
PASSKEY_KEY = "upstream_proxy_passkey"
SECRET_KEY = "upstream_proxy_secret"
EVERYONE = "*"  # the pause of everyone: the upstream timed out the operator's address, or refused too often
# Holds of one requester use their strike subject as the key; everything else is a community ("discord:1").
SUBJECT_PREFIXES = ("member:", "user:", "ip:")
REFUSED = "refused"  # reason prefix of the holds a refusal leaves (counted for community and global pauses)
_DAYS = UpstreamDay.__table__
_PAUSES = UpstreamPause.__table__
_META = Meta.__table__


class UpstreamBooksMixin(ServiceBase):
    _proxy_secret: bytes | None = None

    async def _upstream_closed(self, now: float) -> set[str] | None:
        """Who may not use the upstream now: communities (paused, or over their daily budget) and held
        requesters (their strike subjects); None when nobody may (everyone paused, or the day's budget spent:
        what our books say or, when more, what the operator's account lost today)."""
        settings = self.config.upstream
        async with self.db.read() as conn:
            pauses = (await conn.execute(select(_PAUSES.c.community).where(_PAUSES.c.until > now))).all()
            spent = {r.community: float(r.kudos) for r in (await conn.execute(
                select(_DAYS.c.community, _DAYS.c.kudos).where(_DAYS.c.day == _day(now)))).all()}
            raw = await conn.scalar(select(Meta.value).where(Meta.key == HEALTH_KEY)) if settings.daily_budget else None
        closed = {p.community for p in pauses}
        total = max(sum(spent.values()), _account_spent(json.loads(raw) if raw else {}, now))
        if EVERYONE in closed or (settings.daily_budget and total >= settings.daily_budget):
            return None
        if settings.daily_budget_per_community:
            closed.update(c for c, k in spent.items() if c and k >= settings.daily_budget_per_community)
        return closed

    async def _upstream_pause(self, key: str, reason: str, seconds: float, *, extend_only: bool = False) -> float:
        """Keep `key` (a community, a requester's subject, or EVERYONE) off the upstream for `seconds`;
        the time it ends. `extend_only`: never shorten a pause already in force."""
        now = self.clock.now()
        until = now + max(0.0, seconds)
        async with self.db.transaction() as conn:
            if extend_only:
                current = await conn.scalar(select(_PAUSES.c.until).where(_PAUSES.c.community == key))
                if current is not None and current > until:
                    return float(current)
            done = await conn.execute(update(_PAUSES).where(_PAUSES.c.community == key)
                                      .values(until=until, reason=reason[:500], at=now))
            if not done.rowcount:
                await conn.execute(insert(_PAUSES).values(community=key, until=until, reason=reason[:500], at=now))
            # Old holds are kept for a while (they count refusals), then forgotten.
            horizon = now - 2 * max(self.config.upstream.pause_window, 3600.0)
            await conn.execute(delete(_PAUSES).where(_PAUSES.c.until < horizon, _PAUSES.c.at < horizon))
        return until

    # --- the proxy passkey and each member's Proxied-For ------------------------------------------

    async def upstream_passkey(self) -> tuple[str, str]:
        """(passkey, where it came from: "config", "database" or ""): the config's wins."""
        if self.config.upstream.proxy_passkey:
            return self.config.upstream.proxy_passkey, "config"
        async with self.db.read() as conn:
            stored = await conn.scalar(select(Meta.value).where(Meta.key == PASSKEY_KEY))
        return (stored, "database") if stored else ("", "")

    async def upstream_store_passkey(self, passkey: str) -> None:
        """Keep a passkey the upstream generated (`main.py upstream passkey`); relays pick it up within a
        minute. An empty one forgets it (proxying stops)."""
        await self._meta_put(PASSKEY_KEY, passkey or None)

    async def _upstream_secret(self) -> bytes:
        """The secret behind every member's Proxied-For value: made once, kept in the database, so the
        values stay the same across restarts and nodes (and mean nothing without it)."""
        if self._proxy_secret is None:
            async with self.db.read() as conn:
                stored = await conn.scalar(select(Meta.value).where(Meta.key == SECRET_KEY))
            if stored is None:
                try:
                    async with self.db.transaction() as conn:
                        await conn.execute(insert(_META).values(key=SECRET_KEY, value=secrets.token_hex(32)))
                except IntegrityError:
                    pass  # another node made it first: use theirs
                async with self.db.read() as conn:
                    stored = await conn.scalar(select(Meta.value).where(Meta.key == SECRET_KEY))
            self._proxy_secret = bytes.fromhex(str(stored))
        return self._proxy_secret

    async def _meta_put(self, key: str, value: str | None) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(delete(_META).where(_META.c.key == key))
            if value is not None:
                await conn.execute(insert(_META).values(key=key, value=value))

    async def _upstream_count(self, community: str, *, window: float = 0.0, **amounts: float) -> int:
        """Add to today's row of the community; returns its refusals within `window` (when asked)."""
        now = self.clock.now()
        day = _day(now)
        C = _DAYS.c
        async with self.db.transaction() as conn:
            values = {k: getattr(C, k) + v for k, v in amounts.items()}
            done = await conn.execute(update(_DAYS).where(C.day == day, C.community == community).values(**values))
            if not done.rowcount:
                try:
                    async with conn.begin_nested():
                        zero = {"kudos": 0.0, "sent": 0, "done": 0, "failed": 0, "refused": 0}
                        await conn.execute(insert(_DAYS).values(day=day, community=community,
                                                                **{**zero, **amounts}))
                except IntegrityError:
                    await conn.execute(update(_DAYS).where(C.day == day, C.community == community).values(**values))
            if not window:
                return 0
            days = sorted({_day(now - window), day})
            return int(await conn.scalar(select(func.coalesce(func.sum(C.refused), 0))
                                         .where(C.community == community, C.day.in_(days))) or 0)

    async def upstream_health(self, *, ok: bool = False, error: str = "",
                              account: dict[str, Any] | None = None) -> None:
        """What `main.py upstream status` shows from another process: last success, last error, and the
        operator's account as last seen, with its kudos at the first and last look of the day (what the
        upstream's ledger took today, whoever the books credit it to)."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            raw = await conn.scalar(select(Meta.value).where(Meta.key == HEALTH_KEY))
            health = json.loads(raw) if raw else {}
            if ok:
                health["last_ok"] = now
            if error:
                health["last_error"], health["last_error_at"] = error[:300], now
            if account is not None:
                health["account"], health["account_at"] = account, now
                kudos = _float(account.get("kudos"))
                if kudos is not None:
                    ledger = health.get("ledger") or {}
                    if ledger.get("day") != _day(now):
                        ledger = {"day": _day(now), "first": kudos}
                    ledger["last"] = kudos
                    health["ledger"] = ledger
            encoded = json.dumps(health)
            if raw is None:
                await conn.execute(Meta.__table__.insert().values(key=HEALTH_KEY, value=encoded))
            else:
                await conn.execute(Meta.__table__.update().where(Meta.key == HEALTH_KEY).values(value=encoded))

    async def upstream_report(self, days: int = 7) -> dict[str, Any]:
        """Spend and outcomes per community and day, pauses in force, and the relay's last health."""
        now = self.clock.now()
        first = _day(now - days * 86400)
        async with self.db.read() as conn:
            rows = (await conn.execute(select(_DAYS).where(_DAYS.c.day >= first)
                                       .order_by(_DAYS.c.day.desc(), _DAYS.c.kudos.desc()))).all()
            pauses = (await conn.execute(select(_PAUSES).where(_PAUSES.c.until > now))).all()
            raw = await conn.scalar(select(Meta.value).where(Meta.key == HEALTH_KEY))
        health = json.loads(raw) if raw else {}
        passkey, source = await self.upstream_passkey()
        return {
            "today": _day(now),
            "proxying": bool(passkey), "passkey_source": source,
            "account_spent_today": _account_spent(health, now),
            "days": [{"day": r.day, "community": r.community or "(API users)", "kudos": r.kudos, "sent": r.sent,
                      "done": r.done, "failed": r.failed, "refused": r.refused} for r in rows],
            "pauses": [{"community": p.community, "until": p.until, "reason": p.reason} for p in pauses],
            "health": health,
        }


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _account_spent(health: dict[str, Any], now: float) -> float:
    """Kudos the operator's account lost today as far as the relay saw (0 when it gained)."""
    ledger = health.get("ledger") or {}
    if ledger.get("day") != _day(now):
        return 0.0
    return max(0.0, float(ledger.get("first", 0.0)) - float(ledger.get("last", 0.0)))


__all__ = ["EVERYONE", "REFUSED", "SUBJECT_PREFIXES", "UpstreamBooksMixin"]
