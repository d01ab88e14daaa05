"""Simulated user interactions: slash commands, autocomplete, buttons, selects and modals."""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any

from .constants import (
    ATTACHMENT_SIZE_LIMIT,
    FLAG_EPHEMERAL,
    IT_APPLICATION_COMMAND,
    IT_AUTOCOMPLETE,
    IT_COMPONENT,
    IT_MODAL_SUBMIT,
)
from .models import (
    Interaction,
    _walk_components,
)


class InteractionsMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _interaction_base(
        self,
        itype: int,
        user: dict[str, Any],
        *,
        guild: bool,
        channel_id: Any,
        data: dict[str, Any],
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        iid = self._snowflake()
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": str(self.app_id),
            "type": itype,
            "data": data,
            "token": "fake-interaction-" + secrets.token_urlsafe(32),
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(self._permissions(self.bot_user_id)),
        }
        if guild:
            cid = str(channel_id or self.channel_id)
            if cid not in self.channels:
                raise AssertionError(f"unknown guild channel {cid}")
            gid = self.channels[cid]["guild_id"]
            member = self._member_payload(user["id"])
            member["permissions"] = str(self._permissions(user["id"]))
            payload.update(
                {
                    "guild_id": gid,
                    "guild": {"id": gid, "locale": "en-US", "features": []},
                    "guild_locale": "en-US",
                    "channel_id": cid,
                    "channel": dict(self.channels[cid], permissions=member["permissions"]),
                    "member": member,
                    "context": 0,
                    "authorizing_integration_owners": {"0": gid},
                }
            )
        else:
            channel = self._dm_channel(user)
            payload.update(
                {
                    "channel_id": channel["id"],
                    "channel": copy.deepcopy(channel),
                    "user": user,
                    "context": 1,
                    "authorizing_integration_owners": {"0": str(self.guild_id)},
                }
            )
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        return payload

    async def _dispatch_interaction(self, payload: dict[str, Any], name: str) -> Interaction:
        record = Interaction(
            id=payload["id"],
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            dispatched_at=0.0,
            channel_id=payload["channel_id"],
            guild_id=payload.get("guild_id"),
            user_id=(payload.get("member") or payload)["user"]["id"],
            name=name,
        )
        if "message" in payload:
            record.component_message_id = payload["message"]["id"]
        self.interactions.append(record)
        self._by_token[record.token] = record
        self._by_interaction_id[record.id] = record
        session = self._session_for(record.guild_id)
        if session is None:
            shard = self._shard_for(record.guild_id)
            raise AssertionError(f"the bot is not connected to the fake gateway (shard {shard})")
        record.shard, record.session_id = session.shard[0], session.id
        record.dispatched_at = self._now()
        await self._send_dispatch(session, "INTERACTION_CREATE", payload)
        record.dispatched_at = self._now()
        return record

    async def slash_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        user: Any = None,
        subcommand: str | None = None,
        guild: bool = True,
        channel_id: Any = None,
    ) -> Interaction:
        """Dispatches an INTERACTION_CREATE (type 2) for a synced slash command.

        ``options`` maps option names to values (strings, ints, floats, bools; users by
        id/username, roles and channels by id/name).  ``subcommand`` is ``"sub"`` or
        ``"group sub"``.  ``guild=False`` invokes it in the user's DM with the bot.
        Returns the :class:`Interaction` record right after dispatch.
        """
        await self.wait_ready()
        u = self._resolve_user(user)
        cmd = self._find_command(name, guild, channel_id=channel_id)
        data = self._build_command_data(cmd, subcommand, options, guild)
        payload = self._interaction_base(
            IT_APPLICATION_COMMAND, u, guild=guild, channel_id=channel_id, data=data
        )
        full_name = f"{name} {subcommand}" if subcommand else name
        return await self._dispatch_interaction(payload, full_name)

    async def autocomplete(
        self,
        name: str,
        option_name: str,
        value: Any,
        options: dict[str, Any] | None = None,
        user: Any = None,
        subcommand: str | None = None,
        guild: bool = True,
        channel_id: Any = None,
        *,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Dispatches an autocomplete interaction (type 4) and returns the bot's choices."""
        await self.wait_ready()
        u = self._resolve_user(user)
        cmd = self._find_command(name, guild, channel_id=channel_id)
        opts = dict(options or {})
        opts[option_name] = value
        data = self._build_command_data(cmd, subcommand, opts, guild, focused=option_name)
        payload = self._interaction_base(
            IT_AUTOCOMPLETE, u, guild=guild, channel_id=channel_id, data=data
        )
        record = await self._dispatch_interaction(payload, f"{name} (autocomplete {option_name})")
        await self._wait_until(
            lambda: record.response is not None or record.late,
            timeout,
            f"autocomplete choices for /{name} {option_name}",
        )
        if record.response is None or record.choices is None:
            raise AssertionError(
                f"autocomplete for /{name} was not answered correctly: {record.callbacks}"
            )
        return record.choices

    def _find_component(self, message: dict[str, Any], custom_id: str) -> dict[str, Any]:
        for comp in _walk_components(message.get("components") or []):
            if comp.get("custom_id") == custom_id:
                return comp
        ids = [c.get("custom_id") for c in _walk_components(message.get("components") or [])]
        raise AssertionError(
            f"message {message['id']} has no component {custom_id!r}; custom_ids: "
            f"{[i for i in ids if i]}"
        )

    async def _component_interaction(
        self, message_id: Any, custom_id: str, user: Any, data_extra: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        await self.wait_ready()
        message = self.messages.get(message_id)
        if message is None:
            raise AssertionError(f"unknown (or deleted) message {message_id}")
        age = self._now() - self._message_changed_at.get(message["id"], 0.0)
        if age < self.click_delay_s:
            await asyncio.sleep(self.click_delay_s - age)
            message = self.messages.get(message_id)
            if message is None:
                raise AssertionError(f"message {message_id} was deleted")
        comp = self._find_component(message, custom_id)
        if comp.get("disabled"):
            raise AssertionError(f"component {custom_id!r} is disabled; a user cannot use it")
        u = self._resolve_user(user)
        if message.get("flags", 0) & FLAG_EPHEMERAL:
            owner = (message.get("interaction_metadata") or {}).get("user", {}).get("id")
            if owner and owner != u["id"]:
                raise AssertionError("only the invoking user can see this ephemeral message")
        data = {"custom_id": custom_id, "component_type": comp["type"], **data_extra}
        payload = self._interaction_base(
            IT_COMPONENT,
            u,
            guild=message.get("guild_id") is not None,
            channel_id=message["channel_id"],
            data=data,
            message=message,
        )
        return payload, comp, u

    async def press_button(self, message_id: Any, custom_id: str, user: Any = None) -> Interaction:
        """Clicks a button (interaction type 3) on a stored message; returns the record."""
        payload, comp, _ = await self._component_interaction(message_id, custom_id, user, {})
        if comp["type"] != 2:
            raise AssertionError(f"component {custom_id!r} is not a button (type {comp['type']})")
        return await self._dispatch_interaction(payload, custom_id)

    async def select(
        self, message_id: Any, custom_id: str, values: list[str], user: Any = None
    ) -> Interaction:
        """Chooses ``values`` in a select menu on a stored message; returns the record."""
        payload, comp, _ = await self._component_interaction(
            message_id, custom_id, user, {"values": list(values)}
        )
        if comp["type"] != 3:
            raise AssertionError(f"component {custom_id!r} is not a string select menu")
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise AssertionError(f"select {custom_id!r} takes {lo}..{hi} values, got {values}")
        offered = [o["value"] for o in comp.get("options", [])]
        if set(values) - set(offered):
            raise AssertionError(f"select {custom_id!r} offers {offered}, got {values}")
        return await self._dispatch_interaction(payload, custom_id)

    async def submit_modal(
        self, interaction: Interaction, values: dict[str, str], user: Any = None
    ) -> Interaction:
        """Submits the modal the bot opened in answer to ``interaction`` (type 5)."""
        modal = interaction.modal
        if modal is None:
            raise AssertionError(f"the bot did not open a modal for {interaction.name!r}")
        opened = interaction.response
        if opened is not None and self._now() - opened.time < self.click_delay_s:
            await asyncio.sleep(self.click_delay_s - (self._now() - opened.time))
        u = self._resolve_user(user or interaction.user_id)
        inputs = {}
        rows: list[dict[str, Any]] = []
        for top in modal.get("components", []):
            if top.get("type") == 1:
                inner = []
                for comp in top.get("components", []):
                    if comp.get("type") == 4:
                        inputs[comp["custom_id"]] = comp
                        inner.append(
                            {
                                "type": 4,
                                "id": comp.get("id"),
                                "custom_id": comp["custom_id"],
                                "value": values.get(comp["custom_id"], ""),
                            }
                        )
                rows.append({"type": 1, "id": top.get("id"), "components": inner})
        unknown = set(values) - set(inputs)
        if unknown:
            raise AssertionError(f"modal has no text inputs {sorted(unknown)}; has {list(inputs)}")
        for cid, comp in inputs.items():
            value = values.get(cid, "")
            if comp.get("required", True) and not value:
                raise AssertionError(f"modal text input {cid!r} is required")
            if len(value) > comp.get("max_length", 4000):
                raise AssertionError(f"modal text input {cid!r} is too long")
        data = {"custom_id": modal["custom_id"], "components": rows}
        message = None
        if interaction.component_message_id:
            message = self.messages.get(interaction.component_message_id)
        payload = self._interaction_base(
            IT_MODAL_SUBMIT,
            u,
            guild=interaction.guild_id is not None,
            channel_id=interaction.channel_id,
            data=data,
            message=message,
        )
        record = await self._dispatch_interaction(payload, modal["custom_id"])
        record.component_message_id = interaction.component_message_id
        return record
