"""bot.answer.selection: which passage a question selects (fixture knowledge, lexical
selection)."""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pytest

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


class WordEmbedder:
    """A stand-in for e5: a text's vector is its bag of words, so a question is closest to
    the wording that shares its words."""

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(512, dtype=np.float32)
        for word in text.lower().replace("?", " ").split():
            vector[zlib.crc32(word.encode()) % 512] += 1.0
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts])

    queries = passages


def test_a_faq_is_found_by_its_other_wordings(kb: KnowledgeBase) -> None:
    wording = "is my bot secretly getting smarter every time we chat"
    faq = kb.entries["inference"].faq[0]
    entries = dict(kb.entries)
    entries["inference"] = dataclasses.replace(
        kb.entries["inference"], faq=(dataclasses.replace(faq, also=(wording,)),)
    )
    with_also = dataclasses.replace(kb, entries=entries)
    embedder = WordEmbedder()
    vector = embedder.query(wording)
    plain = PassageIndex(kb, Retriever(kb), DEFAULT_TUNING, embedder)  # type: ignore[arg-type]
    found = PassageIndex(with_also, Retriever(with_also), DEFAULT_TUNING, embedder)  # type: ignore[arg-type]
    before = plain.select(wording, vector).best
    best = found.select(wording, vector).best
    assert best is not None and best.passage.id == "inference#faq0"
    assert best.same_question == pytest.approx(1.0)
    # without the other wording the FAQ's own question shares too few words
    assert before is None or before.passage.id != "inference#faq0"
