"""Prompt templates and fixed replies, read from prompts/ once and checked on load.

Templates use `$name` placeholders (string.Template). Each template declares the
placeholders it needs; a missing or unknown placeholder is an error naming the file.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, create_model

from bot.datafile import Record, problem, read_yaml, validate
from bot.errors import KnowledgeError

TEMPLATE_VARIABLES = {
    "answer": {"context", "question", "lead"},
    "define": {"context", "term"},
    "analogy": {"context", "term"},
}
REPLY_KEYS = {
    "greeting",
    "empty",
    "too_long",
    "no_words",
    "off_topic",
    "refused",
    "unknown",
    "unknown_term",
    "secrets",
    "injection",
    "fallback_note",
    "low_confidence_note",
    "busy",
    "rate_limited",
    "queue_full",
    "model_unavailable",
    "lead_yes",
    "lead_no",
    "lead_direct",
    "expected_yes",
    "expected_no",
}


def _reply(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem("must be non-empty text")
    return value.strip()  # line breaks are kept: a reply may have several lines


# prompts/replies.yaml: every reply name, each a non-empty text; nothing else. The fields are
# typed as Any: create_model takes type forms, which mypy cannot yet express (no TypeForm).
_REPLY_FIELDS: dict[str, Any] = {
    key: (Annotated[str, BeforeValidator(_reply)], ...) for key in sorted(REPLY_KEYS)
}
Replies = create_model("Replies", __base__=Record, **_REPLY_FIELDS)


def _placeholders(template: string.Template) -> set[str]:
    return {
        m.group("named") or m.group("braced")
        for m in template.pattern.finditer(template.template)
        if m.group("named") or m.group("braced")
    }


@dataclass(frozen=True)
class Prompts:
    system: str
    templates: dict[str, string.Template]
    replies: dict[str, string.Template]
    directory: Path

    def render(self, name: str, **values: str) -> str:
        template = self.templates[name]
        missing = TEMPLATE_VARIABLES[name] - values.keys()
        if missing:
            raise KnowledgeError(f"prompt '{name}': missing value for ${sorted(missing)[0]}")
        return template.substitute(values)

    def reply(self, key: str, **values: object) -> str:
        return self.replies[key].safe_substitute({k: str(v) for k, v in values.items()})


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: prompt file not found") from None
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot be read ({exc.strerror})") from None


def load_prompts(directory: Path) -> Prompts:
    system = _read(directory / "system.txt").strip()
    if not system:
        raise KnowledgeError(f"{directory / 'system.txt'}: is empty")
    templates = {}
    for name, needed in TEMPLATE_VARIABLES.items():
        path = directory / f"{name}.txt"
        template = string.Template(_read(path).strip())
        found = _placeholders(template)
        if found != needed:
            extra = sorted(found - needed)
            problem = (
                f"unknown placeholder ${extra[0]}"
                if extra
                else (f"missing placeholder ${sorted(needed - found)[0]}")
            )
            raise KnowledgeError(f"{path}: {problem} (expected {', '.join(sorted(needed))})")
        templates[name] = template
    replies_path = directory / "replies.yaml"
    record = validate(Replies, read_yaml(replies_path), replies_path)
    replies = {k: string.Template(v) for k, v in record.model_dump().items()}
    return Prompts(system, templates, replies, directory)
