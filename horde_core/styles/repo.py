"""Styles and collections in SQL: one statement per need, records assembled in batches (no N+1)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from horde_core.models import (
    Style,
    StyleCollection,
    StyleCollectionMember,
    StyleExample,
    StyleModel,
    StyleTag,
    User,
)

_st = Style.__table__
_models = StyleModel.__table__
_tags = StyleTag.__table__
_examples = StyleExample.__table__
_cols = StyleCollection.__table__
_members = StyleCollectionMember.__table__
_users = User.__table__


@dataclass(frozen=True)
class Example:
    id: str
    url: str
    primary: bool


@dataclass(frozen=True)
class StyleRecord:
    id: str
    kind: str
    name: str
    info: str
    prompt: str
    params: dict[str, Any]
    public: bool
    nsfw: bool
    use_count: int
    user_id: int
    creator: str  # name#id, as AI Horde shows a user
    created_at: float
    models: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)


@dataclass(frozen=True)
class CollectionRecord:
    id: str
    kind: str
    name: str
    info: str
    public: bool
    use_count: int
    user_id: int
    creator: str
    styles: list[tuple[str, str]]  # (id, creator::style::name) in the collection's order


_STYLE_COLS = (*_st.c, (_users.c.username + "#" + cast(_users.c.id, String)).label("creator"))


async def _records(conn: AsyncConnection, rows: list[Any]) -> list[StyleRecord]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    models: dict[str, list[str]] = defaultdict(list)
    tags: dict[str, list[str]] = defaultdict(list)
    examples: dict[str, list[Example]] = defaultdict(list)
    for m in await conn.execute(select(_models).where(_models.c.style_id.in_(ids)).order_by(_models.c.model)):
        models[m.style_id].append(m.model)
    for t in await conn.execute(select(_tags).where(_tags.c.style_id.in_(ids)).order_by(_tags.c.tag)):
        tags[t.style_id].append(t.tag)
    for e in await conn.execute(select(_examples).where(_examples.c.style_id.in_(ids))
                                .order_by(_examples.c.created_at, _examples.c.id)):
        examples[e.style_id].append(Example(e.id, e.url, bool(e.primary)))
    return [StyleRecord(r.id, r.kind, r.name, r.info, r.prompt, json.loads(r.params), bool(r.public), bool(r.nsfw),
                        int(r.use_count), int(r.user_id), r.creator, float(r.created_at), models[r.id], tags[r.id],
                        examples[r.id]) for r in rows]


def _styles_query():  # type: ignore[no-untyped-def]
    return select(*_STYLE_COLS).join(_users, _users.c.id == _st.c.user_id)


async def get_style(conn: AsyncConnection, style_id: str) -> StyleRecord | None:
    rows = (await conn.execute(_styles_query().where(_st.c.id == style_id))).all()
    found = await _records(conn, list(rows))
    return found[0] if found else None


async def style_ids_named(conn: AsyncConnection, name: str, user_id: int | None) -> list[str]:
    """Styles of that exact name (of one creator when given), the most used first."""
    query = select(_st.c.id).where(_st.c.name == name)
    if user_id is not None:
        query = query.where(_st.c.user_id == user_id)
    return [r[0] for r in await conn.execute(query.order_by(_st.c.use_count.desc(), _st.c.created_at))]


async def styles_of(conn: AsyncConnection, user_id: int, *, public_only: bool) -> list[tuple[str, str, str]]:
    """(id, name, kind) of one creator's styles, oldest first."""
    query = select(_st.c.id, _st.c.name, _st.c.kind).where(_st.c.user_id == user_id)
    if public_only:
        query = query.where(_st.c.public.is_(True))
    return [(r.id, r.name, r.kind) for r in await conn.execute(query.order_by(_st.c.created_at, _st.c.id))]


async def list_styles(conn: AsyncConnection, kind: str, *, sort: str, offset: int, limit: int,
                      tag: str | None = None, model: str | None = None) -> list[StyleRecord]:
    query = _styles_query().where(_st.c.kind == kind, _st.c.public.is_(True))
    if tag is not None:
        query = query.where(_st.c.id.in_(select(_tags.c.style_id).where(_tags.c.tag == tag)))
    if model is not None:
        query = query.where(_st.c.id.in_(select(_models.c.style_id).where(_models.c.model == model)))
    order = (_st.c.created_at, _st.c.id) if sort == "age" else (_st.c.use_count.desc(), _st.c.created_at)
    rows = (await conn.execute(query.order_by(*order).offset(offset).limit(limit))).all()
    return await _records(conn, list(rows))


async def search_public(conn: AsyncConnection, kind: str, text: str, limit: int) -> list[tuple[str, str, bool]]:
    """(name, creator, nsfw) of public styles whose name starts with `text` (any case), the most used first."""
    query = select(_st.c.name, _STYLE_COLS[-1], _st.c.nsfw).join(_users, _users.c.id == _st.c.user_id).where(
        _st.c.kind == kind, _st.c.public.is_(True))
    if text:
        query = query.where(func.lower(_st.c.name).startswith(text.lower(), autoescape=True))
    rows = await conn.execute(query.order_by(_st.c.use_count.desc(), _st.c.name).limit(limit))
    return [(r.name, r.creator, bool(r.nsfw)) for r in rows]


async def _set_children(conn: AsyncConnection, table: Any, column: str, style_id: str, values: list[str]) -> None:
    await conn.execute(delete(table).where(table.c.style_id == style_id))
    if values:
        await conn.execute(insert(table), [{"style_id": style_id, column: v} for v in values])


async def insert_style(conn: AsyncConnection, values: dict[str, Any], models: list[str], tags: list[str]) -> None:
    await conn.execute(insert(_st).values(**{**values, "params": json.dumps(values["params"])}))
    await _set_children(conn, _models, "model", values["id"], models)
    await _set_children(conn, _tags, "tag", values["id"], tags)


async def update_style(conn: AsyncConnection, style_id: str, values: dict[str, Any], models: list[str] | None,
                       tags: list[str] | None) -> None:
    if "params" in values:
        values = {**values, "params": json.dumps(values["params"])}
    await conn.execute(update(_st).where(_st.c.id == style_id).values(**values))
    if models is not None:
        await _set_children(conn, _models, "model", style_id, models)
    if tags is not None:
        await _set_children(conn, _tags, "tag", style_id, tags)


async def delete_style(conn: AsyncConnection, style_id: str) -> None:
    for table in (_members, _examples, _tags, _models):
        await conn.execute(delete(table).where(table.c.style_id == style_id))
    await conn.execute(delete(_st).where(_st.c.id == style_id))


async def count_use(conn: AsyncConnection, style_id: str, collection_id: str | None = None) -> None:
    await conn.execute(update(_st).where(_st.c.id == style_id).values(use_count=_st.c.use_count + 1))
    if collection_id is not None:
        await conn.execute(update(_cols).where(_cols.c.id == collection_id).values(use_count=_cols.c.use_count + 1))


# --- examples -------------------------------------------------------------------------------------

async def insert_example(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(_examples).values(**values))


async def update_example(conn: AsyncConnection, example_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(_examples).where(_examples.c.id == example_id).values(**values))


async def clear_primary(conn: AsyncConnection, style_id: str) -> None:
    await conn.execute(update(_examples).where(_examples.c.style_id == style_id).values(primary=False))


async def delete_example(conn: AsyncConnection, example_id: str) -> None:
    await conn.execute(delete(_examples).where(_examples.c.id == example_id))


# --- collections ----------------------------------------------------------------------------------

_COL_COLS = (*_cols.c, _STYLE_COLS[-1])


async def _collections(conn: AsyncConnection, rows: list[Any]) -> list[CollectionRecord]:
    ids = [r.id for r in rows]
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if ids:
        query = (select(_members.c.collection_id, _st.c.id, _st.c.name, _STYLE_COLS[-1])
                 .join(_st, _st.c.id == _members.c.style_id).join(_users, _users.c.id == _st.c.user_id)
                 .where(_members.c.collection_id.in_(ids)).order_by(_members.c.position))
        for m in await conn.execute(query):
            members[m.collection_id].append((m.id, f"{m.creator}::style::{m.name}"))
    return [CollectionRecord(r.id, r.kind, r.name, r.info, bool(r.public), int(r.use_count), int(r.user_id),
                             r.creator, members[r.id]) for r in rows]


def _collections_query():  # type: ignore[no-untyped-def]
    return select(*_COL_COLS).join(_users, _users.c.id == _cols.c.user_id)


async def get_collection(conn: AsyncConnection, collection_id: str) -> CollectionRecord | None:
    rows = (await conn.execute(_collections_query().where(_cols.c.id == collection_id))).all()
    found = await _collections(conn, list(rows))
    return found[0] if found else None


async def collection_ids_named(conn: AsyncConnection, name: str, user_id: int | None) -> list[str]:
    query = select(_cols.c.id).where(_cols.c.name == name)
    if user_id is not None:
        query = query.where(_cols.c.user_id == user_id)
    return [r[0] for r in await conn.execute(query.order_by(_cols.c.use_count.desc(), _cols.c.created_at))]


async def list_collections(conn: AsyncConnection, kind: str | None, *, sort: str, offset: int,
                           limit: int) -> list[CollectionRecord]:
    query = _collections_query().where(_cols.c.public.is_(True))
    if kind is not None:
        query = query.where(_cols.c.kind == kind)
    order = (_cols.c.created_at, _cols.c.id) if sort == "age" else (_cols.c.use_count.desc(), _cols.c.created_at)
    return await _collections(conn, list(await conn.execute(query.order_by(*order).offset(offset).limit(limit))))


async def save_collection(conn: AsyncConnection, values: dict[str, Any], style_ids: list[str] | None,
                          *, new: bool) -> None:
    if new:
        await conn.execute(insert(_cols).values(**values))
    elif values:
        await conn.execute(update(_cols).where(_cols.c.id == values["id"]).values(**values))
    if style_ids is not None:
        await conn.execute(delete(_members).where(_members.c.collection_id == values["id"]))
        await conn.execute(insert(_members), [{"collection_id": values["id"], "style_id": s, "position": i}
                                              for i, s in enumerate(style_ids)])


async def delete_collection(conn: AsyncConnection, collection_id: str) -> None:
    await conn.execute(delete(_members).where(_members.c.collection_id == collection_id))
    await conn.execute(delete(_cols).where(_cols.c.id == collection_id))
