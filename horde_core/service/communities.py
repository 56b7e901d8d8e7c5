"""Per-community settings: read often (cached, invalidated on change), changed rarely (logged)."""

from __future__ import annotations

from typing import Any

from horde_core.communities import repo

from .base import ServiceBase
from .errors import HordeError


class CommunityMixin(ServiceBase):
    async def community_settings(self, scope: str) -> dict[str, Any]:
        """A community's settings, from the `settings_cache` part (dropped on every node when they change)."""
        cached = self.settings_cache.get(scope)
        if cached is not None:
            return cached
        async with self.db.read() as conn:
            data, _ = await repo.load(conn, scope)
        self.settings_cache.put(scope, data)
        return dict(data)

    async def update_community_settings(self, scope: str, changes: dict[str, Any], actor: str) -> dict[str, Any]:
        """Apply `changes` (a value of None removes the key, back to its default) and log each one."""
        for _attempt in range(5):
            now = self.clock.now()
            async with self.db.transaction() as conn:
                data, version = await repo.load(conn, scope, for_update=True)
                new = dict(data)
                logged = []
                for key, value in changes.items():
                    if value is None:
                        new.pop(key, None)
                    else:
                        new[key] = value
                    if data.get(key) != new.get(key):
                        logged.append((key, data.get(key), new.get(key)))
                if not logged:
                    return data
                saved = await repo.save(conn, scope, new, version, now)
                if saved:
                    await repo.log_changes(conn, scope, logged, actor, now)
            if saved:  # committed: now every node may re-read it
                self.settings_cache.changed(scope, new)
                return dict(new)
        raise HordeError("The settings changed under us too often; try again.", rc="SettingsConflict", status=409)

    async def community_settings_history(self, scope: str, limit: int = 20) -> list[dict[str, Any]]:
        async with self.db.read() as conn:
            rows = await repo.history(conn, scope, limit)
        return [{"key": r.key, "old": r.old, "new": r.new, "actor": r.actor, "at": r.at} for r in rows]
