"""Small stand-ins for what discord.py hands the Discord layer: a Surface that records
what is drawn, and interactions, messages, users and a bot that record what is sent.

Only the attributes the code under test reads exist; nothing talks to a network.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.discord_app.cogs.answers.delivery import Surface

_ids = itertools.count(10_000)


@dataclass
class Shown:
    embed: discord.Embed
    view: discord.ui.View | None
    at: float

    @property
    def custom_ids(self) -> list[str]:
        return [] if self.view is None else [item.custom_id for item in self.view.children]  # type: ignore[attr-defined]


class FakeSurface(Surface):
    """Records every drawing (with the time) and refusal; each answer gets a message id."""

    def __init__(self) -> None:
        self.shown: list[Shown] = []
        self.refused: list[str] = []
        self.message_id = next(_ids)

    async def show(self, embed: discord.Embed, view: discord.ui.View | None = None) -> int | None:
        self.shown.append(Shown(embed, view, time.monotonic()))
        return self.message_id

    async def refuse(self, text: str) -> None:
        self.refused.append(text)

    @property
    def final(self) -> Shown:
        return self.shown[-1]


@dataclass(eq=False)
class FakeUser:
    id: int
    name: str = "someone"
    display_name: str = "Someone"
    bot: bool = False


@dataclass
class Sent:
    content: str | None
    kwargs: dict[str, Any]


class FakeResponse:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.deferred: dict[str, Any] | None = None

    def is_done(self) -> bool:
        return bool(self.sent) or self.deferred is not None

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        assert not self.is_done(), "an interaction is answered once"
        self.sent.append(Sent(content, kwargs))

    async def defer(self, **kwargs: Any) -> None:
        assert not self.is_done(), "an interaction is answered once"
        self.deferred = kwargs


class FakeFollowup:
    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        self.sent.append(Sent(content, kwargs))
        return FakeMessage(author=FakeUser(1), content=content or "")


class FakeClient:
    """`interaction.client`: the bot, as far as buttons use it (to find their cog)."""

    def __init__(self, cogs: dict[str, Any] | None = None) -> None:
        self.cogs = cogs or {}
        self.user = FakeUser(1, "inference-bot", "Inference Bot", bot=True)
        self.owners: set[int] = set()
        self.dynamic_items: list[type] = []
        self.added_cogs: list[Any] = []
        self.deps: Any = None

    def get_cog(self, name: str) -> Any:
        return self.cogs.get(name)

    async def is_owner(self, user: FakeUser) -> bool:
        return user.id in self.owners

    def add_dynamic_items(self, *items: type) -> None:
        self.dynamic_items.extend(items)

    async def add_cog(self, cog: Any) -> None:
        self.added_cogs.append(cog)
        self.cogs[cog.qualified_name] = cog


class FakeInteraction:
    def __init__(
        self, user: FakeUser, guild_id: int | None = 5, client: FakeClient | None = None
    ) -> None:
        self.user = user
        self.guild_id = guild_id
        self.channel_id = 7 if guild_id is not None else None
        self.client = client or FakeClient()
        self.response = FakeResponse()
        self.followup = FakeFollowup()
        self.edits: list[dict[str, Any]] = []
        self.message_id = next(_ids)

    async def edit_original_response(self, **kwargs: Any) -> FakeMessage:
        assert self.response.deferred is not None, "edited before the response was deferred"
        self.edits.append(kwargs)
        return FakeMessage(author=self.client.user, id=self.message_id)


@dataclass
class FakeReference:
    message_id: int
    resolved: Any = None


@dataclass
class FakeChannel:
    id: int = 7
    parent_id: int | None = None


@dataclass
class FakeGuild:
    id: int = 5


@dataclass(eq=False)
class FakeMessage:
    author: FakeUser
    content: str = ""
    id: int = field(default_factory=lambda: next(_ids))
    guild: FakeGuild | None = None
    channel: FakeChannel = field(default_factory=FakeChannel)
    reference: FakeReference | None = None
    mentions: list[FakeUser] = field(default_factory=list)
    replies: list[FakeMessage] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)

    async def reply(self, content: str | None = None, **kwargs: Any) -> FakeMessage:
        reply = FakeMessage(author=FakeUser(1, bot=True), content=content or "", kwargs=kwargs)
        self.replies.append(reply)
        return reply

    async def edit(self, **kwargs: Any) -> FakeMessage:
        self.edits.append(kwargs)
        return self

    @property
    def last_embed(self) -> discord.Embed:
        drawn = self.edits[-1] if self.edits else self.kwargs
        return drawn["embed"]
