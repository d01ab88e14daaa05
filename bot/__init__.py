"""inference-bot: a Discord bot (and terminal app) that teaches what AI inference is.

The core (everything outside `bot.discord_app`) has no discord import.
"""

__version__ = "0.1.0"
