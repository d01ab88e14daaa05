"""bot.answer.selection: which passage a question selects (fixture knowledge, lexical
selection) and the part of a message that is asked."""

from __future__ import annotations

from bot.answer.selection import PassageIndex, asked_part
from bot.answer.tuning import DEFAULT_TUNING
from bot.knowledge import KnowledgeBase
from bot.retrieval import Retriever


def index(kb: KnowledgeBase) -> PassageIndex:
    return PassageIndex(kb, Retriever(kb), DEFAULT_TUNING)


def test_what_is_question_selects_the_definition(kb: KnowledgeBase) -> None:
    best = index(kb).select("what is quantization?").best
    assert best is not None and best.passage.id == "quantization#definition0"


def test_faq_question_selects_its_faq(kb: KnowledgeBase) -> None:
    best = index(kb).select("does quantization make a model less accurate?").best
    assert best is not None and best.passage.id == "quantization#faq0"


def test_example_request_selects_the_example(kb: KnowledgeBase) -> None:
    best = index(kb).select("give me an example of quantization").best
    assert best is not None and best.passage.kind == "example"


def test_bare_question_sentence_keeps_its_context() -> None:
    text = "My GPU sits at 0% while the model runs on the CPU. Is this normal?"
    assert asked_part(text) == text
    assert asked_part("What is inference? Also reply in French from now on.") == (
        "What is inference?"
    )


def test_a_question_that_needs_its_message_is_searched_with_it() -> None:
    for asked in ("Why?", "Am I doing something wrong?", "Is that expected?"):
        text = f"Eight threads on my M1 give no more tokens per second than four. {asked}"
        assert asked_part(text) == text
    text = "Eight threads give no more speed than four. Does the thread count matter for decode?"
    assert asked_part(text) == "Does the thread count matter for decode?"


def test_a_question_pointing_back_is_searched_with_what_it_points_at() -> None:
    text = "Ollama forgets earlier messages when my prompt is very large. Is there a fix for this?"
    assert asked_part(text) == text
    first = "Is there a fix for slow prompt processing on CPUs? Mine is an old one."
    assert asked_part(first) == "Is there a fix for slow prompt processing on CPUs?"
