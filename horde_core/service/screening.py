"""The prompt filter in the request path, with its terms kept in the database so administrators can
edit them (seeded from the list shipped in the repo on first start)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from horde_core.models import Meta
from horde_core.safety.prompt_filter import PromptFilter, load_default_terms, split_negative

from .errors import BadRequest
from .safety import SafetyMixin

TERMS_KEY = "prompt_filter_terms"
FILTER_TTL = 60.0  # another node's edit of the terms is picked up within this long


class ScreeningMixin(SafetyMixin):
    _filter: tuple[PromptFilter, float] | None = None

    async def bootstrap(self) -> None:
        """Seed the filter's terms on first start and build it before the first request needs it."""
        await super().bootstrap()
        await self.prompt_filter()

    async def prompt_filter(self) -> PromptFilter:
        hit = self._filter
        if hit is not None and time.monotonic() - hit[1] < FILTER_TTL:
            return hit[0]
        terms = await self.filter_terms()
        built = PromptFilter(terms)
        self._filter = (built, time.monotonic())
        return built

    async def filter_terms(self) -> dict[str, Any]:
        """The terms in force: the database's copy, seeded from the shipped defaults."""
        async with self.db.read() as conn:
            stored = await conn.scalar(select(Meta.value).where(Meta.key == TERMS_KEY))
        if stored is not None:
            return dict(json.loads(stored))
        terms = load_default_terms()
        await self.set_filter_terms(terms)
        return terms

    async def set_filter_terms(self, terms: dict[str, Any]) -> None:
        """Replace the terms (an administrator's edit); they must compile, or nothing changes."""
        async with self.db.transaction() as conn:
            built = await self._save_terms(conn, terms)
        self._filter = (built, time.monotonic())

    async def _save_terms(self, conn: Any, terms: dict[str, Any]) -> PromptFilter:
        """Write the terms inside the caller's transaction, once they compile; the filter built from them."""
        try:
            built = PromptFilter(terms)
        except (ValueError, KeyError, TypeError) as exc:
            raise BadRequest(f"These filter terms are not valid: {exc}", rc="InvalidFilterTerms") from exc
        encoded = json.dumps(terms, ensure_ascii=False, sort_keys=True)
        table = Meta.__table__
        done = await conn.execute(table.update().where(table.c.key == TERMS_KEY).values(value=encoded))
        if not done.rowcount:
            await conn.execute(table.insert().values(key=TERMS_KEY, value=encoded))
        return built

    async def screen_prompt(self, user_id: int, anonymous: bool, prompt: str, *, replacement: bool,
                            proxied_account: str | None, ipaddr: str, client_agent: str, strike: bool = True) -> str:
        """The prompt to queue: unchanged, rewritten by the replacement filter, or refused (a strike)."""
        checker = await self.prompt_filter()
        verdict = checker.check(prompt)
        if not verdict.blocked:
            return prompt
        who = self.subject(user_id, anonymous, proxied_account, ipaddr)
        if replacement:
            rewritten = checker.rewrite(prompt)
            if rewritten is not None:
                safe, negative = rewritten
                return f"{safe} ### {negative}" if negative else safe
        if strike:
            await self.record_strike(who, "blocked_prompt", prompt=prompt, verdict=verdict.to_dict(),
                                     client_agent=client_agent, action="blocked")
        raise BadRequest("This prompt was blocked: it asks for sexual content involving minors. Repeated "
                         "attempts lead to timeouts.", rc="CorruptPrompt")


__all__ = ["ScreeningMixin", "split_negative"]
