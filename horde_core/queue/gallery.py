"""A member's own results, newest first, and the ones they starred (kept past image retention)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import Favourite, Job, Request
from horde_core.queue.states import DONE

J = Job.__table__.c
R = Request.__table__.c
_favourites = Favourite.__table__
F = _favourites.c


def _results(user_id: int, favourites_only: bool) -> Any:
    starred = exists().where(F.user_id == user_id, F.job_id == J.id)
    cond = [J.user_id == user_id, J.kind == "image", J.state == DONE]
    if favourites_only:
        cond.append(starred)
    return cond, starred


async def count_results(conn: AsyncConnection, user_id: int, *, favourites_only: bool = False) -> int:
    cond, _ = _results(user_id, favourites_only)
    return int(await conn.scalar(select(func.count()).select_from(Job.__table__).where(*cond)) or 0)


async def result_at(conn: AsyncConnection, user_id: int, index: int, *, favourites_only: bool = False) -> Any:
    """The member's `index`-th result counted from the newest (None past the end)."""
    cond, starred = _results(user_id, favourites_only)
    query = (select(J.id, J.request_id, J.finished_at, J.model, J.seed, J.censored, J.pruned, J.image_key,
                    R.prompt, R.params, starred.label("favourite"))
             .select_from(Job.__table__.join(Request.__table__, R.id == J.request_id))
             .where(*cond).order_by(J.finished_at.desc(), J.id.desc()).offset(max(0, index)).limit(1))
    return (await conn.execute(query)).first()


async def owns_result(conn: AsyncConnection, user_id: int, job_id: str) -> bool:
    return await conn.scalar(select(J.id).where(and_(J.id == job_id, *_results(user_id, False)[0]))) is not None


async def set_favourite(conn: AsyncConnection, user_id: int, job_id: str, favourite: bool, now: float) -> None:
    if not favourite:
        await conn.execute(delete(_favourites).where(F.user_id == user_id, F.job_id == job_id))
        return
    try:
        async with conn.begin_nested():
            await conn.execute(insert(_favourites).values(user_id=user_id, job_id=job_id, at=now))
    except IntegrityError:
        pass  # already starred
