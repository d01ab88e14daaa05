"""bot.answer.writer: the extractive answer given when the model's sentences do not pass."""

from __future__ import annotations

from bot.answer.compose import Notes
from bot.answer.passages import Passage
from bot.answer.tuning import DEFAULT_TUNING
from bot.answer.writer import as_said, extractive_answer, supporting_note


def note(n: int, words: int) -> Passage:
    return Passage(f"e#faq{n}", "e", "E", "faq", " ".join([f"w{n}"] * words) + ".")


def test_extractive_answer_adds_notes_in_rank_order_within_the_word_limit() -> None:
    notes = Notes((note(1, 60), note(2, 80), note(3, 30)))
    answer = extractive_answer(notes, 100)
    assert answer.startswith("w1") and answer.count("[1]") == 1
    assert "[2]" not in answer  # 60 + 80 > 100
    assert answer.endswith("[3]")  # 60 + 30 fits


def test_extractive_answer_always_gives_the_best_note() -> None:
    assert extractive_answer(Notes((note(1, 200),)), 100).endswith("[1]")
    assert extractive_answer(Notes(()), 100) == ""


def test_a_faqs_because_opening_is_kept_only_for_a_why_question() -> None:
    text = "Because each token reads all the weights, generation is memory-bound."
    assert as_said(text, "does batching help?").startswith("Each token reads")
    assert as_said(text, "why is generation slow?") == text
    assert as_said("Becausewise.", "x?") == "Becausewise."
    assert as_said("Because of sampling: runs differ.", "x?") == "Because of sampling: runs differ."
    assert as_said("Because single-stream decode waits.", "x?") == "Single-stream decode waits."
    assert as_said("Because macOS limits it.", "x?") == "macOS limits it."


def test_a_faqs_yes_or_no_is_kept_only_when_it_answers_this_question() -> None:
    text = "No - llama.cpp was built to run on CPUs and runs well on them."
    assert as_said(text, "is running llama on cpu viable?").startswith("llama.cpp was built")
    assert as_said(text, "does llama.cpp need a GPU?", keep_verdict=True) == text
    notes = Notes((Passage("e#faq0", "e", "E", "faq", text, "Does llama.cpp need a GPU?"),))
    assert extractive_answer(notes, 100, "does llama.cpp need a GPU?", False).startswith("No -")
    assert extractive_answer(notes, 100, "is cpu viable?", None).startswith("llama.cpp")


def test_the_supporting_note_does_not_repeat_a_sentence_the_model_copied() -> None:
    text = (
        "Once the file is downloaded, local inference needs no internet connection. "
        "The internet is needed only to download the model in the first place. "
        "Offline, the model answers only from its training and your prompt."
    )
    notes = Notes((Passage("e#faq0", "e", "E", "faq", text),))
    written = ["The internet is needed only to download the model in the first place [1]."]
    support = supporting_note(notes, written, DEFAULT_TUNING, "can I use it offline?")
    assert "needed only to download" not in support
    assert support.startswith("Once the file is downloaded") and support.endswith("[1]")
    assert "Offline, the model answers" in support


def test_no_supporting_note_when_the_model_already_said_all_of_it() -> None:
    text = "Prefill reads the prompt. Decode writes the answer."
    notes = Notes((Passage("e#faq0", "e", "E", "faq", text),))
    written = ["Prefill reads the prompt [1].", "Decode writes the answer [1]."]
    assert supporting_note(notes, written, DEFAULT_TUNING) == ""


def test_extractive_answer_skips_a_note_that_says_again_what_it_already_says() -> None:
    first = Passage("e#faq0", "e", "E", "faq", "Prefill processes every prompt token first.")
    again = Passage("e#faq1", "e", "E", "faq", "Every prompt token is processed first: prefill.")
    other = Passage("e#faq2", "e", "E", "faq", "Decode then writes one token per step.")
    answer = extractive_answer(Notes((first, again, other)), 160, min_novelty=0.4)
    assert "[2]" not in answer and answer.endswith("[3]")
    assert "[2]" in extractive_answer(Notes((first, again, other)), 160)  # no threshold


def test_extractive_answer_opens_with_the_given_words_when_the_note_gives_no_yes_no() -> None:
    because = Passage("e#faq0", "e", "E", "faq", "Because the cache grows with the context.")
    answer = extractive_answer(Notes((because,)), 100, "Is this normal?", True, 0.0, "Yes, fine.")
    assert answer == "Yes, fine. The cache grows with the context. [1]"
    verdict = Passage("e#faq0", "e", "E", "faq", "Yes - the cache grows with the context.")
    kept = extractive_answer(Notes((verdict,)), 100, "Is this normal?", True, 0.0, "Yes, fine.")
    assert kept == "Yes - the cache grows with the context. [1]"
