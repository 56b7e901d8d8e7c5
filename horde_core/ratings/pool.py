"""The rating pool in SQL: the horde's shared finished images (the dataset named after the horde) and the
imported ones; the next image for a rater (the least-rated first, never one they rated); and what an export
reads. Always inside the caller's connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, func, insert, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import DatasetImage, Job, Rating, Request
from horde_core.ratings.raters import trusted_raters

_jobs = Job.__table__
_J = _jobs.c
_Q = Request.__table__.c
_images = DatasetImage.__table__
_D = _images.c
_ratings = Rating.__table__
_R = _ratings.c
_GENERATED = _jobs.join(Request.__table__, _Q.id == _J.request_id)


def _shared_done() -> tuple[ColumnElement[bool], ...]:
    """A generated image is in the pool while it is shared, finished, uncensored and kept."""
    return (_J.kind == "image", _J.state == "done", _J.censored.is_(False), _J.pruned.is_(False),
            _Q.shared.is_(True))


def _times_rated(image_id: Any, table: Any) -> Any:
    return select(func.count()).select_from(_ratings).where(_R.image_id == image_id).correlate(table) \
        .scalar_subquery()


def _rated_by(user_id: int) -> Any:
    return select(_R.image_id).where(_R.rater_id == user_id)


async def pick(conn: AsyncConnection, user_id: int, *, horde_name: str, model: str | None = None,
               dataset: str | None = None, sfw_only: bool = False) -> Any:
    """The ordinary image to serve next (gold images are served only as checks): (id, model, image_key,
    dataset), or None. `sfw_only` skips images that may be NSFW (for raters where those cannot be shown)."""
    parts = []
    if dataset in (None, horde_name):
        q = (select(_J.id.label("id"), _J.model.label("model"), _J.image_key.label("image_key"),
                    literal(horde_name, String).label("dataset"), _times_rated(_J.id, _jobs).label("n"),
                    _J.finished_at.label("t"))
             .select_from(_GENERATED).where(*_shared_done(), _J.id.not_in(_rated_by(user_id))))
        if sfw_only:
            q = q.where(or_(_Q.nsfw.is_(False), _Q.censor_nsfw.is_(True)))
        parts.append(q.where(_J.model == model) if model else q)
    if not model and dataset != horde_name:
        q = (select(_D.id.label("id"), literal("", String).label("model"), _D.image_key.label("image_key"),
                    _D.dataset.label("dataset"), _times_rated(_D.id, _images).label("n"), _D.created_at.label("t"))
             .where(_D.gold.is_(False), _D.id.not_in(_rated_by(user_id))))
        if sfw_only:
            q = q.where(_D.nsfw.is_(False))
        parts.append(q.where(_D.dataset == dataset) if dataset else q)
    if not parts:
        return None
    sub = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return (await conn.execute(select(sub.c.id, sub.c.model, sub.c.image_key, sub.c.dataset)
                               .order_by(sub.c.n, sub.c.t.desc(), sub.c.id).limit(1))).first()


async def pick_gold(conn: AsyncConnection, user_id: int, *, sfw_only: bool = False) -> Any:
    """A gold image this rater has not rated (the least-rated first), shaped like `pick`'s answer."""
    q = (select(_D.id, literal("", String).label("model"), _D.image_key, _D.dataset)
         .where(_D.gold.is_(True), _D.id.not_in(_rated_by(user_id)))
         .order_by(_times_rated(_D.id, _images), _D.created_at, _D.id).limit(1))
    return (await conn.execute(q.where(_D.nsfw.is_(False)) if sfw_only else q)).first()


async def dataset_image(conn: AsyncConnection, image_id: str) -> Any:
    return (await conn.execute(select(_images).where(_D.id == image_id))).first()


async def dataset_image_by_hash(conn: AsyncConnection, dataset: str, content_hash: str) -> Any:
    return (await conn.execute(select(_images).where(_D.dataset == dataset, _D.content_hash == content_hash))).first()


async def add_dataset_image(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(_images).values(**values))


async def relabel_dataset_image(conn: AsyncConnection, image_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(_images).where(_D.id == image_id).values(**values))


# --- export ---------------------------------------------------------------------------------------

async def rated_image_ids(conn: AsyncConnection) -> list[str]:
    """Every image with at least one trusted rating, in a stable order."""
    rows = await conn.execute(select(_R.image_id).where(_R.rater_id.in_(trusted_raters())).distinct()
                              .order_by(_R.image_id))
    return [r[0] for r in rows]


async def generated_rows(conn: AsyncConnection, ids: Sequence[str]) -> list[Any]:
    """The pool's generated images among `ids`, with their request's prompt, parameters and requester."""
    return list(await conn.execute(
        select(_J.id, _J.model, _J.seed, _J.censored, _J.image_key, _J.finished_at, _Q.prompt, _Q.params, _Q.nsfw,
               _Q.user_id.label("requester_id"), _Q.client_agent, _Q.created_at)
        .select_from(_GENERATED).where(_J.id.in_(ids), *_shared_done())))


async def imported_rows(conn: AsyncConnection, ids: Sequence[str], dataset: str | None) -> list[Any]:
    """The imported images among `ids` (gold images never leave: they are the spam check's answer key)."""
    q = select(_images).where(_D.id.in_(ids), _D.gold.is_(False))
    return list(await conn.execute(q.where(_D.dataset == dataset) if dataset else q))


async def trusted_ratings_of(conn: AsyncConnection, ids: Sequence[str]) -> list[Any]:
    return list(await conn.execute(
        select(_R.image_id, _R.rater_id, _R.rating, _R.artifacts, _R.best, _R.source, _R.client_agent, _R.context,
               _R.at)
        .where(_R.image_id.in_(ids), _R.rater_id.in_(trusted_raters())).order_by(_R.image_id, _R.at, _R.id)))


__all__ = ["add_dataset_image", "dataset_image", "dataset_image_by_hash", "generated_rows", "imported_rows",
           "pick", "pick_gold", "rated_image_ids", "relabel_dataset_image", "trusted_ratings_of"]
