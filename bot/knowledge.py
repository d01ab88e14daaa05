"""Curated knowledge: one YAML file per concept in knowledge/entries/, validated on load.

Every error names the file, the line and the field, so a broken entry is found in seconds.
The schema is documented in knowledge/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator

from bot.datafile import Record, Text, TextList, items_of, line_of, read_yaml, validate, where
from bot.errors import KnowledgeError

__all__ = ["TOPICS", "Entry", "EntryRecord", "Faq", "KnowledgeBase", "load_knowledge", "read_yaml"]

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


def _clean_text(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


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


class FaqRecord(Record):
    q: Text
    a: Text


Topic = Literal[TOPICS]  # type: ignore[valid-type]


class EntryRecord(Record):
    """One knowledge/entries/*.yaml file as written (schema: knowledge/README.md)."""

    id: Text
    title: Text
    topic: Annotated[Topic, BeforeValidator(_clean_text)]
    definition: Text
    details: Text
    example: Text
    analogy: Text | None = None
    aliases: TextList = ()
    related: TextList = ()
    sources: TextList = ()
    false_claims: TextList = ()
    cues: TextList = ()
    faq: Annotated[
        tuple[FaqRecord, ...], BeforeValidator(items_of("must be a list of {q, a} items"))
    ] = ()


def parse_entry(data: Any, path: Path) -> Entry:
    """Validate one entry's YAML data; raise KnowledgeError naming file, line and field."""
    record: EntryRecord = validate(EntryRecord, data, path)

    def bad(field: str, message: str) -> KnowledgeError:
        return KnowledgeError(f"{where(path, line_of(data, (field,)))}: field {message}")

    if not ID_PATTERN.match(record.id):
        raise bad("id", "'id' must be lowercase-with-dashes")
    if record.id != path.stem:
        raise bad("id", f"'id' ({record.id}) must equal the file name")
    if not record.sources:
        raise bad("sources", "'sources' needs at least one source")
    patterns = []
    for i, raw in enumerate(record.false_claims):
        try:
            patterns.append(re.compile(raw, re.IGNORECASE))
        except re.error as exc:
            raise bad("false_claims", f"'false_claims[{i}]' is not a regex: {exc}") from None
    entry = Entry(
        id=record.id,
        title=record.title,
        aliases=record.aliases,
        topic=record.topic,
        definition=record.definition,
        details=record.details,
        analogy=record.analogy,
        example=record.example,
        faq=tuple(Faq(f.q, f.a) for f in record.faq),
        false_claims=tuple(patterns),
        related=record.related,
        sources=record.sources,
        path=path,
        cues=record.cues,
    )
    own_text = " ".join(entry.passages())
    for i, pattern in enumerate(entry.false_claims):
        if pattern.search(own_text):
            raise bad(
                "false_claims",
                f"'false_claims[{i}]' matches the entry's own text; "
                "it must only match statements the entry contradicts",
            )
    return entry


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
                line = line_of(read_yaml(entry.path), ("related", i))
                raise KnowledgeError(
                    f"{where(entry.path, line)}: field 'related[{i}]': unknown entry '{rel}'"
                )
    return KnowledgeBase(entries, _load_synonyms(directory / "synonyms.yaml"), directory)
