"""Turning answers into chat messages within Discord's limits, without importing discord.

Discord's limits are defined here, once (bot/discord_app/ui.py re-exports them): 2000
characters of message content, 4096 of an embed description, 256 of an embed title, 1024
of a field value, 2048 of a footer, 80 of a button label, 25 autocomplete choices of 100.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from bot.pipeline import AnswerResult

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
FIELD_LIMIT = 1024
FOOTER_LIMIT = 2048
LABEL_LIMIT = 80
CHOICES_LIMIT = 25
CHOICE_NAME_LIMIT = 100
CURSOR = " ▌"

_MASS_MENTION = re.compile(r"@(everyone|here)")
_USER_OR_ROLE = re.compile(r"<@[!&]?(\d+)>")


def defuse_mentions(text: str) -> str:
    """Make @everyone/@here and user/role mentions inert text (allowed_mentions also blocks them)."""
    text = _MASS_MENTION.sub("@\u200b\\1", text)
    return _USER_OR_ROLE.sub("@\u200b\\1", text)


def trim(text: str, limit: int) -> str:
    """Cut at a word boundary to fit `limit`, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def figures_footer(result: AnswerResult) -> str:
    """This answer's own inference figures: the bot teaching inference with its numbers."""
    parts = []
    if result.timings.first_token_ms is not None:
        parts.append(f"first token {result.timings.first_token_ms:.0f} ms")
    if result.tokens_per_s is not None:
        parts.append(f"{result.tokens_per_s:.0f} tokens/s")
    used = result.stats.prompt_tokens + result.stats.completion_tokens
    if used:
        parts.append(f"{used} tokens used")
    parts.append(f"total {result.timings.total_ms / 1000:.1f} s")
    if result.model:
        parts.append(result.model)
    if result.fallback and result.sources:
        why = "model unavailable" if result.model_error else "model draft rejected"
        parts.append(f"curated text ({why})")
    return trim(" · ".join(parts), FOOTER_LIMIT)


def sources_text(result: AnswerResult) -> str:
    return trim(", ".join(f"{s.title} (`{s.id}`)" for s in result.sources), FIELD_LIMIT)


def queue_text(position: int) -> str:
    if position <= 1:
        return "Thinking…"
    ahead = position - 1
    return f"Queued: you're #{position} in line ({ahead} question{'s' if ahead > 1 else ''} ahead)…"


class EditThrottle:
    """Allows an edit at most once per `interval_s` (Discord rate-limits message edits)."""

    def __init__(self, interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self._last: float | None = None

    def ready(self) -> bool:
        now = self.clock()
        return self._last is None or now - self._last >= self.interval_s

    def wait_time(self) -> float:
        if self._last is None:
            return 0.0
        return max(0.0, self.interval_s - (self.clock() - self._last))

    def mark(self) -> None:
        self._last = self.clock()
