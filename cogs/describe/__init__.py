"""Describe image: /describe and the "Describe image" message context menu."""

from ._cog import DescribeCog


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.add_cog(DescribeCog(bot))
