"""The gateway: websocket sessions, heartbeats, identify/resume, dispatch and shards."""

from __future__ import annotations

import contextlib
import copy
import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from .constants import (
    FLAG_EPHEMERAL,
    GATEWAY_OPS,
    PRIVILEGED_INTENTS,
)
from .models import (
    Event,
    _Conn,
    _Session,
)


class GatewayMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _shard_for(self, guild_id: Any) -> int:
        if guild_id is None:
            return 0
        return (int(guild_id) >> 22) % max(self.shard_count, 1)

    def _live_conn(self, guild_id: Any = None) -> _Conn | None:
        return self._shard_conn(self._shard_for(guild_id))

    def _shard_conn(self, shard: int) -> _Conn | None:
        for conn in reversed(self._conns):
            sess = conn.session
            if not conn.closed and sess is not None and sess.shard[0] == shard:
                return conn
        return None

    def _session_for(self, guild_id: Any = None) -> _Session | None:
        conn = self._live_conn(guild_id)
        return conn.session if conn else None

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self._conn_ids += 1
        conn = _Conn(id=self._conn_ids, ws=ws, query=dict(request.query))
        self._conns.append(conn)
        self.events.append(Event("gateway", "WS", "connect", dict(request.query), self._now()))
        if request.query.get("v") not in (None, "10"):
            self._violation(f"gateway: connected with v={request.query.get('v')} (expected 10)")
        try:
            await ws.send_str(
                json.dumps(
                    {
                        "op": 10,
                        "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake"]},
                        "s": None,
                        "t": None,
                    }
                )
            )
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_gateway_message(conn, msg.data)
        finally:
            conn.closed = True
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self.events.append(
                Event("gateway", "WS", "disconnect", {"close_code": ws.close_code}, self._now())
            )
            self._notify()
        return ws

    async def _on_gateway_message(self, conn: _Conn, raw: str) -> None:
        msg = json.loads(raw)
        op = msg.get("op")
        data = msg.get("d")
        now = self._now()
        if op == 1:
            self.heartbeats.append((conn.id, now))
            await conn.ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            self._notify()
            return
        self.events.append(Event("gateway", "WS", f"op {op} {GATEWAY_OPS.get(op, '?')}", data, now))
        if op == 2:
            await self._on_identify(conn, data or {})
        elif op == 6:
            await self._on_resume(conn, data or {})
        self._notify()

    async def _on_identify(self, conn: _Conn, data: dict[str, Any]) -> None:
        record = {
            "time": self._now(),
            "intents": data.get("intents"),
            "shard": data.get("shard"),
            "properties": data.get("properties"),
            "presence": data.get("presence"),
        }
        self.identifies.append(record)
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = tuple(data.get("shard") or (0, 1))
        if shard[1] != self.shard_count:
            await conn.ws.close(code=4011, message=b"Sharding required.")
            return
        session = _Session(
            id=secrets.token_hex(16), shard=(int(shard[0]), int(shard[1])), intents=intents
        )
        session.conn = conn
        conn.session = session
        self._sessions[session.id] = session
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-gateway"],
        }
        owned = [g for g in self.guild_ids if self._shard_for(g) == session.shard[0]]
        ready["guilds"] = [{"id": str(g), "unavailable": True} for g in owned]
        if data.get("shard") is not None:
            ready["shard"] = list(session.shard)
        await self._send_dispatch(session, "READY", ready)
        for gid in owned:
            payload = self._guild_create_payload(intents, gid)
            await self._send_dispatch(session, "GUILD_CREATE", payload)
        session.ready = True
        self._ready_sessions += 1

    async def _on_resume(self, conn: _Conn, data: dict[str, Any]) -> None:
        self.resumes.append(
            {"time": self._now(), **{k: data.get(k) for k in ("session_id", "seq")}}
        )
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = self._sessions[data.get("session_id") or ""]
        session.conn = conn
        conn.session = session
        last = data.get("seq") or 0
        for seq, frame in list(session.buffer):
            if seq > last:
                await conn.ws.send_str(frame)
        await self._send_dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})

    async def _send_dispatch(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
        session.buffer.append((session.seq, frame))
        del session.buffer[:-1000]
        self.dispatched.append((self._now(), event, data))
        conn = session.conn
        if conn is not None and not conn.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.send_str(frame)
        self._notify()

    async def _echo(self, event: str, message: dict[str, Any]) -> None:
        """Dispatches the bot's own message create/update/delete, as Discord does."""
        guild_id = message.get("guild_id")
        session = self._session_for(guild_id)
        if session is None or message.get("flags", 0) & FLAG_EPHEMERAL:
            return
        await self._send_dispatch(session, event, copy.deepcopy(message))

    async def reconnect(self) -> None:
        """Asks the bot to reconnect (op 7 RECONNECT); it resumes its session."""
        await self.wait_ready()
        conn = self._live_conn()
        assert conn is not None
        await conn.ws.send_str(json.dumps({"op": 7, "d": None, "s": None, "t": None}))

    def heartbeat_gaps(self, *, include_pending: bool = False) -> list[float]:
        """Seconds between consecutive heartbeats on the same connection.

        ``include_pending`` also appends, for each live connection, the time since its last
        heartbeat (a blocked event loop shows up there before the next heartbeat arrives).
        """
        gaps: list[float] = []
        last: dict[int, float] = {}
        for conn_id, t in self.heartbeats:
            if conn_id in last:
                gaps.append(t - last[conn_id])
            last[conn_id] = t
        if include_pending:
            now = self._now()
            for conn in self._conns:
                if not conn.closed and conn.id in last:
                    gaps.append(now - last[conn.id])
        return gaps

    @property
    def ready_sessions(self) -> int:
        """How many sessions got READY so far: a restarted bot's new session adds one."""
        return self._ready_sessions
