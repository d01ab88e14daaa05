"""bot.answer.passages: an entry cut into passages (fixture knowledge)."""

from __future__ import annotations

from bot.answer.passages import build_passages, detail_groups, entry_passages
from bot.knowledge import KnowledgeBase

from ..conftest import ENTRIES


def test_an_entry_becomes_definition_details_example_analogy_and_faqs(kb: KnowledgeBase) -> None:
    kinds = [p.kind for p in entry_passages(kb.entries["inference"])]
    assert kinds == ["definition", "detail", "detail", "example", "analogy", "faq"]


def test_faq_passage_matches_on_its_question_and_shows_its_answer(kb: KnowledgeBase) -> None:
    faq = next(p for p in build_passages(kb) if p.id == "inference#faq0")
    assert faq.text == ENTRIES["inference"]["faq"][0]["a"]
    assert faq.match_text.startswith("Does the model learn from my questions")


def test_a_detail_sentence_pointing_back_stays_with_the_sentence_before() -> None:
    text = "A one. A two. That is why three. B four. B five. B six."
    assert detail_groups(text) == [
        ["A one.", "A two.", "That is why three."],
        ["B four.", "B five."],
        ["B six."],
    ]
