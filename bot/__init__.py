"""The Discord bot: the Bot subclass, guild settings and shared UI pieces (see issue 4)."""
