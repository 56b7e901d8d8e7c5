"""Ratings: owners rate their own results; anyone registered rates the pool (the horde's shared images and
imported ones, with hidden gold images among them). Each rating is paid in kudos up to a daily cap, unless
its rater is untrusted, and records the rater's context for the dataset. Every rating updates its rater's
trust record in the same transaction (the rule: horde_core/ratings/trust.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from horde_core.ledger import book
from horde_core.ledger.gifts import lock_users
from horde_core.models import Job, LedgerEntry, Rating
from horde_core.queue import lifecycle
from horde_core.ratings import pool, raters, trust
from horde_core.users.repo import UserRow

from .base import ServiceBase
from .errors import BadRequest, Forbidden, RequestNotFound, TooMany
from .generation import parse_request_id
from .schemas import RateSpec

_J = Job.__table__.c
_L = LedgerEntry.__table__.c
_ratings = Rating.__table__

Item = tuple[str, int | None, int | None, bool]  # image id, rating, artifacts, best


class RatingsMixin(ServiceBase):
    async def _check_rater(self, user: UserRow) -> None:
        """Registered raters only, within their rate limit (a refused rating costs and pays nothing)."""
        if user.anonymous:
            raise Forbidden("Rate with a registered API key.", rc="AnonForbidden")
        rules = self.config.ratings
        if await self.limits.limited(f"rate:{user.id}", rules.ratings_per_minute / 60.0, rules.ratings_burst):
            raise TooMany(f"You are rating too fast (at most {rules.ratings_per_minute:g} a minute); wait a "
                          "little and try again.", rc="TooManyRatings")

    async def rate_own(self, user: UserRow, request_id: str, spec: RateSpec, *, client_agent: str = "") -> int:
        """Record the owner's ratings of their finished images; returns the kudos they earned."""
        if not spec.ratings and not spec.best:
            raise BadRequest("Send ratings, a best image, or both.", rc="NoRatings")
        await self._check_rater(user)
        now = self.clock.now()
        async with self.db.transaction() as conn:
            request = await lifecycle.request_row(conn, parse_request_id(request_id))
            if request is None or request.kind != "image":
                raise RequestNotFound(f"Request {request_id} not found.")
            if int(request.user_id) != user.id:
                raise Forbidden("Only the member who asked for these images can rate them here.", rc="NotOwner")
            jobs = {j.id: j for j in await lifecycle.jobs_of(conn, request.id) if j.state == "done"}
            wanted = [r.id for r in spec.ratings] + ([spec.best] if spec.best else [])
            for image_id in wanted:
                job = jobs.get(image_id)
                if job is None:
                    raise BadRequest(f"Image {image_id} is not a finished image of this request.", rc="InvalidImage")
                if job.censored:
                    raise BadRequest(f"Image {image_id} was censored and cannot be rated.", rc="CensoredImage")
            entries = {r.id: r for r in spec.ratings}
            items = [(i, entries[i].rating if i in entries else None, entries[i].artifacts if i in entries else None,
                      i == spec.best) for i in dict.fromkeys(wanted)]
            total = await self._record(conn, user, now, items, "owner", client_agent, request.id)
        self.events.publish("kudos_moved", {"from": None, "to": user.id, "amount": total, "reason": "rating"})
        return total

    async def _record(self, conn: Any, user: UserRow, now: float, items: list[Item], source: str,
                      client_agent: str, ref: str, gold: dict[str, int] | None = None) -> int:
        """Store ratings with the rater's context, fold them into the rater's trust record, and pay them up to
        the daily cap (nothing while the rater is untrusted). `gold` maps gold images to their known rating."""
        rules, gold = self.config.ratings, gold or {}
        await lock_users(conn, self.db.dialect, user.id)
        stored = await raters.load(conn, user.id)
        record = stored or raters.new_record(user.trusted)
        images = int(await conn.scalar(select(func.count()).where(_J.user_id == user.id, _J.state == "done")) or 0)
        context = json.dumps({"account_age_days": round((now - user.created_at) / 86400, 2),
                              "images_generated": images, "kudos": user.kudos, "trusted": user.trusted,
                              "rater": record.state})
        for image_id, rating, _, _ in items:
            if rating is not None:
                others = [] if image_id in gold else await raters.trusted_ratings(conn, image_id, user.id)
                record = trust.after_rating(record, rating, gold=gold.get(image_id), others=others,
                                            pool=source == "pool", rules=rules, rng=self.rng)
        await raters.save(conn, user.id, record, now, exists=stored is not None)
        earned_today = int(await conn.scalar(
            select(func.coalesce(func.sum(_L.amount), 0)).where(
                _L.credit == book.user_account(user.id), _L.reason == "rating", _L.at >= now - 86400)) or 0)
        total = 0
        for image_id, rating, artifacts, best in items:
            reward = rules.reward + (rules.artifacts_bonus if artifacts is not None else 0)
            if record.state == trust.UNTRUSTED:
                reward = 0
            reward = max(0, min(reward, rules.daily_reward_cap - earned_today - total))
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(_ratings).values(
                        at=now, image_id=image_id, rater_id=user.id, rating=rating, artifacts=artifacts, best=best,
                        source=source, client_agent=client_agent[:200], context=context, reward=reward))
            except IntegrityError:
                raise BadRequest(f"Image {image_id} was rated already.", rc="AlreadyRated") from None
            total += reward
        if total:
            await book.mint(conn, now, user.id, total, "rating", ref=ref)
        return total

    async def next_to_rate(self, user: UserRow, model: str | None = None, dataset: str | None = None, *,
                           sfw_only: bool = False) -> dict[str, Any] | None:
        """An image of the pool this user has not rated yet (the least-rated first), or None when none is left:
        `{id, model, url, dataset}` ("" model for imported images). When the rater's record says a gold image
        is due, one is served whatever the filters (a filter must not be a way around the checks); it looks like
        any other image of its dataset. `sfw_only`: none that may be NSFW (where those cannot be shown)."""
        horde = self.config.core.horde_name
        async with self.db.read() as conn:
            record = await raters.load(conn, user.id) or raters.new_record(user.trusted)
            row = await pool.pick_gold(conn, user.id, sfw_only=sfw_only) if record.gold_in <= 0 else None
            if row is None:
                row = await pool.pick(conn, user.id, horde_name=horde, model=model, dataset=dataset,
                                      sfw_only=sfw_only)
        if row is None:
            return None
        return {"id": row.id, "model": row.model, "url": self.download_url(row.image_key), "dataset": row.dataset}

    async def rate_shared(self, user: UserRow, image_id: str, rating: int, artifacts: int | None, *,
                          client_agent: str = "") -> int:
        """Anyone (registered) rates an image of the pool: a shared generated image or an imported one."""
        await self._check_rater(user)
        now = self.clock.now()
        image_id = parse_request_id(image_id)
        gone = RequestNotFound(f"Image {image_id} is not in the rating pool.", rc="ImageNotFound")
        gold: dict[str, int] = {}
        async with self.db.transaction() as conn:
            job = await lifecycle.job_row(conn, image_id)
            if job is not None:
                request = await lifecycle.request_row(conn, job.request_id)
                if request is None or not request.shared or job.kind != "image" or job.state != "done" \
                        or job.censored or job.pruned:
                    raise gone
            else:
                imported = await pool.dataset_image(conn, image_id)
                if imported is None:
                    raise gone
                if imported.gold and imported.known_rating is not None:
                    gold[image_id] = int(imported.known_rating)
            total = await self._record(conn, user, now, [(image_id, rating, artifacts, False)], "pool",
                                       client_agent, image_id, gold)
        self.events.publish("kudos_moved", {"from": None, "to": user.id, "amount": total, "reason": "rating"})
        return total

    async def rater_state(self, user_id: int) -> str:
        """unproven, trusted or untrusted (horde_core/ratings/trust.py)."""
        async with self.db.read() as conn:
            return await raters.state_of(conn, user_id) or trust.UNPROVEN

    async def rating_stats(self) -> dict[str, Any]:
        """The tables the seed community published: ratings and artifact ratings per client agent, images by
        number of ratings, and the total."""
        R_ = _ratings.c
        async with self.db.read() as conn:
            per_agent = {a or "unknown": int(n) for a, n in (await conn.execute(
                select(R_.client_agent, func.count()).where(R_.rating.is_not(None)).group_by(R_.client_agent))).all()}
            artifacts = {a or "unknown": int(n) for a, n in (await conn.execute(
                select(R_.client_agent, func.count()).where(R_.artifacts.is_not(None))
                .group_by(R_.client_agent))).all()}
            per_image = select(R_.image_id, func.count().label("n")).where(R_.rating.is_not(None)).group_by(R_.image_id)
            sub = per_image.subquery()
            by_count = {str(n): int(c) for n, c in (await conn.execute(
                select(sub.c.n, func.count()).group_by(sub.c.n).order_by(sub.c.n))).all()}
            total = int(await conn.scalar(select(func.count()).select_from(_ratings)
                                          .where(R_.rating.is_not(None))) or 0)
        return {"ratings_per_client_agent": per_agent, "artifact_ratings_per_client_agent": artifacts,
                "images_by_number_of_ratings": by_count, "total": total}

    async def rated_by(self, user_id: int, image_ids: list[str]) -> set[str]:
        """Which of these images this user has rated already."""
        if not image_ids:
            return set()
        async with self.db.read() as conn:
            rows = await conn.execute(select(_ratings.c.image_id).where(_ratings.c.rater_id == user_id,
                                                                         _ratings.c.image_id.in_(image_ids)))
            return {r.image_id for r in rows}

    async def ratings_count(self, user_id: int) -> int:
        """Images a user has rated (role rules use it)."""
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(_ratings)
                                         .where(_ratings.c.rater_id == user_id)) or 0)


__all__ = ["RatingsMixin"]

