"""Upstream mode's books: kudos spent at the upstream and outcomes per community and day, the pauses of
communities the upstream refused, and the relay's health, all in the database so that `main.py upstream
status` (another process) and every node see the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from horde_core.models import Meta, UpstreamDay, UpstreamPause

from .base import ServiceBase

HEALTH_KEY = "upstream_health"
EVERYONE = "*"  # the pause of every community: the upstream timed out the operator's key or address
_DAYS = UpstreamDay.__table__
_PAUSES = UpstreamPause.__table__


class UpstreamBooksMixin(ServiceBase):
    async def _upstream_closed(self, now: float) -> set[str] | None:
        """Communities that may not use the upstream now (paused, or over their daily budget); None when
        nobody may (paused for everyone, or the day's whole budget spent)."""
        settings = self.config.upstream
        async with self.db.read() as conn:
            pauses = (await conn.execute(select(_PAUSES.c.community).where(_PAUSES.c.until > now))).all()
            spent = {r.community: float(r.kudos) for r in (await conn.execute(
                select(_DAYS.c.community, _DAYS.c.kudos).where(_DAYS.c.day == _day(now)))).all()}
        closed = {p.community for p in pauses}
        if EVERYONE in closed or (settings.daily_budget and sum(spent.values()) >= settings.daily_budget):
            return None
        if settings.daily_budget_per_community:
            closed.update(c for c, k in spent.items() if c and k >= settings.daily_budget_per_community)
        return closed

    async def _upstream_pause(self, community: str, reason: str) -> None:
        now = self.clock.now()
        until = now + (self.config.upstream.pause_seconds if community != EVERYONE
                       else self.config.upstream.backoff_seconds * 20)
        async with self.db.transaction() as conn:
            done = await conn.execute(update(_PAUSES).where(_PAUSES.c.community == community)
                                      .values(until=until, reason=reason, at=now))
            if not done.rowcount:
                await conn.execute(insert(_PAUSES).values(community=community, until=until, reason=reason, at=now))

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
        """What `main.py upstream status` shows from another process: last success, last error, account."""
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
        return {
            "today": _day(now),
            "days": [{"day": r.day, "community": r.community or "(API users)", "kudos": r.kudos, "sent": r.sent,
                      "done": r.done, "failed": r.failed, "refused": r.refused} for r in rows],
            "pauses": [{"community": p.community, "until": p.until, "reason": p.reason} for p in pauses],
            "health": json.loads(raw) if raw else {},
        }


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


__all__ = ["EVERYONE", "UpstreamBooksMixin"]
