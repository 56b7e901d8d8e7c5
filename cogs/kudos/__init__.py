"""Kudos between members: emoji gifts, /kudos balance, transfer, history and top."""

from ._cog import KudosCog
from ._views import DYNAMIC_ITEMS


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(KudosCog(bot))
