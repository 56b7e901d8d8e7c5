"""Collections of styles (AI Horde's /v2/collections): a named list of styles of one kind. Naming a
collection where a style is expected picks one of its styles at random (service/styles.py). The same
roles rule as styles: customizers create, creators edit theirs, moderators anyone's."""

from __future__ import annotations

import uuid
from typing import Any

from horde_core.styles import repo
from horde_core.styles.repo import CollectionRecord
from horde_core.users.repo import UserRow

from .errors import BadRequest
from .style_specs import CollectionPatchSpec, CollectionSpec
from .styles import PAGE, StylesMixin, _clean_name, _id, style_not_found


class CollectionsMixin(StylesMixin):
    async def _members(self, conn: Any, names: list[str]) -> tuple[str, list[str]]:
        """(kind, style ids) for the named styles; all of one kind."""
        kinds, ids = set(), []
        for name in names:
            found = await self._resolve(conn, name)
            if found is None or found[0] != "style":
                raise BadRequest(f"A style with name '{name}' cannot be found")
            style = await repo.get_style(conn, found[1])
            if style is not None and style.id not in ids:
                kinds.add(style.kind)
                ids.append(style.id)
        if len(kinds) != 1:
            raise BadRequest("Cannot mix image and text styles in the same collection", rc="StyleMismatch")
        return kinds.pop(), ids

    async def create_collection(self, user: UserRow, spec: CollectionSpec) -> str:
        self._require_customizer(user)
        name = _clean_name(spec.name)
        async with self.db.transaction() as conn:
            kind, ids = await self._members(conn, spec.styles)
            if await repo.collection_ids_named(conn, name, user.id):
                raise BadRequest(f"Collection with name '{name}' already exists for user '{user.display_name}'.")
            values = {"id": str(uuid.uuid4()), "kind": kind, "name": name, "info": spec.info or "",
                      "public": spec.public, "use_count": 0, "user_id": user.id,
                      "created_at": self.clock.now(), "updated_at": self.clock.now()}
            await repo.save_collection(conn, values, ids, new=True)
        return values["id"]

    async def _collection(self, conn: Any, collection_id: str) -> CollectionRecord:
        found = await repo.get_collection(conn, _id(collection_id) or collection_id)
        if found is None:
            raise style_not_found(collection_id, "Collection")
        return found

    async def get_collection(self, collection_id: str) -> CollectionRecord:
        async with self.db.read() as conn:
            return await self._collection(conn, collection_id)

    async def get_collection_by_name(self, name: str) -> CollectionRecord:
        async with self.db.read() as conn:
            found = await self._resolve(conn, name if "::" in name else f"collection::{name}")
            if found is None or found[0] != "collection":
                raise style_not_found(name, "Collection")
            return await self._collection(conn, found[1])

    async def list_collections(self, *, sort: str = "popular", page: int = 1,
                               kind: str = "all") -> list[CollectionRecord]:
        if sort not in ("popular", "age"):
            raise BadRequest("'sort' needs to be one of ['popular', 'age']")
        if kind not in ("all", "image", "text"):
            raise BadRequest("'type' needs to be one of ['all', 'image', 'text']")
        async with self.db.read() as conn:
            return await repo.list_collections(conn, None if kind == "all" else kind, sort=sort,
                                               offset=(max(page, 1) - 1) * PAGE, limit=PAGE)

    async def patch_collection(self, user: UserRow, collection_id: str, spec: CollectionPatchSpec) -> str:
        async with self.db.transaction() as conn:
            collection = await self._collection(conn, collection_id)
            self._require_owner(user, collection.user_id, "Collection")
            values: dict[str, Any] = {}
            if spec.name is not None and (name := _clean_name(spec.name)) != collection.name:
                if await repo.collection_ids_named(conn, name, collection.user_id):
                    raise BadRequest(f"Collection with name '{name}' already exists for user "
                                     f"'{collection.creator}'.")
                values["name"] = name
            if spec.info is not None:
                values["info"] = spec.info
            if spec.public is not None:
                values["public"] = spec.public
            ids = None
            if spec.styles is not None:
                kind, ids = await self._members(conn, spec.styles)
                if kind != collection.kind:
                    raise BadRequest("Cannot mix image and text styles in the same collection", rc="StyleMismatch")
            if values or ids is not None:
                await repo.save_collection(conn, {**values, "id": collection.id, "updated_at": self.clock.now()},
                                           ids, new=False)
        return collection.id

    async def delete_collection(self, user: UserRow, collection_id: str) -> None:
        async with self.db.transaction() as conn:
            collection = await self._collection(conn, collection_id)
            self._require_owner(user, collection.user_id, "Collection")
            await repo.delete_collection(conn, collection.id)
