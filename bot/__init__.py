"""The Discord bot: the Bot subclass, guild settings and shared UI pieces."""

from .app import HordeBot, create_bot

__all__ = ["HordeBot", "create_bot"]
