"""/chat and the conversations that continue in the threads it starts."""

from ._cog import ChatCog


async def setup(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.add_cog(ChatCog(bot))
