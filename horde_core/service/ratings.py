"""Owners rate their own results: an aesthetic score per image (and the best of a batch), paid in kudos
up to a daily cap, with the rater's context recorded for the dataset (issue 6 builds the pool on it)."""

from __future__ import annotations

import json

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from horde_core.ledger import book
from horde_core.ledger.gifts import lock_users
from horde_core.models import Job, LedgerEntry, Rating
from horde_core.queue import lifecycle
from horde_core.users.repo import UserRow

from .base import ServiceBase
from .errors import BadRequest, Forbidden, RequestNotFound
from .generation import parse_request_id
from .schemas import RateSpec

_J = Job.__table__.c
_L = LedgerEntry.__table__.c
_ratings = Rating.__table__


class RatingsMixin(ServiceBase):
    async def rate_own(self, user: UserRow, request_id: str, spec: RateSpec, *, client_agent: str = "") -> int:
        """Record the owner's ratings of their finished images; returns the kudos they earned."""
        if user.anonymous:
            raise Forbidden("Rate with a registered API key.", rc="AnonForbidden")
        if not spec.ratings and not spec.best:
            raise BadRequest("Send ratings, a best image, or both.", rc="NoRatings")
        rules = self.config.ratings
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
            await lock_users(conn, self.db.dialect, user.id)
            images = int(await conn.scalar(select(func.count()).where(_J.user_id == user.id, _J.state == "done")) or 0)
            context = json.dumps({"account_age_days": round((now - user.created_at) / 86400, 2),
                                  "images_generated": images, "kudos": user.kudos, "trusted": user.trusted})
            earned_today = int(await conn.scalar(
                select(func.coalesce(func.sum(_L.amount), 0)).where(
                    _L.credit == book.user_account(user.id), _L.reason == "rating", _L.at >= now - 86400)) or 0)
            total = 0
            entries = {r.id: r for r in spec.ratings}
            for image_id in dict.fromkeys(wanted):
                entry = entries.get(image_id)
                reward = rules.reward + (rules.artifacts_bonus if entry and entry.artifacts is not None else 0)
                reward = max(0, min(reward, rules.daily_reward_cap - earned_today - total))
                try:
                    async with conn.begin_nested():
                        await conn.execute(insert(_ratings).values(
                            at=now, image_id=image_id, rater_id=user.id, rating=entry.rating if entry else None,
                            artifacts=entry.artifacts if entry else None, best=image_id == spec.best, source="owner",
                            client_agent=client_agent[:200], context=context, reward=reward))
                except IntegrityError:
                    raise BadRequest(f"Image {image_id} was rated already.", rc="AlreadyRated") from None
                total += reward
            if total:
                await book.mint(conn, now, user.id, total, "rating", ref=request.id)
        self.events.publish("kudos_moved", {"from": None, "to": user.id, "amount": total, "reason": "rating"})
        return total

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
