"""bot.text: stems, content words, sentence splitting, negation and numbers."""

from __future__ import annotations

import pytest

from bot.text import content_stems, has_negation, novelty, numbers, sentences, stem, words


@pytest.mark.parametrize("word", ["quantized", "quantizing", "quantization", "quantizations"])
def test_stem_maps_inflections_to_one_form(word: str) -> None:
    assert stem(word) == "quant"


def test_stem_treats_british_and_american_spelling_alike() -> None:
    assert stem("tokenisation") == stem("tokenization") == "token"


def test_stem_leaves_short_words_alone() -> None:
    assert stem("runs") == "runs"
    assert stem("gpus") == "gpus"


def test_stem_keeps_at_least_four_letters() -> None:
    assert stem("notes") == "note"
    assert stem("uses") == "uses"


def test_stem_undoubles_a_final_consonant() -> None:
    assert stem("stopping") == "stop"


def test_stem_leaves_non_alphabetic_tokens_alone() -> None:
    assert stem("q4_k_m") == "q4_k_m"
    assert stem("llama.cpp") == "llama.cpp"


def test_words_are_lower_case_and_keep_dotted_names() -> None:
    assert words("Run Llama.cpp on 2 GPUs!") == ["run", "llama.cpp", "on", "2", "gpus"]


def test_content_stems_drop_stop_words_and_keep_order() -> None:
    assert content_stems("What is the KV cache, please?") == ["kv", "cache"]
    assert content_stems("Why are quantized models faster?") == ["quant", "model", "fast"]


def test_content_stems_of_only_stop_words_is_empty() -> None:
    assert content_stems("what is it and why?") == []


def test_sentences_split_on_end_punctuation() -> None:
    text = "Inference is fast. It runs on a GPU! Why does it matter? Cost."
    assert sentences(text) == [
        "Inference is fast.",
        "It runs on a GPU!",
        "Why does it matter?",
        "Cost.",
    ]


def test_sentences_do_not_split_inside_names_or_decimals() -> None:
    text = "Use llama.cpp with 1.5 GB of memory. Then ask."
    assert sentences(text) == ["Use llama.cpp with 1.5 GB of memory.", "Then ask."]


def test_sentences_split_paragraphs_and_list_items() -> None:
    text = "First paragraph without a stop\n\nSecond one.\n- a list item\n- another item"
    assert sentences(text) == [
        "First paragraph without a stop",
        "Second one.",
        "- a list item",
        "- another item",
    ]


def test_sentences_keep_a_lower_case_continuation_together() -> None:
    text = "It is about 3 vs. four bits. Next."
    assert sentences(text) == ["It is about 3 vs. four bits.", "Next."]


def test_sentences_of_blank_text_is_empty() -> None:
    assert sentences("  \n\n ") == []


@pytest.mark.parametrize(
    "text",
    [
        "The model does not learn.",
        "It isn't trained here.",
        "Nothing is written back.",
        "It cannot change.",
        "No - the weights stay frozen.",
        "It never updates.",
    ],
)
def test_has_negation_finds_negations(text: str) -> None:
    assert has_negation(text)


@pytest.mark.parametrize(
    "text", ["The model learns from data.", "A notable note on nodes.", "Know the tokens."]
)
def test_has_negation_ignores_words_that_merely_contain_no(text: str) -> None:
    assert not has_negation(text)


def test_numbers_are_found_and_thousands_separators_removed() -> None:
    assert numbers("about 1,000 tokens in 2.5 s with a 4-bit model") == {"1000", "2.5", "4"}


def test_numbers_inside_names_are_ignored() -> None:
    assert numbers("SmolLM2-135M in Q4_1 format") == {"135"}


def test_numbers_of_text_without_digits_is_empty() -> None:
    assert numbers("no digits here") == set()


def test_novelty_is_the_share_of_stems_not_yet_said() -> None:
    assert novelty({"prefill", "prompt"}, {"prompt"}) == 0.5
    assert novelty(set(), {"prompt"}) == 0.0
    assert novelty({"decode"}, set()) == 1.0


def test_asking_for_advice_is_no_topic() -> None:
    # "recommend" stems like "recommendations": as a query word it pulled in the entry on
    # recommendation systems for "what hardware do people recommend?"
    assert content_stems("which gpu would you recommend?") == ["gpu"]
    assert content_stems("how do netflix recommendations work") == ["netflix", "recommend"]
