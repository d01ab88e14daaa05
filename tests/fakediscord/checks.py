"""Protocol checks: message, embed, component and mention rules, and :meth:`problems`."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from .constants import (
    FLAG_LOADING,
    ROLE_MENTION_RE,
    USER_MENTION_RE,
)
from .models import (
    _ApiError,
    _errors_tree,
    _walk_components,
)


class ChecksMixin:
    """A part of :class:`~fakediscord.server.FakeDiscord` (the module docstring says which)."""

    def problems(self, *, unknown_routes: bool = True) -> list[str]:
        """Everything a clean end-to-end run must not have, as readable lines.

        Violations, 429 answers, unknown routes (unless ``unknown_routes=False``),
        interactions never answered within the deadline, and "thinking" responses that
        were never completed.  Call it once the scenario is over.
        """
        out = list(self.violations)
        out += [f"429 on {r['method']} {r['path']}" for r in self.rate_limited]
        if unknown_routes:
            out += [f"unknown route {u['method']} {u['path']}" for u in self.unknown_routes]
        now = self._now()
        for rec in self.interactions:
            if rec.late or rec.acknowledged:
                original = self.messages.get(rec.original_message_id or "")
                if original is not None and original.get("flags", 0) & FLAG_LOADING:
                    out.append(f"interaction {rec.name!r}: deferred but never completed")
            elif now - rec.dispatched_at > self.ack_deadline_s:
                out.append(f"interaction {rec.name!r}: never answered")
        return out

    def assert_clean(self, *, unknown_routes: bool = True) -> None:
        """Raises AssertionError listing :meth:`problems`, if any."""
        found = self.problems(unknown_routes=unknown_routes)
        if found:
            raise AssertionError("fake Discord saw problems:\n  " + "\n  ".join(found))

    def _check_message_payload(
        self,
        payload: dict[str, Any],
        where: str,
        *,
        creating: bool,
        files: list[dict[str, Any]] | None = None,
        existing: dict[str, Any] | None = None,
    ) -> None:
        """Validates limits and mention safety; raises a 400 (code 50035/50006) on errors."""
        problems: list[tuple[str, str, str]] = []

        def bad(path: str, code: str, message: str) -> None:
            problems.append((path, code, message))

        def max_len(path: str, value: Any, limit: int) -> None:
            if isinstance(value, str) and len(value) > limit:
                bad(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

        max_len("content", payload.get("content"), 2000)

        embeds = payload.get("embeds")
        if embeds is not None:
            if len(embeds) > 10:
                bad("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
            total = 0
            for i, embed in enumerate(embeds):
                p = f"embeds.{i}"
                for key, limit in (("title", 256), ("description", 4096)):
                    max_len(f"{p}.{key}", embed.get(key), limit)
                    total += len(embed.get(key) or "")
                fields = embed.get("fields") or []
                if len(fields) > 25:
                    bad(f"{p}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
                for j, fld in enumerate(fields):
                    max_len(f"{p}.fields.{j}.name", fld.get("name"), 256)
                    max_len(f"{p}.fields.{j}.value", fld.get("value"), 1024)
                    if not fld.get("name") or not fld.get("value"):
                        bad(f"{p}.fields.{j}", "BASE_TYPE_REQUIRED", "This field is required")
                    total += len(fld.get("name") or "") + len(fld.get("value") or "")
                footer = (embed.get("footer") or {}).get("text")
                author = (embed.get("author") or {}).get("name")
                max_len(f"{p}.footer.text", footer, 2048)
                max_len(f"{p}.author.name", author, 256)
                total += len(footer or "") + len(author or "")
            if total > 6000:
                bad(
                    "embeds",
                    "MAX_EMBED_SIZE_EXCEEDED",
                    f"Embed size exceeds maximum size of 6000 ({total} characters)",
                )

        components = payload.get("components")
        if components is not None:
            self._check_components(components, bad)

        if problems:
            for path, _code, message in problems:
                detail = self._describe(payload, path)
                self._violation(f"{where}: {path}: {message}{detail}")
            raise _ApiError(400, 50035, "Invalid Form Body", _errors_tree(problems))

        # empty message check (the resulting message must show something)
        merged = dict(existing or {})
        for key in ("content", "embeds", "components", "attachments"):
            if key in payload:
                merged[key] = payload[key]
        has_files = bool(files) or bool(merged.get("attachments"))
        loading = existing is not None and existing.get("flags", 0) & FLAG_LOADING
        if not (
            merged.get("content") or merged.get("embeds") or merged.get("components") or has_files
        ) and (creating or "content" in payload or loading):
            self._violation(f"{where}: empty message (no content, embeds, components or files)")
            raise _ApiError(400, 50006, "Cannot send an empty message")

        self._check_mentions(payload, where)

    @staticmethod
    def _describe(payload: dict[str, Any], path: str) -> str:
        node: Any = payload
        for part in path.split("."):
            if isinstance(node, list) and part.isdigit():
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.get(part)
        return f" (length {len(node)})" if isinstance(node, str) else ""

    @staticmethod
    def _check_components(
        components: list[dict[str, Any]], bad: Callable[[str, str, str], None]
    ) -> None:
        seen_ids: set[str] = set()
        if len(components) > 5:
            bad("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        for i, row in enumerate(components):
            if row.get("type") != 1:
                bad(
                    f"components.{i}.type",
                    "BASE_TYPE_CHOICES",
                    "Top-level components must be action rows (type 1).",
                )
                continue
            children = row.get("components") or []
            if not children:
                bad(
                    f"components.{i}.components",
                    "BASE_TYPE_MIN_LENGTH",
                    "Must be 1 or more in length.",
                )
            if len(children) > 5:
                bad(
                    f"components.{i}.components",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 5 or fewer in length.",
                )
            if any(c.get("type") in (3, 5, 6, 7, 8) for c in children) and len(children) > 1:
                bad(
                    f"components.{i}.components",
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "A select menu must be alone in its action row.",
                )
        for comp in _walk_components(components):
            ctype = comp.get("type")
            cid = comp.get("custom_id")
            if isinstance(cid, str):
                if len(cid) > 100:
                    bad(
                        "components.custom_id",
                        "BASE_TYPE_MAX_LENGTH",
                        f"custom_id {cid[:20]!r}... must be 100 or fewer in length.",
                    )
                if cid in seen_ids:
                    bad(
                        "components.custom_id",
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        f"Component custom id {cid!r} cannot be duplicated",
                    )
                seen_ids.add(cid)
            if ctype == 2:
                label = comp.get("label")
                if isinstance(label, str) and len(label) > 80:
                    bad(
                        "components.label",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Button label of length {len(label)} must be 80 or fewer in length.",
                    )
                if not cid:
                    bad("components.custom_id", "BASE_TYPE_REQUIRED", "Buttons need a custom_id.")
                if not label and not comp.get("emoji"):
                    bad(
                        "components.label",
                        "BASE_TYPE_REQUIRED",
                        "Buttons need a label or an emoji.",
                    )

    def _check_mentions(self, payload: dict[str, Any], where: str) -> None:
        allowed = payload.get("allowed_mentions")
        content = payload.get("content")
        self.allowed_mentions.append(
            {"where": where, "allowed_mentions": copy.deepcopy(allowed), "content": content}
        )
        if not isinstance(content, str) or not content:
            return
        if allowed is None:
            parse = {"everyone", "users", "roles"}  # Discord's default: everything pings
            users: list[str] = []
            roles: list[str] = []
        else:
            parse = set(allowed.get("parse") or [])
            users = [str(u) for u in allowed.get("users") or []]
            roles = [str(r) for r in allowed.get("roles") or []]
        described = "absent" if allowed is None else json.dumps(allowed)
        if ("@everyone" in content or "@here" in content) and "everyone" in parse:
            self._violation(
                f"{where}: content contains @everyone/@here and allowed_mentions ({described}) "
                "lets it ping"
            )
        for rid in ROLE_MENTION_RE.findall(content):
            if "roles" in parse or rid in roles:
                self._violation(
                    f"{where}: content mentions role <@&{rid}> and allowed_mentions "
                    f"({described}) lets it ping"
                )
        for uid in USER_MENTION_RE.findall(content):
            if "users" in parse or uid in users:
                self._violation(
                    f"{where}: content mentions user <@{uid}> and allowed_mentions "
                    f"({described}) lets it ping"
                )
