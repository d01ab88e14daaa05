"""bot.answer: passages, selection, notes, the sentence filter and the vector cache, each on
its own (fixture knowledge, lexical selection, a fake embedder for the cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.answer.compose import Notes, build_messages, choose_notes
from bot.answer.embeddings import VectorCache
from bot.answer.passages import build_passages, entry_passages
from bot.answer.selection import PassageIndex, asked_part
from bot.answer.sentence_filter import (
    SentenceFilter,
    asks_yes_no,
    expected_polarity,
    is_alternative,
)
from bot.answer.tuning import DEFAULT_TUNING
from bot.knowledge import KnowledgeBase
from bot.pipeline import Library
from bot.retrieval import Retriever

from .conftest import ENTRIES


def index(kb: KnowledgeBase) -> PassageIndex:
    return PassageIndex(kb, Retriever(kb), DEFAULT_TUNING)


def test_an_entry_becomes_definition_details_example_analogy_and_faqs(kb: KnowledgeBase) -> None:
    kinds = [p.kind for p in entry_passages(kb.entries["inference"])]
    assert kinds == ["definition", "detail", "detail", "example", "analogy", "faq"]


def test_faq_passage_matches_on_its_question_and_shows_its_answer(kb: KnowledgeBase) -> None:
    faq = next(p for p in build_passages(kb) if p.id == "inference#faq0")
    assert faq.text == ENTRIES["inference"]["faq"][0]["a"]
    assert faq.match_text.startswith("Does the model learn from my questions")


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


def test_notes_stay_within_the_budget_and_skip_duplicates(kb: KnowledgeBase) -> None:
    selection = index(kb).select("what is inference and why is it fast on a gpu?")
    notes = choose_notes(selection, DEFAULT_TUNING)
    assert 1 <= len(notes.passages) <= DEFAULT_TUNING.prompt_passages
    assert len({p.text for p in notes.passages}) == len(notes.passages)
    assert notes.render().startswith("[1] ")


def test_prompt_tells_the_model_the_notes_yes_or_no(library: Library, kb: KnowledgeBase) -> None:
    notes = Notes((next(p for p in build_passages(kb) if p.id == "inference#faq0"),))
    user = build_messages(library.prompts, notes, "does it learn?", False)[1]["content"]
    assert library.prompts.reply("lead_no") in user


def test_yes_no_and_either_or_questions_are_told_apart() -> None:
    assert asks_yes_no("does the kv cache change the answer?")
    assert asks_yes_no("2x 3090 = twice the tokens/s right?")
    assert not asks_yes_no("how much memory does a 7b model need")
    assert is_alternative("is RLHF inference or training?")


def test_polarity_comes_only_from_a_faq_asking_the_same_thing(kb: KnowledgeBase) -> None:
    faq = next(p for p in build_passages(kb) if p.id == "inference#faq0")
    notes = Notes((faq,))
    same = "does the model learn from my questions?"
    assert expected_polarity(notes, True, False, same) is False
    assert expected_polarity(notes, True, False, "is quantization lossless?") is None
    assert expected_polarity(notes, False, False, same) is None


def make_filter(
    library: Library, kb: KnowledgeBase, question: str, polarity=None
) -> SentenceFilter:
    passages = tuple(p for p in build_passages(kb) if p.entry_id == "inference")[:4]
    return SentenceFilter(
        Notes(passages),
        library.false_claims,
        polarity is not None,
        DEFAULT_TUNING.min_novelty,
        question=question,
        min_support=DEFAULT_TUNING.min_support,
        polarity=polarity,
    )


def test_filter_passes_a_supported_sentence_with_its_citation(
    library: Library, kb: KnowledgeBase
) -> None:
    f = make_filter(library, kb, "what is inference?")
    accepted = f.feed("Inference is running an already trained model on new input. ")
    assert [a.citations for a in accepted] == [(1,)]
    assert accepted[0].text.endswith("input [1].")


def test_filter_drops_a_misconception(library: Library, kb: KnowledgeBase) -> None:
    f = make_filter(library, kb, "what is inference?")
    assert f.feed("The model learns during inference from every question. ") == []
    assert f.rejected[0].contradiction


def test_filter_drops_the_wrong_yes(library: Library, kb: KnowledgeBase) -> None:
    f = make_filter(library, kb, "does the model learn during inference?", polarity=False)
    assert f.feed("Yes, the weights stay frozen during inference. ") == []
    assert "wrong answer" in f.rejected[0].reason


def test_filter_accepts_the_notes_no_restated(library: Library, kb: KnowledgeBase) -> None:
    f = make_filter(library, kb, "does the model learn from my questions?", polarity=False)
    assert f.feed("No, the model does not learn from your questions. ")


def test_filter_strips_markdown_and_talk_about_the_notes(
    library: Library, kb: KnowledgeBase
) -> None:
    f = make_filter(library, kb, "what is inference?")
    accepted = f.feed("**The notes state that** inference is running an already trained model. ")
    assert accepted and accepted[0].text.startswith("Inference is running")


def test_filter_rejects_an_unfinished_sentence(library: Library, kb: KnowledgeBase) -> None:
    f = make_filter(library, kb, "what is inference?")
    f.feed("Inference is running an already")
    assert f.finish() == []
    assert f.rejected[-1].reason == "unfinished sentence"


class CountingEmbedder:
    def __init__(self) -> None:
        self.embedded: list[str] = []

    def passages(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.ones((len(texts), 384), dtype=np.float32)


def test_vector_cache_embeds_only_new_texts_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npz"
    first = CountingEmbedder()
    VectorCache(path).matrix(["a", "b"], first)  # type: ignore[arg-type]
    second = CountingEmbedder()
    matrix = VectorCache(path).matrix(["a", "b", "c"], second)  # type: ignore[arg-type]
    assert first.embedded == ["a", "b"]
    assert second.embedded == ["c"]
    assert matrix.shape == (3, 384)


def test_unreadable_vector_cache_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npz"
    path.write_bytes(b"not a numpy file")
    embedder = CountingEmbedder()
    assert VectorCache(path).matrix(["a"], embedder).shape == (1, 384)  # type: ignore[arg-type]
    assert embedder.embedded == ["a"]
