"""/models, /workers (with a maintenance switch for owners), /news and /status."""

from ._cog import InfoCog
from ._views import DYNAMIC_ITEMS


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(InfoCog(bot))
