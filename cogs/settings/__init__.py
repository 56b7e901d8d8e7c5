"""Guild settings: /settings show, set and reset (Manage Server)."""

from ._cog import SettingsCog


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.add_cog(SettingsCog(bot))
