"""A local fake Discord server for end-to-end tests of the discord.py bot.

Usage::

    from fakediscord import FakeDiscord, run_bot   # or: from .fakediscord import ...

    async with FakeDiscord() as fake:
        async with run_bot(fake, make_bot()):
            rec = await fake.slash_command("ping")
            final = await fake.wait_for_final(rec)
        assert fake.violations == []
"""

from .server import (
    Callback,
    Event,
    FakeDiscord,
    FakeDiscordTimeout,
    Interaction,
    run_bot,
)

__all__ = [
    "Callback",
    "Event",
    "FakeDiscord",
    "FakeDiscordTimeout",
    "Interaction",
    "run_bot",
]
