"""bot.answer.compose: the notes chosen for the prompt and the prompt itself."""

from __future__ import annotations

from bot.answer.compose import Notes, build_messages, choose_notes, focus
from bot.answer.passages import build_passages
from bot.answer.selection import PassageIndex
from bot.answer.tuning import DEFAULT_TUNING
from bot.knowledge import KnowledgeBase
from bot.pipeline import Library
from bot.retrieval import Retriever


def index(kb: KnowledgeBase) -> PassageIndex:
    return PassageIndex(kb, Retriever(kb), DEFAULT_TUNING)


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


def test_a_long_post_reaches_the_model_as_its_setup_and_its_questions() -> None:
    story = "I compiled it with cuBLAS and it runs. " * 12
    post = f"I run llama.cpp on an RTX 3060. {story}It offloads 20 layers. Why so slow? Lower -c?"
    shown = focus(post, 200)
    assert (
        shown == "I run llama.cpp on an RTX 3060. ... It offloads 20 layers. Why so slow? Lower -c?"
    )
    assert focus("why so slow?", 200) == "why so slow?"
