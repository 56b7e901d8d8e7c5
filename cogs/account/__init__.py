"""Accounts: /account (with any results that could not be delivered), and /worker to attach GPU workers."""

from ._cog import AccountCog, NewKeyButton
from ._undelivered import GetResultButton


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    bot.add_dynamic_items(NewKeyButton, GetResultButton)
    await bot.add_cog(AccountCog(bot))
