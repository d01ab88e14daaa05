"""HTTP plumbing: request parsing, routing, error bodies and per-route rate limits."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from aiohttp import web

from .models import (
    Event,
    _ApiError,
    _Bucket,
    _Route,
)


class TransportMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        # content_type must be exactly application/json (no charset) for discord.py.
        return web.Response(
            body=json.dumps(data).encode(),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    def _error(self, err: _ApiError) -> web.Response:
        body: dict[str, Any] = {"message": err.message, "code": err.code}
        if err.errors:
            body["errors"] = err.errors
        return self._json(body, err.status)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        files: list[dict[str, Any]] = []
        if not request.can_read_body:
            return None, files
        ctype = request.content_type
        if ctype == "multipart/form-data":
            payload = None
            reader = await request.multipart()
            async for raw_part in reader:
                part: Any = raw_part
                if part is None:
                    break
                data = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(data.decode())
                elif part.filename:
                    files.append(
                        {
                            "filename": part.filename,
                            "size": len(data),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return payload, files
        return json.loads(await request.read()), files

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        method = request.method
        body, files = await self._read_body(request)
        event = Event("http", method, path, body, self._now(), query=dict(request.query))
        self.events.append(event)
        try:
            response = await self._route(request, method, path, body, files)
        except AssertionError as err:  # a broken invariant inside the fake: surface it
            self._violation(f"{method} {path}: fake server error: {err}")
            response = self._json({"message": str(err), "code": 0}, 500)
        event.status = response.status
        self._notify()
        return response

    async def _route(
        self,
        request: web.Request,
        method: str,
        path: str,
        body: Any,
        files: list[dict[str, Any]],
    ) -> web.StreamResponse:
        if not path.startswith("/api/v10/"):
            return self._unknown(method, path, body)
        rel = path[len("/api/v10") :]
        for route in self._routes:
            if route.method != method:
                continue
            match = route.regex.match(rel)
            if match is None:
                continue
            params = match.groupdict()
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return self._json({"message": "401: Unauthorized", "code": 0}, 401)
            bucket_key = self._bucket_key(route, params)
            if bucket_key is not None:
                limited = self._rate_limit_check(route, bucket_key, method, path)
                if limited is not None:
                    return limited
            try:
                response = await route.handler(request, params, body, files)
            except _ApiError as err:
                response = self._error(err)
            if bucket_key is not None and self.rate_limit_headers:
                response.headers.update(self._rate_limit_headers(route, bucket_key))
            return response
        return self._unknown(method, path, body)

    def _unknown(self, method: str, path: str, body: Any) -> web.Response:
        self.unknown_routes.append({"method": method, "path": path, "json": body})
        return self._json({"message": "404: Not Found", "code": 0}, 404)

    # ---------------------------------------------------------------- rate limits

    def _bucket_key(self, route: _Route, params: dict[str, str]) -> tuple[str, str] | None:
        if route.bucket is None:
            return None
        if route.bucket == "message":
            major = params.get("channel_id", "")
        elif route.bucket == "webhook":
            major = f"{params.get('app_id')}+{params.get('token')}"
        else:
            major = ""
        return (f"{route.method} {route.template}", major)

    def _limits_for(self, route: _Route) -> tuple[int, float]:
        if route.bucket in ("message", "webhook"):
            return self.rate_limit
        return (50, 1.0)

    def _rate_limit_check(
        self, route: _Route, key: tuple[str, str], method: str, path: str
    ) -> web.Response | None:
        now = time.monotonic()
        limit, per = self._limits_for(route)
        bucket = self._buckets.get(key)
        if bucket is None or now >= bucket.window_start + per:
            bucket = self._buckets[key] = _Bucket(limit=limit, per=per, window_start=now)
        if bucket.count >= bucket.limit:
            retry_after = round(max(bucket.window_start + per - now, 0.001), 3)
            record = {
                "method": method,
                "path": path,
                "bucket": key[0],
                "major": key[1],
                "retry_after": retry_after,
                "time": self._now(),
            }
            self.rate_limited.append(record)
            self._notify()
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(retry_after))),
                "X-RateLimit-Scope": "user",
                "X-RateLimit-Global": "false",
            }
            if self.rate_limit_headers:
                headers.update(self._rate_limit_headers(route, key))
            return self._json(
                {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                },
                429,
                headers,
            )
        bucket.count += 1
        if bucket.count == bucket.limit and route.bucket in ("message", "webhook"):
            self.rate_limit_exhausted.append(
                {"method": method, "path": path, "bucket": key[0], "time": self._now()}
            )
        return None

    def _rate_limit_headers(self, route: _Route, key: tuple[str, str]) -> dict[str, str]:
        bucket = self._buckets[key]
        now = time.monotonic()
        reset_after = max(bucket.window_start + bucket.per - now, 0.0)
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(bucket.limit - bucket.count, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(key[0].encode()).hexdigest()[:16],
        }
