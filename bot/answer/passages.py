"""Knowledge cut into passages: the units that retrieval ranks and the model is given.

An entry answers many questions, and one paragraph of it usually answers one. So each
entry becomes several passages: its definition, its details in groups of a few
sentences, its example, its analogy and every FAQ (question and answer together for
matching; the answer is what the model reads and what an extractive answer shows).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge import Entry, KnowledgeBase
from bot.text import sentences

SENTENCES_PER_DETAIL = 2  # details are cut into groups of this many sentences
# so that "give me an example" or "in simple terms" finds the right kind of passage
KIND_LABEL = {"example": "Example of ", "analogy": "Simple analogy for "}


@dataclass(frozen=True)
class Passage:
    id: str  # "<entry id>#<kind><n>", stable across runs (used as the vector cache key)
    entry_id: str
    title: str
    kind: str  # definition | detail | example | analogy | faq
    text: str  # what the model reads and an extractive answer shows
    question: str | None = None  # the FAQ question, for faq passages

    @property
    def match_text(self) -> str:
        """The text matched against a user's question."""
        lead = self.question or f"{KIND_LABEL.get(self.kind, '')}{self.title}"
        return f"{lead}. {self.text}"


def entry_passages(entry: Entry) -> list[Passage]:
    def make(kind: str, n: int, text: str, question: str | None = None) -> Passage:
        return Passage(f"{entry.id}#{kind}{n}", entry.id, entry.title, kind, text, question)

    out = [make("definition", 0, entry.definition)]
    detail = sentences(entry.details)
    for n, start in enumerate(range(0, len(detail), SENTENCES_PER_DETAIL)):
        out.append(make("detail", n, " ".join(detail[start : start + SENTENCES_PER_DETAIL])))
    out.append(make("example", 0, entry.example))
    if entry.analogy:
        out.append(make("analogy", 0, entry.analogy))
    out.extend(make("faq", n, faq.answer, faq.question) for n, faq in enumerate(entry.faq))
    return out


def build_passages(kb: KnowledgeBase) -> list[Passage]:
    return [p for entry in kb.entries.values() for p in entry_passages(entry)]
