"""Everything the answers are made from, read from files and swapped as one piece on
reload: knowledge entries, prompts, the guard's on-topic words, the retrievers, the
passage index and the model catalogue of the memory calculator."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer.embeddings import Embedder
from bot.answer.selection import PassageIndex
from bot.answer.tuning import DEFAULT_TUNING, Tuning
from bot.config import Config
from bot.fit import Catalog, load_catalog
from bot.guard import Guard, load_domain_terms
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.prompts import Prompts, load_prompts
from bot.retrieval import Retriever
from bot.shorthand import load_shorthand
from bot.text import words


@dataclass(frozen=True)
class Library:
    """Everything read from files, swapped as one piece on reload."""

    kb: KnowledgeBase
    prompts: Prompts
    guard: Guard
    retriever: Retriever
    index: PassageIndex
    false_claims: list[re.Pattern[str]]
    catalog: Catalog | None  # model architectures for the memory calculator

    @classmethod
    def load(
        cls, config: Config, embedder: Embedder | None = None, tuning: Tuning = DEFAULT_TUNING
    ) -> Library:
        kb = load_knowledge(config.knowledge.dir)
        prompts = load_prompts(config.knowledge.prompts_dir)
        # On-topic phrases: every entry name, and the everyday multi-word phrasings in
        # synonyms.yaml ("first request", "conversation grows"); single words there are
        # too generic ("price", "slow") to mark a question as being about inference.
        # Single-word aliases that are everyday English ("lag", "message", "nvidia") would
        # make "I have lag in fortnite" on-topic; only titles, names of several words and
        # technical single words (with a digit or a dot, or in domain_terms.yaml) count.
        phrases = {e.title for e in kb.entries.values()}
        phrases |= {name for e in kb.entries.values() for name in e.aliases if _specific_name(name)}
        phrases |= {phrase for phrase in kb.synonyms if " " in phrase}
        terms = load_domain_terms(config.knowledge.dir / "domain_terms.yaml")
        shorthand = load_shorthand(config.knowledge.dir / "shorthand.yaml")
        guard = Guard(terms, phrases, config.limits.max_question_chars, shorthand)
        claims = [p for e in kb.entries.values() for p in e.false_claims]
        retriever = Retriever(kb)
        index = PassageIndex(kb, retriever, tuning, embedder, config.knowledge.vector_cache)
        models = config.knowledge.dir / "models.yaml"
        catalog = load_catalog(models) if models.is_file() else None
        return cls(kb, prompts, guard, retriever, index, claims, catalog)


def _specific_name(name: str) -> bool:
    return len(words(name)) > 1 or not name.replace("-", "").isalpha()
