"""Abuse views: guild admins see and clear their guild's strikes; the bot's owners see every guild."""

from ._cog import AbuseCog


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.add_cog(AbuseCog(bot))
