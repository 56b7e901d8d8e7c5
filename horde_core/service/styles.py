"""Styles as AI Horde has them: customizers write prompt templates with parameters and models; anyone
names one in a generation request (`style`) and the horde applies it (service/style_apply.py) before the
request is priced, so a styled request costs what the same request written out by hand would.

Who may write: a user with the customizer role, or a moderator; a creator edits their own styles,
moderators anyone's. Reading is free and open. Lookup by name follows AI Horde: `name`, `creator::name`,
`style::name`, `collection::name` or `style::creator::name` (creator as name#id)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import IntegrityError

from horde_core.styles import repo
from horde_core.styles.repo import CollectionRecord, StyleRecord
from horde_core.users import repo as users_repo
from horde_core.users.repo import UserRow

from .errors import BadRequest, Forbidden, NotFound
from .schemas import ImageRequestSpec, TextRequestSpec
from .style_apply import stored_params, styled_image, styled_text
from .style_specs import StyleExamplePatchSpec, StyleExampleSpec, StylePatchSpec, StyleSpec

PAGE = 25
KINDS = ("image", "text")
MAX_MODELS, MAX_TAGS, MAX_EXAMPLES = 5, 10, 4
Spec = TypeVar("Spec", ImageRequestSpec, TextRequestSpec)


@dataclass(frozen=True)
class StyleLimits:
    """See `StylesMixin.style_limits`; 0 steps or side: the style leaves it to the request."""

    name: str
    nsfw: bool
    steps: int
    side: int
    models: list[str]


@dataclass(frozen=True)
class StyleChoice:
    """One line of the bot's style autocomplete."""

    name: str
    creator: str
    nsfw: bool


def style_not_found(name: str, what: str = "Style") -> NotFound:
    return NotFound(f"{what} with ID '{name}' not found.", rc=what.replace(" ", "") + "NotFound")


def _id(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError):
        return None


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or "::" in name:
        raise BadRequest("A name cannot be empty or contain '::' (it separates creator and name in lookups).")
    return name


def _models(models: list[str] | None) -> list[str]:
    picked = list(dict.fromkeys(m.strip()[:100] for m in models or [] if m.strip()))
    if len(picked) > MAX_MODELS:
        raise BadRequest("A style can only use a maximum of 5 models.")
    if not picked:
        raise BadRequest("A style has to specify at least one model.")
    return picked


def _tags(tags: list[str] | None) -> list[str]:
    if tags is not None and len(tags) > MAX_TAGS:
        raise BadRequest("A style can be tagged a maximum of 10 times.")
    return sorted({t.strip()[:100] for t in tags or [] if t.strip()})


def _prompt(prompt: str) -> str:
    if "{p}" not in prompt:
        raise BadRequest("A style prompt must include a dedicated spot where the user's positive prompt will be "
                         "added, signified with '{p}'", rc="StylePromptMissingVars")
    return prompt


class StylesMixin:
    db: Any
    clock: Any

    if TYPE_CHECKING:
        def is_web_admin(self, user: UserRow) -> bool: ...  # ModerationMixin's, in HordeService

    # --- who ------------------------------------------------------------------------------------

    def _require_customizer(self, user: UserRow) -> None:
        if user.anonymous:
            raise Forbidden("Anonymous users cannot create styles", rc="StylesAnonForbidden")
        if not (user.customizer or self.is_web_admin(user)):
            raise Forbidden("Only customizers can create and change styles. Ask a moderator for the customizer "
                            "role.", rc="StylesRequiresCustomizer")

    def _require_owner(self, user: UserRow, owner_id: int, what: str = "Style") -> None:
        if self.is_web_admin(user):
            return
        self._require_customizer(user)
        if owner_id != user.id:
            raise Forbidden(f"This {what} is not owned by user {user.display_name}")

    # --- finding --------------------------------------------------------------------------------

    async def _resolve(self, conn: Any, name: str) -> tuple[str, str] | None:
        """("style" | "collection", id) for an id or a name in any of AI Horde's forms."""
        if (found := _id(name)) is not None:
            if await repo.get_style(conn, found) is not None:
                return "style", found
            return ("collection", found) if await repo.get_collection(conn, found) is not None else None
        parts = name.split("::")
        want: str | None = None
        creator: str | None = None
        if len(parts) == 3:
            want, creator, name = parts
        elif len(parts) == 2:
            if parts[0] in ("style", "collection"):
                want, name = parts
            else:
                creator, name = parts
        user_id = None
        if creator is not None:
            owner = await users_repo.by_name(conn, creator)
            if owner is None:
                return None
            user_id = owner.id
        if want != "collection" and (ids := await repo.style_ids_named(conn, name, user_id)):
            return "style", ids[0]
        if want != "style" and (ids := await repo.collection_ids_named(conn, name, user_id)):
            return "collection", ids[0]
        return None

    async def _style_of_kind(self, conn: Any, kind: str, style_id: str) -> StyleRecord:
        style = await repo.get_style(conn, style_id)
        if style is None:
            raise style_not_found(style_id)
        if style.kind != kind:
            raise BadRequest(f"Style was found but was of the wrong type: {style.kind} != {kind}",
                             rc="StyleGetMistmatch")
        return style

    async def get_style(self, kind: str, style_id: str) -> StyleRecord:
        async with self.db.read() as conn:
            return await self._style_of_kind(conn, kind, _id(style_id) or style_id)

    async def get_style_by_name(self, kind: str, name: str) -> StyleRecord:
        async with self.db.read() as conn:
            found = await self._resolve(conn, name)
            if found is None or found[0] != "style":
                raise style_not_found(name)
            return await self._style_of_kind(conn, kind, found[1])

    async def list_styles(self, kind: str, *, sort: str = "popular", page: int = 1, tag: str | None = None,
                          model: str | None = None) -> list[StyleRecord]:
        if sort not in ("popular", "age"):
            raise BadRequest("'sort' needs to be one of ['popular', 'age']")
        async with self.db.read() as conn:
            return await repo.list_styles(conn, kind, sort=sort, offset=(max(page, 1) - 1) * PAGE, limit=PAGE,
                                          tag=tag or None, model=model or None)

    async def user_styles(self, user: UserRow, *, private: bool = False) -> list[dict[str, str]]:
        """A user's styles as AI Horde's user details list them (`styles`: ResponseModelStylesUser); the
        private ones only when `private` (the user themself, or a moderator, is asking)."""
        async with self.db.read() as conn:
            rows = await repo.styles_of(conn, user.id, public_only=not private)
        return [{"name": f"{user.display_name}::style::{name}", "id": sid, "type": kind} for sid, name, kind in rows]

    async def search_styles(self, prefix: str, limit: int = 25, kind: str = "image") -> list[StyleChoice]:
        """Public styles whose name starts with `prefix`, the most used first (the bot's autocomplete)."""
        async with self.db.read() as conn:
            rows = await repo.search_public(conn, kind, prefix.strip()[:100], max(1, min(limit, 25)))
        return [StyleChoice(*row) for row in rows]

    async def style_limits(self, name: str, kind: str = "image") -> StyleLimits:
        """What the style (or the styles of the collection) so named would do to a request, so a client can
        refuse it before paying: NSFW or not, the most steps and the widest side it asks, its models.
        NotFound (StyleNotFound) when there is none; BadRequest (StyleMismatch) when it is of another kind."""
        async with self.db.read() as conn:
            found = await self._resolve(conn, name)
            if found is None:
                raise style_not_found(name)
            if found[0] == "style":
                styles = [await self._style_of_kind(conn, kind, found[1])]
            else:
                collection = await repo.get_collection(conn, found[1])
                styles = [s for sid, _ in (collection.styles if collection else [])
                          if (s := await repo.get_style(conn, sid)) is not None]
                if not styles:
                    raise style_not_found(name)
                if any(s.kind != kind for s in styles):
                    raise BadRequest(f"That collection is not of {kind} styles.", rc="StyleMismatch")
        return StyleLimits(name, any(s.nsfw for s in styles),
                           max(int(s.params.get("steps", 0) or 0) for s in styles),
                           max(int(s.params.get(k, 0) or 0) for s in styles for k in ("width", "height")),
                           sorted({m for s in styles for m in s.models}))

    # --- applying -------------------------------------------------------------------------------

    async def apply_style(self, user: UserRow, spec: Spec) -> Spec:
        """The request as the named style makes it (unchanged without one). A collection picks one of its
        styles at random. Counts a use unless this is a dry run."""
        name = (spec.style or "").strip()
        if not name:
            return spec
        kind = "text" if isinstance(spec, TextRequestSpec) else "image"
        async with self.db.transaction() as conn:
            found = await self._resolve(conn, name)
            if found is None:
                raise style_not_found(name)
            collection: CollectionRecord | None = None
            style_id = found[1]
            if found[0] == "collection":
                collection = await repo.get_collection(conn, style_id)
                if collection is None or not collection.styles:
                    raise style_not_found(name)
                style_id = random.choice(collection.styles)[0]
            style = await repo.get_style(conn, style_id)
            if style is None:
                raise style_not_found(name)
            if style.kind != kind:
                raise BadRequest(f"{style.kind.capitalize()} styles cannot be used on {kind} requests",
                                 rc="StyleMismatch")
            if not spec.dry_run:
                await repo.count_use(conn, style.id, collection.id if collection else None)
        if isinstance(spec, TextRequestSpec):
            return styled_text(spec, style)
        return styled_image(spec, style)

    # --- writing --------------------------------------------------------------------------------

    async def create_style(self, user: UserRow, kind: str, spec: StyleSpec) -> str:
        self._require_customizer(user)
        models, tags = _models(spec.models), _tags(spec.tags)
        name = _clean_name(spec.name)
        values = {"id": str(uuid.uuid4()), "kind": kind, "name": name, "info": spec.info or "",
                  "prompt": _prompt(spec.prompt), "params": stored_params(kind, spec.params),
                  "public": spec.public, "nsfw": spec.nsfw, "use_count": 0, "user_id": user.id,
                  "created_at": self.clock.now(), "updated_at": self.clock.now()}
        async with self.db.transaction() as conn:
            if await repo.style_ids_named(conn, name, user.id):
                raise BadRequest(f"Style with name '{name}' already exists for user '{user.display_name}'. "
                                 "Please use PATCH to modify an existing style.")
            try:
                async with conn.begin_nested():  # two creations of one name at once: the loser is told, not a 500
                    await repo.insert_style(conn, values, models, tags)
            except IntegrityError:
                raise BadRequest(f"Style with name '{name}' already exists for user '{user.display_name}'.") from None
        return values["id"]

    async def patch_style(self, user: UserRow, kind: str, style_id: str, spec: StylePatchSpec) -> str:
        values: dict[str, Any] = {}
        if spec.name is not None:
            values["name"] = _clean_name(spec.name)
        if spec.info is not None:
            values["info"] = spec.info
        if spec.prompt is not None:
            values["prompt"] = _prompt(spec.prompt)
        if spec.params is not None:
            values["params"] = stored_params(kind, spec.params)
        for flag in ("public", "nsfw"):
            if getattr(spec, flag) is not None:
                values[flag] = getattr(spec, flag)
        models = _models(spec.models) if spec.models is not None else None
        tags = _tags(spec.tags) if spec.tags is not None else None
        async with self.db.transaction() as conn:
            style = await self._style_of_kind(conn, kind, _id(style_id) or style_id)
            self._require_owner(user, style.user_id)
            if "name" in values and values["name"] != style.name and await repo.style_ids_named(
                    conn, values["name"], style.user_id):
                raise BadRequest(f"Style with name '{values['name']}' already exists for user '{style.creator}'. "
                                 "Please use a different name if you want to rename.")
            if values or models is not None or tags is not None:
                values["updated_at"] = self.clock.now()
                await repo.update_style(conn, style.id, values, models, tags)
        return style.id

    async def delete_style(self, user: UserRow, kind: str, style_id: str) -> None:
        async with self.db.transaction() as conn:
            style = await self._style_of_kind(conn, kind, _id(style_id) or style_id)
            if user.anonymous:
                raise Forbidden("Anonymous users cannot delete styles", rc="StylesAnonForbidden")
            self._require_owner(user, style.user_id)
            await repo.delete_style(conn, style.id)

    # --- examples (image styles) ----------------------------------------------------------------

    async def _example_style(self, conn: Any, user: UserRow, style_id: str) -> StyleRecord:
        style = await repo.get_style(conn, _id(style_id) or style_id)
        if style is None:
            raise style_not_found(style_id)
        self._require_owner(user, style.user_id)
        if style.kind != "image":
            raise BadRequest("Cannot add image examples to text styles.")
        return style

    async def add_style_example(self, user: UserRow, style_id: str, spec: StyleExampleSpec) -> str:
        if not spec.url.startswith("https://"):
            raise BadRequest("The url has to start with 'https://'")
        async with self.db.transaction() as conn:
            style = await self._example_style(conn, user, style_id)
            if len(style.examples) >= MAX_EXAMPLES:
                raise Forbidden("You cannot have more than 4 examples for each style", rc="TooManyStyleExamples")
            if any(e.url == spec.url for e in style.examples):
                raise BadRequest(f"The url '{spec.url}' is already used for this style.", rc="ExampleURLAlreadyInUse")
            # The first example is the primary one whatever was asked; a new primary demotes the old one.
            primary = spec.primary or not any(e.primary for e in style.examples)
            if primary:
                await repo.clear_primary(conn, style.id)
            example_id = str(uuid.uuid4())
            await repo.insert_example(conn, {"id": example_id, "style_id": style.id, "url": spec.url,
                                             "primary": primary, "created_at": self.clock.now()})
        return example_id

    async def patch_style_example(self, user: UserRow, style_id: str, example_id: str,
                                  spec: StyleExamplePatchSpec) -> str:
        if spec.url is not None and not spec.url.startswith("https://"):
            raise BadRequest("The url has to start with 'https://'")
        async with self.db.transaction() as conn:
            style = await self._example_style(conn, user, style_id)
            example = next((e for e in style.examples if e.id == example_id), None)
            if example is None:
                raise style_not_found(example_id, "Style Example")
            others = [e for e in style.examples if e.id != example_id]
            if spec.url is not None and any(e.url == spec.url for e in others):
                raise BadRequest(f"The url '{spec.url}' is already used for this style.", rc="ExampleURLAlreadyInUse")
            if spec.primary is False and example.primary:
                raise BadRequest("You cannot remove the last primary example of this style")
            if spec.primary:
                await repo.clear_primary(conn, style.id)
            values = {k: v for k, v in (("url", spec.url), ("primary", spec.primary)) if v is not None}
            if values:
                await repo.update_example(conn, example_id, values)
        return example_id

    async def delete_style_example(self, user: UserRow, style_id: str, example_id: str) -> None:
        async with self.db.transaction() as conn:
            style = await self._example_style(conn, user, style_id)
            example = next((e for e in style.examples if e.id == example_id), None)
            if example is None:
                raise style_not_found(example_id, "Style Example")
            await repo.delete_example(conn, example_id)
            others = [e for e in style.examples if e.id != example_id]
            if example.primary and others:  # the oldest remaining one takes over
                await repo.update_example(conn, others[0].id, {"primary": True})
