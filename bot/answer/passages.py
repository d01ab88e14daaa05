"""Knowledge cut into passages: the units that retrieval ranks and the model is given.

An entry answers many questions, and one paragraph of it usually answers one. So each
entry becomes several passages: its definition, its details in groups of a few
sentences, its example, its analogy and every FAQ (question and answer together for
matching; the answer is what the model reads and what an extractive answer shows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge import Entry, KnowledgeBase
from bot.text import sentences

SENTENCES_PER_DETAIL = 2  # details are cut into groups of this many sentences
# ... except that a sentence pointing back ("That is why ...", "It also ...") stays with the
# sentence it points at: alone, a passage opening with it reads as nonsense
POINTS_BACK = re.compile(r"^(?:This|That|These|Those|It|They|Such)\b")
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
    for n, group in enumerate(detail_groups(entry.details)):
        out.append(make("detail", n, " ".join(group)))
    out.append(make("example", 0, entry.example))
    if entry.analogy:
        out.append(make("analogy", 0, entry.analogy))
    out.extend(make("faq", n, faq.answer, faq.question) for n, faq in enumerate(entry.faq))
    return out


def detail_groups(details: str) -> list[list[str]]:
    """The details' sentences in groups of SENTENCES_PER_DETAIL, a sentence that points
    back joining the group before it."""
    groups: list[list[str]] = []
    for sentence in sentences(details):
        if groups and (len(groups[-1]) < SENTENCES_PER_DETAIL or POINTS_BACK.match(sentence)):
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    return groups


def build_passages(kb: KnowledgeBase) -> list[Passage]:
    return [p for entry in kb.entries.values() for p in entry_passages(entry)]
