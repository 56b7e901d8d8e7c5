"""Accounts: /account, and /worker to attach GPU workers that earn for this member."""

from ._cog import AccountCog, NewKeyButton


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(NewKeyButton)
    await bot.add_cog(AccountCog(bot))
