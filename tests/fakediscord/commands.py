"""Application commands: the bot's command sync (validated and stored) and building invocations of them."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .constants import (
    COMMAND_NAME_RE,
    OPT_CHANNEL,
    OPT_INTEGER,
    OPT_STRING,
    OPT_SUB_COMMAND,
    OPT_SUB_COMMAND_GROUP,
    OPT_USER,
    P_ALL,
)
from .models import (
    _ApiError,
    _errors_tree,
)


class CommandsMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def _find_command(self, name: str, guild: bool, channel_id: Any = None) -> dict[str, Any]:
        if guild:
            channel = self.channels.get(channel_id or self.channel_id)
            gid = channel["guild_id"] if channel else self.guild_id
            gcmds = self.guild_commands.get(gid, {})
            for cmd in gcmds.values():
                if cmd["name"] == name:
                    return cmd
        for cmd in self.commands.values():
            if cmd["name"] == name:
                if not guild and (
                    cmd.get("dm_permission") is False
                    or (cmd.get("contexts") is not None and 1 not in cmd["contexts"])
                ):
                    raise AssertionError(f"command {name!r} is not available in DMs")
                return cmd
        synced = sorted(self.commands) + [
            f"{n} (guild {g})" for g, cmds in self.guild_commands.items() for n in cmds
        ]
        where = "in the guild" if guild else "in DMs (only global commands work there)"
        raise AssertionError(
            f"command {name!r} is not synced {where}; synced commands: {synced or 'none'}"
        )

    def _coerce_option(
        self, opt: dict[str, Any], value: Any, resolved: dict[str, Any], guild: bool
    ) -> Any:
        otype = opt.get("type")
        name = opt["name"]
        if otype == OPT_STRING:
            if not isinstance(value, str):
                raise AssertionError(f"option {name!r} is a string option, got {value!r}")
        elif otype == OPT_INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise AssertionError(f"option {name!r} is an integer option, got {value!r}")
        elif otype == OPT_USER:
            user = self._resolve_user(value)
            value = user["id"]
            resolved.setdefault("users", {})[value] = user
            member = self._member_payload(value, with_user=False)
            if guild:
                member["permissions"] = str(self._permissions(value))
                resolved.setdefault("members", {})[value] = member
        elif otype == OPT_CHANNEL:
            channel = self.channels.get(value) or next(
                (c for c in self.channels.values() if c["name"] == value), None
            )
            if channel is None:
                raise AssertionError(f"option {name!r}: unknown channel {value!r}")
            value = channel["id"]
            resolved.setdefault("channels", {})[value] = {
                k: channel[k] for k in ("id", "name", "type", "parent_id", "flags")
            } | {"permissions": str(P_ALL)}
        else:
            raise AssertionError(f"option {name!r}: option type {otype} is not supported")
        if otype == OPT_INTEGER:
            if "min_value" in opt and value < opt["min_value"]:
                raise AssertionError(f"option {name!r} is below {opt['min_value']}")
            if "max_value" in opt and value > opt["max_value"]:
                raise AssertionError(f"option {name!r} is above {opt['max_value']}")
        if opt.get("choices"):
            allowed = [c["value"] for c in opt["choices"]]
            if value not in allowed:
                raise AssertionError(f"option {name!r} must be one of {allowed}, got {value!r}")
        return value

    def _build_command_data(
        self,
        cmd: dict[str, Any],
        subcommand: str | None,
        options: dict[str, Any] | None,
        guild: bool,
        focused: str | None = None,
    ) -> dict[str, Any]:
        options = dict(options or {})
        path = subcommand.split() if subcommand else []
        level = cmd.get("options") or []
        chain: list[dict[str, Any]] = []
        for part in path:
            found = next(
                (
                    o
                    for o in level
                    if o["name"] == part and o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)
                ),
                None,
            )
            if found is None:
                subs = [o["name"] for o in level if o["type"] in (1, 2)]
                raise AssertionError(
                    f"/{cmd['name']} has no subcommand {part!r} here; available: {subs}"
                )
            chain.append(found)
            level = found.get("options") or []
        subs_left = [o["name"] for o in level if o["type"] in (OPT_SUB_COMMAND, 2)]
        if subs_left:
            raise AssertionError(
                f"/{cmd['name']} {' '.join(path)} needs a subcommand: pass subcommand= one of "
                f"{subs_left}"
            )
        resolved: dict[str, Any] = {}
        leaf: list[dict[str, Any]] = []
        definitions = {o["name"]: o for o in level}
        for key, value in options.items():
            opt = definitions.get(key)
            if opt is None:
                raise AssertionError(
                    f"/{cmd['name']} {' '.join(path)} has no option {key!r}; "
                    f"options: {sorted(definitions)}"
                )
            entry: dict[str, Any] = {"name": key, "type": opt["type"]}
            if key == focused:
                if not opt.get("autocomplete"):
                    raise AssertionError(f"option {key!r} does not have autocomplete enabled")
                entry["value"] = value if opt["type"] != OPT_STRING else str(value)
                entry["focused"] = True
            else:
                entry["value"] = self._coerce_option(opt, value, resolved, guild)
            leaf.append(entry)
        if focused is None:
            missing = [o["name"] for o in level if o.get("required") and o["name"] not in options]
            if missing:
                raise AssertionError(f"/{cmd['name']}: missing required options {missing}")
        elif focused not in options:
            raise AssertionError(f"focused option {focused!r} needs a value in options")
        nested: list[dict[str, Any]] = leaf
        for sub in reversed(chain):
            nested = [{"name": sub["name"], "type": sub["type"], "options": nested}]
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": 1,
            "options": nested,
        }
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _check_app(self, params: dict[str, str]) -> None:
        if params.get("app_id") != str(self.app_id):
            raise _ApiError(403, 50001, "Missing Access")

    def _validate_command(self, cmd: dict[str, Any], index: int) -> list[tuple[str, str, str]]:
        problems: list[tuple[str, str, str]] = []
        name = cmd.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            problems.append((f"{index}.name", "BASE_TYPE_BAD_LENGTH", "Must be 1-32 characters"))
        elif not COMMAND_NAME_RE.match(name) or name != name.lower():
            problems.append((f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid name"))
        description = cmd.get("description", "")
        if not 1 <= len(description or "") <= 100:
            problems.append(
                (f"{index}.description", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 characters")
            )

        def walk(options: list[dict[str, Any]], prefix: str) -> None:
            if len(options) > 25:
                problems.append((f"{prefix}.options", "BASE_TYPE_MAX_LENGTH", "Max 25 options"))
            seen_optional = False
            for j, opt in enumerate(options):
                p = f"{prefix}.options.{j}"
                if opt.get("type") in (1, 2):
                    walk(opt.get("options") or [], p)
                    continue
                if opt.get("required"):
                    if seen_optional:
                        problems.append(
                            (
                                p,
                                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                "Required options must be placed before non-required options",
                            )
                        )
                else:
                    seen_optional = True
                if len(opt.get("choices") or []) > 25:
                    problems.append((f"{p}.choices", "BASE_TYPE_MAX_LENGTH", "Max 25 choices"))
                if opt.get("choices") and opt.get("autocomplete"):
                    problems.append(
                        (p, "AUTOCOMPLETE_AND_CHOICES", "Autocomplete cannot have choices")
                    )
                if not 1 <= len(opt.get("description") or "") <= 100:
                    problems.append(
                        (f"{p}.description", "BASE_TYPE_BAD_LENGTH", "Must be 1-100 characters")
                    )

        walk(cmd.get("options") or [], str(index))
        return problems

    def _store_commands(
        self, table: dict[str, dict[str, Any]], payload: list[dict[str, Any]], guild_id: Any
    ) -> list[dict[str, Any]]:
        old = {c["name"]: c for c in table.values()}
        table.clear()
        stored = []
        for cmd in payload:
            stored.append(self._store_one(table, old, cmd, guild_id))
        return stored

    def _store_one(
        self,
        table: dict[str, dict[str, Any]],
        old: dict[str, dict[str, Any]],
        cmd: dict[str, Any],
        guild_id: Any,
    ) -> dict[str, Any]:
        previous = old.get(cmd["name"])
        entry = copy.deepcopy(cmd)
        entry.setdefault("type", 1)
        entry.setdefault("description", "")
        entry.setdefault("options", [])
        entry.setdefault("default_member_permissions", None)
        entry.setdefault("nsfw", False)
        entry["id"] = previous["id"] if previous else self._snowflake()
        entry["application_id"] = str(self.app_id)
        entry["version"] = self._snowflake()
        if guild_id is not None:
            entry["guild_id"] = str(guild_id)
        else:
            entry.setdefault("contexts", None)
            entry.setdefault("integration_types", [0])
        table[entry["name"]] = entry
        return entry

    def _command_table(self, params: dict[str, str]) -> tuple[dict[str, Any], Any]:
        self._check_app(params)
        guild_id = params.get("guild_id")
        if guild_id is None:
            return self.commands, None
        if guild_id != str(self.guild_id) and guild_id not in self.other_guilds:
            raise _ApiError(403, 50001, "Missing Access")
        return self.guild_commands.setdefault(guild_id, {}), guild_id

    async def _h_put_commands(
        self, request: web.Request, params: dict, body: Any, files: list
    ) -> Any:
        table, guild_id = self._command_table(params)
        problems = [p for i, cmd in enumerate(body) for p in self._validate_command(cmd, i)]
        if problems:
            for path, _code, message in problems:
                self._violation(f"PUT commands: {path}: {message}")
            raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))
        stored = self._store_commands(table, body, guild_id)
        self.syncs.append(
            {"time": self._now(), "guild_id": guild_id, "names": [c["name"] for c in stored]}
        )
        return self._json(stored)
