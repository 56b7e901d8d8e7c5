"""/party start|end|status: an event in a channel where a host pays kudos for each themed generation."""

from ._cog import PartyCog


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.add_cog(PartyCog(bot))
