"""Follow-ups ("why?", "what about on a GPU?"): which earlier turn a question continues,
and what to search for so the answer stays on that topic unless the question names a new one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.knowledge import KnowledgeBase
from bot.retrieval import Retriever
from bot.text import words

FOLLOW_UP = re.compile(
    r"^(why|how come|how so|and\b|so\b|but\b|what about|how about|what if|really|example|"
    r"give me an example|for example|an example|can you|could you|tell me more|more|elaborate|"
    r"explain|simpler|eli5|in simple|what do you mean|meaning|huh|such as|like what|is it|"
    r"does it|does that|is that|and on|on a|with a|analogy)\b",
    re.IGNORECASE,
)
PRONOUNS = re.compile(r"\b(it|that|this|they|them|those|these|its)\b", re.IGNORECASE)
MAX_WORDS = 12


@dataclass
class Turn:
    question: str
    entry_id: str | None


@dataclass
class Conversation:
    """Earlier turns, so follow-ups keep their context."""

    turns: list[Turn] = field(default_factory=list)

    def add(self, result: object) -> None:
        entry_id = getattr(result, "entry_id", None)
        if entry_id:
            self.turns.append(Turn(result.question, entry_id))  # type: ignore[attr-defined]
            del self.turns[:-5]

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None


def follow_up_of(
    question: str, conversation: Conversation | None, retriever: Retriever, min_score: float
) -> Turn | None:
    """The earlier turn this question follows up on, if it reads like a follow-up."""
    if conversation is None or conversation.last is None:
        return None
    n_words = len(words(question))
    if n_words == 0 or n_words > MAX_WORDS:
        return None
    if FOLLOW_UP.search(question.strip()) or PRONOUNS.search(question):
        return conversation.last
    hits = retriever.search(question, limit=1)
    if not hits or hits[0].score < min_score:
        return conversation.last
    return None


def follow_up_query(
    question: str, turn: Turn, kb: KnowledgeBase, retriever: Retriever, min_score: float
) -> str:
    """The question, with the earlier topic's name added unless it switches topic."""
    previous = kb.entries.get(turn.entry_id or "")
    if previous is None:
        return question
    own = retriever.search(question, limit=1)
    named = set(retriever.phrase_matches(question)) - {previous.id}
    if own and own[0].entry.id in named:
        return question  # "and for quantization?" names its own topic
    bare = bool(FOLLOW_UP.search(question.strip())) and len(words(question)) <= 6
    strong = own and own[0].score >= min_score * 2 and own[0].entry.id != previous.id
    if strong and not bare:
        return question
    return f"{question} ({previous.title})"
