"""Automatic roles: the reconciler behind /settings roles."""

from ._cog import RolesCog


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.add_cog(RolesCog(bot))
