"""Who may run the owner-only commands (/reload, /gaps)."""

from __future__ import annotations

from collections.abc import Collection

import discord

from bot.discord_app.deps import AnyBot


async def is_bot_owner(bot: AnyBot, user: discord.abc.User, owner_ids: Collection[int]) -> bool:
    """Listed in `discord.owner_ids`, or the application's owner (or a team member)."""
    if user.id in owner_ids:
        return True
    try:
        return await bot.is_owner(user)
    except discord.HTTPException:
        return False
