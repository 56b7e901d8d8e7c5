"""/gallery: a member's own results, paged, with favourites."""

from ._cog import GalleryCog
from ._views import DYNAMIC_ITEMS


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(GalleryCog(bot))
