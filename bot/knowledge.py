"""Curated knowledge: one YAML file per concept in knowledge/entries/, validated on load.

Every error names the file and the field, so a broken entry is found in seconds.
The schema is documented in knowledge/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import KnowledgeError

TOPICS = (
    "basics",
    "training",
    "tokens",
    "generation",
    "performance",
    "memory",
    "hardware",
    "quantization",
    "cost",
    "serving",
    "grounding",
    "applications",
)
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REQUIRED_TEXT = ("id", "title", "topic", "definition", "details", "example")
OPTIONAL_TEXT = ("analogy",)
LIST_FIELDS = ("aliases", "related", "sources", "false_claims", "cues")
KNOWN_FIELDS = set(REQUIRED_TEXT) | set(OPTIONAL_TEXT) | set(LIST_FIELDS) | {"faq"}


@dataclass(frozen=True)
class Faq:
    question: str
    answer: str


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    aliases: tuple[str, ...]
    topic: str
    definition: str
    details: str
    analogy: str | None
    example: str
    faq: tuple[Faq, ...]
    false_claims: tuple[re.Pattern[str], ...]
    related: tuple[str, ...]
    sources: tuple[str, ...]
    path: Path
    # Words a question must contain for this entry to be chosen at full weight (an entry
    # about the word's other meanings should not answer a plain "what is inference?").
    cues: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The title and every alias: what a user may call this concept."""
        return (self.title, *self.aliases)

    def passages(self) -> tuple[str, ...]:
        """All curated text of the entry, the evidence a generated sentence is checked against."""
        texts = [self.definition, self.details, self.example]
        if self.analogy:
            texts.append(self.analogy)
        texts.extend(f.answer for f in self.faq)
        return tuple(texts)


@dataclass(frozen=True)
class KnowledgeBase:
    entries: dict[str, Entry]
    synonyms: dict[str, str]
    directory: Path

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def glossary(self) -> list[tuple[str, str]]:
        """(display name, entry id) for every title and alias, sorted for autocomplete."""
        names = {(name, e.id) for e in self.entries.values() for name in e.names}
        return sorted(names, key=lambda pair: pair[0].lower())


def _clean(text: str) -> str:
    return " ".join(text.split())


def _text(data: dict[str, Any], key: str, where: str, required: bool) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise KnowledgeError(f"{where}: field '{key}' is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"{where}: field '{key}' must be non-empty text")
    return _clean(value)


def _str_list(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeError(f"{where}: field '{key}' must be a list of non-empty texts")
    return tuple(_clean(v) for v in value)


def _faqs(data: dict[str, Any], where: str) -> tuple[Faq, ...]:
    value = data.get("faq") or []
    if not isinstance(value, list):
        raise KnowledgeError(f"{where}: field 'faq' must be a list of {{q, a}} items")
    faqs = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"q", "a"}:
            raise KnowledgeError(f"{where}: field 'faq[{i}]' must have exactly the keys q and a")
        q, a = item["q"], item["a"]
        if not (isinstance(q, str) and q.strip() and isinstance(a, str) and a.strip()):
            raise KnowledgeError(f"{where}: field 'faq[{i}]' needs non-empty q and a")
        faqs.append(Faq(_clean(q), _clean(a)))
    return tuple(faqs)


def parse_entry(data: Any, path: Path) -> Entry:
    """Validate one entry's YAML data; raise KnowledgeError naming file and field."""
    where = str(path)
    if not isinstance(data, dict):
        raise KnowledgeError(f"{where}: expected a mapping of fields, got {type(data).__name__}")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise KnowledgeError(f"{where}: unknown field '{unknown[0]}'")
    fields = {k: _text(data, k, where, required=True) for k in REQUIRED_TEXT}
    analogy = _text(data, "analogy", where, required=False)
    if not ID_PATTERN.match(fields["id"]):
        raise KnowledgeError(f"{where}: field 'id' must be lowercase-with-dashes")
    if fields["id"] != path.stem:
        raise KnowledgeError(f"{where}: field 'id' ({fields['id']}) must equal the file name")
    if fields["topic"] not in TOPICS:
        raise KnowledgeError(f"{where}: field 'topic' must be one of {', '.join(TOPICS)}")
    lists = {k: _str_list(data, k, where) for k in LIST_FIELDS}
    if not lists["sources"]:
        raise KnowledgeError(f"{where}: field 'sources' needs at least one source")
    faq = _faqs(data, where)
    patterns = []
    for i, raw in enumerate(lists["false_claims"]):
        try:
            patterns.append(re.compile(raw, re.IGNORECASE))
        except re.error as exc:
            raise KnowledgeError(
                f"{where}: field 'false_claims[{i}]' is not a regex: {exc}"
            ) from None
    entry = Entry(
        id=fields["id"],
        title=fields["title"],
        aliases=lists["aliases"],
        topic=fields["topic"],
        definition=fields["definition"],
        details=fields["details"],
        analogy=analogy,
        example=fields["example"],
        faq=faq,
        false_claims=tuple(patterns),
        related=lists["related"],
        sources=lists["sources"],
        path=path,
        cues=lists["cues"],
    )
    own_text = " ".join(entry.passages())
    for i, pattern in enumerate(entry.false_claims):
        if pattern.search(own_text):
            raise KnowledgeError(
                f"{where}: field 'false_claims[{i}]' matches the entry's own text; "
                "it must only match statements the entry contradicts"
            )
    return entry


def read_yaml(path: Path) -> Any:
    """A data file's YAML, or a KnowledgeError naming the file (and line) that is wrong."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise KnowledgeError(f"{path}: not valid YAML{line}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot be read ({exc})") from None


def _load_synonyms(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = read_yaml(path)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise KnowledgeError(f"{path}: expected a mapping of 'user phrase: knowledge words'")
    return {k.lower(): v.lower() for k, v in data.items()}


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load and validate every entry under `directory`/entries plus synonyms.yaml."""
    entries_dir = directory / "entries"
    if not entries_dir.is_dir():
        raise KnowledgeError(f"{entries_dir}: knowledge folder not found")
    entries: dict[str, Entry] = {}
    for path in sorted(entries_dir.glob("*.yaml")):
        entry = parse_entry(read_yaml(path), path)
        entries[entry.id] = entry
    if not entries:
        raise KnowledgeError(f"{entries_dir}: no entries (*.yaml) found")
    for entry in entries.values():
        for i, rel in enumerate(entry.related):
            if rel not in entries:
                raise KnowledgeError(f"{entry.path}: field 'related[{i}]': unknown entry '{rel}'")
    return KnowledgeBase(entries, _load_synonyms(directory / "synonyms.yaml"), directory)
