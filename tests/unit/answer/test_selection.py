"""bot.answer.selection: which passage a question selects (fixture knowledge, lexical
selection)."""

from __future__ import annotations

from bot.answer.selection import PassageIndex
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


def test_an_example_in_the_story_of_a_post_asks_for_no_example(kb: KnowledgeBase) -> None:
    post = (
        "I tried it for example on my laptop with a 4-bit model. Does quantization lose accuracy?"
    )
    best = index(kb).select(post).best
    assert best is not None and best.passage.kind != "example"
