"""/generate, its result buttons (Reroll, Vary, Run again, Remix, Star, Info, Rate, Enhance, Delete, Cancel,
Retry) and the "Remix image" and "Upscale image" message menus."""

from ._cog import GenerateCog
from ._views import DYNAMIC_ITEMS


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(GenerateCog(bot))
