"""bot.retrieval: names, typos, synonyms and FAQ selection on the small fixture knowledge."""

from __future__ import annotations

import pytest

from bot.knowledge import KnowledgeBase
from bot.retrieval import Retriever, is_yes_no


def top_id(retriever: Retriever, question: str) -> str | None:
    hits = retriever.search(question)
    return hits[0].entry.id if hits else None


def test_title_in_question_finds_the_entry(retriever: Retriever) -> None:
    assert top_id(retriever, "what is inference?") == "inference"


def test_alias_phrase_finds_the_entry(retriever: Retriever) -> None:
    assert top_id(retriever, "can you explain the tokenizer to me") == "tokenization"


def test_multi_word_alias_is_a_phrase_match(retriever: Retriever) -> None:
    matches = retriever.phrase_matches("how does a quantized model work?")
    assert set(matches) == {"quantization"}  # the two-word alias "quantized model"
    assert matches["quantization"] > retriever.phrase_matches("quantization")["quantization"]


def test_phrase_match_scores_above_plain_word_match(retriever: Retriever) -> None:
    hits = retriever.search("what is quantization?")
    assert hits[0].entry.id == "quantization"
    assert hits[0].score > hits[0].main_score  # the name bonus was added


def test_british_spelling_finds_the_entry(retriever: Retriever) -> None:
    assert top_id(retriever, "what is tokenisation?") == "tokenization"


def test_one_letter_typo_in_a_stem_is_corrected(retriever: Retriever) -> None:
    assert retriever.query_terms("what is inferense") == ["inference"]
    assert top_id(retriever, "what is inferense") == "inference"


# "quantization" is indexed as "quant", but "quantizaton" is no stemmed form of it: the typo
# must be corrected against the unstemmed words.
def test_typo_in_a_suffixed_word_still_finds_the_entry(retriever: Retriever) -> None:
    assert top_id(retriever, "what is quantizaton?") == "quantization"


def test_synonym_is_appended_to_the_query(retriever: Retriever) -> None:
    assert retriever.expand("How much VRAM?") == "how much vram? gpu memory"


def test_synonym_expansion_finds_the_entry(retriever: Retriever) -> None:
    assert top_id(retriever, "how much vram do I need?") == "quantization"


def test_without_the_synonym_the_same_question_finds_nothing(kb: KnowledgeBase) -> None:
    plain = Retriever(KnowledgeBase(kb.entries, {}, kb.directory))
    assert plain.search("how much vram do I need?") == []


def test_synonym_only_matches_whole_words(retriever: Retriever) -> None:
    assert retriever.expand("vrams") == "vrams"


def test_faq_is_selected_when_question_matches_beyond_the_name(retriever: Retriever) -> None:
    hit = retriever.search("Does quantization make a model less accurate?")[0]
    assert hit.entry.id == "quantization"
    assert hit.faq is not None
    assert hit.faq.question == "Does quantization make a model less accurate?"


def test_faq_is_selected_for_a_reworded_question(retriever: Retriever) -> None:
    hit = retriever.search("is quantization bad for accuracy")[0]
    assert hit.faq is not None
    assert hit.faq.answer.startswith("Slightly")


def test_faq_is_not_selected_for_a_plain_what_is_question(retriever: Retriever) -> None:
    hit = retriever.search("what is quantization?")[0]
    assert hit.entry.id == "quantization"
    assert hit.faq is None


def test_faq_is_not_selected_when_only_alias_words_match(retriever: Retriever) -> None:
    hit = retriever.search("what is a quantized model?")[0]
    assert hit.entry.id == "quantization"
    assert hit.faq is None


def test_unrelated_question_finds_nothing(retriever: Retriever) -> None:
    assert retriever.search("whats the weather in chicago") == []


def test_limit_caps_the_number_of_hits(retriever: Retriever) -> None:
    assert len(retriever.search("model weights inference training tokens", limit=2)) == 2


def test_hits_are_sorted_by_score(retriever: Retriever) -> None:
    hits = retriever.search("model weights inference training tokens", limit=4)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("does quantization make it faster?", True),
        ("wouldnt turning it off give better answers", True),
        ("when people say served, is that inference?", True),
        ("how much memory do I need for a 13b model", False),
        ("why do gpus matter", False),
        ("what is a token", False),
    ],
)
def test_yes_no_questions_are_told_apart(question: str, expected: bool) -> None:
    assert is_yes_no(question) is expected


def test_singular_matches_a_plural_alias(retriever: Retriever) -> None:
    # The fixture's tokenization entry has the alias "tokenizer"; names match as stems.
    assert "tokenization" in retriever.phrase_matches("what do tokenizers do")
