"""bot.answer.selection: which passage a question selects (fixture knowledge, lexical
selection)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.answer.selection import PassageIndex
from bot.answer.tuning import DEFAULT_TUNING
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.retrieval import Retriever
from tests.unit.conftest import write_yaml


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


def test_a_gpu_cpu_comparison_the_other_way_round_is_marked_down(
    knowledge_dir: Path, entry_data: Callable[[str], dict[str, Any]]
) -> None:
    data = entry_data("inference")
    data.update(id="gpu-speed", title="GPU speed", aliases=["gpu speed"])
    data["faq"] = [
        {"q": "Why is my GPU slower than my CPU?", "a": "It depends on the model."},
        {"q": "Why is my CPU slower than my GPU?", "a": "It depends on the model."},
    ]
    write_yaml(knowledge_dir / "entries" / "gpu-speed.yaml", data)
    kb = load_knowledge(knowledge_dir)
    question = "why is my gpu faster than my cpu?"
    # the two FAQs share every word: only the direction of the comparison tells them apart
    marked = [s.passage.id for s in index(kb).select(question).ranked]
    assert "gpu-speed#faq1" in marked
    assert "gpu-speed#faq0" not in marked[: marked.index("gpu-speed#faq1") + 1]
    flat = PassageIndex(
        kb,
        Retriever(kb),
        dataclasses.replace(
            DEFAULT_TUNING, opposite_comparison_penalty=1.0, same_comparison_boost=1.0
        ),
    )
    unmarked = [s.passage.id for s in flat.select(question).ranked]
    assert unmarked.index("gpu-speed#faq0") < unmarked.index("gpu-speed#faq1")
