"""/rate: members score images of the shared pool, one at a time, for kudos."""

from ._cog import RateCog
from ._views import DYNAMIC_ITEMS


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(RateCog(bot))
