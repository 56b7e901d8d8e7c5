"""/generate and its result buttons (Reroll, Vary, Delete, Cancel, Retry)."""

from ._cog import GenerateCog
from ._views import DYNAMIC_ITEMS


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(*DYNAMIC_ITEMS)
    await bot.add_cog(GenerateCog(bot))
