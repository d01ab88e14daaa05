"""Bounded waits on what the bot did (each raises :class:`FakeDiscordTimeout` with a summary)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from .constants import (
    FLAG_LOADING,
)
from .models import (
    Callback,
    Event,
    FakeDiscordTimeout,
    Interaction,
)


class WaitsMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _summary(self) -> str:
        lines = []
        connected = self._live_conn() is not None
        lines.append(
            f"bot connected: {connected}; identifies: {len(self.identifies)}; "
            f"heartbeats: {len(self.heartbeats)}"
        )
        recent = self.events[-15:]
        if recent:
            lines.append("last requests/ops:")
            for ev in recent:
                status = "" if ev.status is None else f" -> {ev.status}"
                lines.append(f"  {ev.time:7.3f}s {ev.method} {ev.path}{status}")
        for label, items in (
            ("violations", self.violations),
            ("unknown routes", [f"{u['method']} {u['path']}" for u in self.unknown_routes]),
            ("rate limited", [f"{r['method']} {r['path']}" for r in self.rate_limited]),
            ("not delivered to the bot", self.undelivered),
        ):
            if items:
                lines.append(f"{label}: {items[-10:]}")
        return "\n".join(lines)

    async def _wait_until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None and result is not False:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise FakeDiscordTimeout(
                    f"timed out after {timeout:.1f}s waiting for {what}\n{self._summary()}"
                )
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.05))  # also polls

    async def wait_until(
        self, check: Callable[[], Any], timeout: float = 5.0, what: str = "a condition"
    ) -> Any:
        """Waits until ``check()`` returns something truthy (re-checked on every request,
        gateway op and message change) and returns it; raises FakeDiscordTimeout."""
        return await self._wait_until(lambda: check() or None, timeout, what)

    async def wait_ready(self, timeout: float = 10.0, *, all_shards: bool = False) -> None:
        """Waits until the bot identified and got READY (and GUILD_CREATE) on shard 0, or,
        with ``all_shards``, on every one of the ``shard_count`` shards (from any process)."""

        def check() -> bool:
            if not all_shards:
                return self._live_conn() is not None and self._ready_sessions > 0
            conns = [self._shard_conn(shard) for shard in range(max(self.shard_count, 1))]
            return all(c is not None and c.session is not None and c.session.ready for c in conns)

        what = "every shard" if all_shards else "the bot"
        await self._wait_until(check, timeout, f"{what} to IDENTIFY on the gateway")

    async def wait_for_sync(
        self, names: Iterable[str] = (), *, guild: Any = None, timeout: float = 10.0
    ) -> dict[str, dict[str, Any]]:
        """Waits until the named commands are synced (globally, or to ``guild``)."""
        wanted = set(names)

        def check() -> dict[str, dict[str, Any]] | None:
            if not self.syncs:
                return None
            table = self.commands if guild is None else self.guild_commands.get(guild, {})
            if wanted - set(table):
                return None
            return table

        where = "globally" if guild is None else f"to guild {guild}"
        return await self._wait_until(check, timeout, f"command sync of {sorted(wanted)} {where}")

    async def wait_for_event(
        self, predicate: Callable[[Event], bool], timeout: float = 5.0, *, what: str = "a request"
    ) -> Event:
        """Waits for a recorded request/op matching ``predicate`` (already recorded ones count)."""
        return await self._wait_until(
            lambda: next((ev for ev in self.events if predicate(ev)), None), timeout, what
        )

    async def wait_for_request(self, method: str, path_regex: str, timeout: float = 5.0) -> Event:
        """Waits for an HTTP request whose path (after /api/v10) matches ``path_regex``."""
        pattern = re.compile(path_regex)

        def pred(ev: Event) -> bool:
            return (
                ev.kind == "http"
                and ev.method == method.upper()
                and bool(pattern.search(ev.path.removeprefix("/api/v10")))
            )

        return await self.wait_for_event(pred, timeout, what=f"{method} {path_regex}")

    async def wait_for_message(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,
        *,
        from_bot: bool = True,
    ) -> dict[str, Any]:
        """Waits for a (current, possibly edited) message satisfying ``predicate``."""

        def check() -> dict[str, Any] | None:
            for msg in list(self.messages.values()):
                if from_bot and msg["author"]["id"] != str(self.bot_user_id):
                    continue
                if predicate is None or predicate(msg):
                    return msg
            return None

        return await self._wait_until(check, timeout, "a message matching the predicate")

    async def wait_for_reply(self, to: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Waits for a bot message in the same channel posted after the message ``to``."""
        after = int(to["id"])
        return await self.wait_for_message(
            lambda m: m["channel_id"] == to["channel_id"] and int(m["id"]) > after,
            timeout,
        )

    async def wait_for_callback(self, interaction: Interaction, timeout: float = 5.0) -> Callback:
        """Waits for the first interaction callback the bot sends (accepted or not)."""
        return await self._wait_until(
            lambda: interaction.callbacks[0] if interaction.callbacks else None,
            timeout,
            f"a callback to interaction {interaction.name!r}",
        )

    async def wait_for_final(
        self,
        interaction: Interaction,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Waits until the interaction's original response satisfies ``predicate``.

        The default predicate accepts the first original response that is not in the
        "thinking" (loading) state.  Returns the current message dict.
        """

        def check() -> dict[str, Any] | None:
            mid = interaction.original_message_id
            msg = self.messages.get(mid) if mid else None
            if msg is None:
                return None
            if predicate is None:
                return None if msg.get("flags", 0) & FLAG_LOADING else msg
            return msg if predicate(msg) else None

        return await self._wait_until(
            check, timeout, f"the final response to interaction {interaction.name!r}"
        )

    async def wait_for_violation(self, needle: str = "", timeout: float = 5.0) -> str:
        """Waits for a violation containing ``needle`` (for tests of the checks themselves)."""
        return await self._wait_until(
            lambda: next((v for v in self.violations if needle in v), None),
            timeout,
            f"a violation containing {needle!r}",
        )
