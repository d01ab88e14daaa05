"""The bot's answers to interactions: callbacks, the original response and followups."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .constants import (
    CB_ALLOWED,
    CB_NAMES,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    IT_APPLICATION_COMMAND,
)
from .models import (
    Callback,
    Interaction,
    _ApiError,
    _errors_tree,
)


class CallbacksMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    async def _h_callback(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        record = self._by_interaction_id.get(params["interaction_id"])
        if record is None or record.token != params["token"]:
            self._violation(f"callback to unknown interaction {params['interaction_id']}")
            raise _ApiError(404, 10062, "Unknown interaction")
        payload = body if isinstance(body, dict) else {}
        ctype = payload.get("type")
        data = payload.get("data")
        now = self._now()
        callback = Callback(type=ctype, data=data, elapsed=now - record.dispatched_at, time=now)
        record.callbacks.append(callback)
        self._notify()
        try:
            return await self._accept_callback(record, callback, files)
        except _ApiError as err:
            callback.status = err.status
            callback.error = f"{err.code} {err.message}"
            raise
        finally:
            self._notify()

    async def _accept_callback(
        self, record: Interaction, callback: Callback, files: list[dict[str, Any]]
    ) -> web.Response:
        ctype = callback.type
        data = callback.data if isinstance(callback.data, dict) else {}
        label = f"interaction {record.name!r}"
        if any(cb.accepted for cb in record.callbacks[:-1]):
            self._violation(
                f"{label}: second callback ({CB_NAMES.get(ctype, ctype)}) after it was already "
                "acknowledged"
            )
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        if callback.elapsed > self.ack_deadline_s:
            record.late = True
            self._violation(
                f"{label}: first response after {callback.elapsed:.2f}s, past the "
                f"{self.ack_deadline_s:.0f}-second deadline"
            )
            raise _ApiError(404, 10062, "Unknown interaction")
        if ctype not in CB_ALLOWED.get(record.type, set()):
            self._violation(
                f"{label}: callback type {ctype} ({CB_NAMES.get(ctype, '?')}) is not valid for "
                f"interaction type {record.type}"
            )
            raise _ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": []}})
        where = f"{label} callback {CB_NAMES.get(ctype)}"
        is_command = record.type == IT_APPLICATION_COMMAND
        message: dict[str, Any] | None = None
        response_message_id: str | None = None
        guild_id = record.guild_id
        if ctype == 4:
            self._check_message_payload(data, where, creating=True, files=files)
            message = self._bot_message(
                data,
                channel_id=record.channel_id,
                guild_id=guild_id,
                files=files,
                msg_type=20 if is_command else 0,
                interaction=record,
            )
            self._store_message(message)
            record.original_message_id = message["id"]
            await self._echo("MESSAGE_CREATE", message)
        elif ctype == 5:
            message = self._bot_message(
                {"content": "", "flags": data.get("flags", 0)},
                channel_id=record.channel_id,
                guild_id=guild_id,
                msg_type=20 if is_command else 0,
                flags=FLAG_LOADING,
                interaction=record,
            )
            self._store_message(message)
            record.original_message_id = message["id"]
            await self._echo("MESSAGE_CREATE", message)
        elif ctype in (6, 7):
            if record.component_message_id is None:
                self._violation(f"{where}: there is no message to update (not from a component)")
                raise _ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": []}})
            target = self.messages[record.component_message_id]
            if ctype == 7:
                self._check_message_payload(data, where, creating=False, existing=target)
                self._apply_edit(target, data, files)
                await self._echo("MESSAGE_UPDATE", target)
                message = target
            record.original_message_id = target["id"]
            response_message_id = target["id"]
        elif ctype == 8:
            choices = data.get("choices")
            problems = []
            if not isinstance(choices, list) or len(choices) > 25:
                problems.append(("data.choices", "BASE_TYPE_MAX_LENGTH", "1-25 choices"))
            for i, choice in enumerate(choices or []):
                name = choice.get("name")
                if not isinstance(name, str) or not 1 <= len(name) <= 100:
                    problems.append(
                        (f"data.choices.{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long")
                    )
                value = choice.get("value")
                if isinstance(value, str) and len(value) > 100:
                    problems.append(
                        (f"data.choices.{i}.value", "BASE_TYPE_MAX_LENGTH", "Must be <= 100")
                    )
            if problems:
                for path, _c, msg in problems:
                    self._violation(f"{where}: {path}: {msg}")
                raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))
            record.choices = choices
        elif ctype == 9:
            record.modal = copy.deepcopy(data)
        callback.accepted = True
        callback.status = 200
        if message is not None:
            response_message_id = message["id"]
        interaction_info: dict[str, Any] = {"id": record.id, "type": record.type}
        if response_message_id is not None:
            interaction_info["response_message_id"] = response_message_id
            interaction_info["response_message_loading"] = ctype == 5
            flags = (message or self.messages.get(response_message_id) or {}).get("flags", 0)
            interaction_info["response_message_ephemeral"] = bool(flags & FLAG_EPHEMERAL)
        result: dict[str, Any] = {"interaction": interaction_info}
        if message is not None:
            result["resource"] = {"type": ctype, "message": copy.deepcopy(message)}
        return self._json(result)

    def _webhook_record(self, params: dict[str, str]) -> Interaction:
        record = self._by_token.get(params["token"])
        if record is None or params["app_id"] != str(self.app_id):
            raise _ApiError(404, 10015, "Unknown Webhook")
        return record

    def _webhook_message(self, record: Interaction, message_id: str, where: str) -> dict[str, Any]:
        if message_id == "@original":
            mid = record.original_message_id
            if mid is None:
                self._violation(
                    f"{where}: interaction {record.name!r} has no original response yet "
                    "(respond or defer first)"
                )
                raise _ApiError(404, 10008, "Unknown Message")
        else:
            mid = message_id
            if mid != record.original_message_id and mid not in record.followup_ids:
                raise _ApiError(404, 10008, "Unknown Message")
        return self.messages[mid]

    async def _h_webhook_get(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        record = self._webhook_record(params)
        where = f"GET webhook message {params['message_id']}"
        return self._json(self._webhook_message(record, params["message_id"], where))

    async def _h_webhook_edit(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        record = self._webhook_record(params)
        where = f"interaction {record.name!r} PATCH messages/{params['message_id']}"
        message = self._webhook_message(record, params["message_id"], where)
        payload = body if isinstance(body, dict) else {}
        self._check_message_payload(payload, where, creating=False, files=files, existing=message)
        self._apply_edit(message, payload, files)
        await self._echo("MESSAGE_UPDATE", message)
        return self._json(message)

    async def _h_followup(self, request: web.Request, params: dict, body: Any, files: list) -> Any:
        record = self._webhook_record(params)
        where = f"interaction {record.name!r} followup"
        if not record.acknowledged:
            self._violation(f"{where}: sent before the interaction was acknowledged")
            raise _ApiError(404, 10015, "Unknown Webhook")
        payload = body if isinstance(body, dict) else {}
        original = self.messages.get(record.original_message_id or "")
        wait = request.query.get("wait", "").lower() in ("1", "true")
        if original is not None and original.get("flags", 0) & FLAG_LOADING:
            # Discord: the first followup after a "thinking" defer replaces the loading message.
            self._check_message_payload(payload, where, creating=True, files=files)
            edit = {k: v for k, v in payload.items() if k != "flags"}
            edit.setdefault("content", payload.get("content"))
            self._apply_edit(original, edit, files)
            await self._echo("MESSAGE_UPDATE", original)
            return self._json(original) if wait else web.Response(status=204)
        self._check_message_payload(payload, where, creating=True, files=files)
        message = self._bot_message(
            payload,
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            files=files,
            msg_type=0,
            interaction=record,
        )
        self._store_message(message)
        record.followup_ids.append(message["id"])
        await self._echo("MESSAGE_CREATE", message)
        return self._json(message) if wait else web.Response(status=204)
