"""Records of what the bot did (events, interactions, callbacks) and the fake's internal types."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web


class FakeDiscordTimeout(AssertionError):
    """A bounded wait on the fake Discord ran out (the message says what the bot did)."""


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


@dataclass
class Event:
    """One thing the bot did: an HTTP request (``kind="http"``) or a gateway op (``"gateway"``).

    ``time`` is seconds since :meth:`FakeDiscord.start` (monotonic clock); ``status`` is the
    HTTP status the fake answered (``None`` for gateway ops).
    """

    kind: str
    method: str
    path: str
    json: Any
    time: float
    status: int | None = None
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Callback:
    """One ``POST /interactions/{id}/{token}/callback`` the bot made."""

    type: int
    data: Any
    elapsed: float  # seconds since the INTERACTION_CREATE was dispatched
    time: float
    status: int = 0
    accepted: bool = False
    error: str | None = None


@dataclass
class Interaction:
    """An interaction the fake dispatched, with everything the bot answered to it."""

    id: str
    token: str
    type: int
    payload: dict[str, Any]
    dispatched_at: float
    channel_id: str
    guild_id: str | None
    user_id: str
    name: str  # command name (with subcommand path) or component custom_id
    callbacks: list[Callback] = field(default_factory=list)
    original_message_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None  # autocomplete result
    modal: dict[str, Any] | None = None  # modal the bot opened
    late: bool = False
    component_message_id: str | None = None
    shard: int | None = None  # the shard whose gateway session it was dispatched to
    session_id: str | None = None  # that session (discord.py logs it on connecting)

    @property
    def acknowledged(self) -> bool:
        return any(cb.accepted for cb in self.callbacks)

    @property
    def response(self) -> Callback | None:
        """The accepted (first valid, in-time) callback, if any."""
        return next((cb for cb in self.callbacks if cb.accepted), None)

    @property
    def response_type(self) -> int | None:
        cb = self.response
        return cb.type if cb else None

    @property
    def ack_elapsed(self) -> float | None:
        """Seconds from dispatch to the first callback the bot sent (accepted or not)."""
        return self.callbacks[0].elapsed if self.callbacks else None


class _IdDict(dict):
    """A dict keyed by snowflake strings that also accepts int keys."""

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(str(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(str(key), value)

    def __contains__(self, key: Any) -> bool:
        return super().__contains__(str(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(str(key), default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return super().setdefault(str(key), default)


@dataclass
class _Session:
    id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    buffer: list[tuple[int, str]] = field(default_factory=list)
    conn: _Conn | None = None
    ready: bool = False  # READY and its GUILD_CREATEs were sent


@dataclass
class _Conn:
    id: int
    ws: web.WebSocketResponse
    query: dict[str, str]
    session: _Session | None = None
    closed: bool = False


@dataclass
class _Bucket:
    limit: int
    per: float
    window_start: float = 0.0
    count: int = 0


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Any
    bucket: str | None  # "message", "webhook", "default" or None
    auth: bool


def _iso(ts: float | None = None) -> str:
    dt = datetime.fromtimestamp(ts if ts is not None else time.time(), UTC)
    return dt.isoformat(timespec="microseconds")


def _errors_tree(problems: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Builds Discord's nested ``errors`` object from (dotted path, code, message)."""
    tree: dict[str, Any] = {}
    for path, code, message in problems:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return tree


def _walk_components(components: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for comp in components or []:
        yield comp
        yield from _walk_components(comp.get("components") or [])
