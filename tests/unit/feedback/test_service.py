"""bot.feedback.service: open_feedback (a database URL, analytics off), vote replies, and
what is recorded of an answer."""

from __future__ import annotations

from bot.answer.result import Source
from bot.config import Config
from bot.feedback import (
    DB_NAME,
    KEY_NAME,
    VOTE_REPLIES,
    answer_record,
    nearest_entry,
    open_feedback,
    read_gaps,
)
from bot.pipeline import Tutor

from .conftest import DISCORD_ID, disabled, result, rows


def test_open_feedback_with_database_url_keeps_the_key_in_the_data_dir(
    config: Config, postgres_url: str
) -> None:
    config = config.model_copy(update={"database_url": postgres_url})
    feedback = open_feedback(config)
    try:
        assert feedback.enabled
        answer_id = feedback.record(result("what is a kv cache?"), "terminal")
        assert answer_id is not None
        assert "noted" in feedback.vote(answer_id, DISCORD_ID, helpful=False).lower()
    finally:
        feedback.close()
    assert (config.data_dir / KEY_NAME).is_file() and not (config.data_dir / DB_NAME).exists()
    assert rows(postgres_url, "SELECT question FROM answers") == [("what is a kv cache?",)]
    assert read_gaps(config, {}).enabled  # read from the database, not a file


def test_a_press_on_an_answer_no_longer_on_record_is_answered_politely(config: Config) -> None:
    feedback = open_feedback(config)
    try:
        assert feedback.vote(424242, DISCORD_ID, helpful=True) == VOTE_REPLIES["unknown_answer"]
        assert "no longer have a record" in VOTE_REPLIES["unknown_answer"]
    finally:
        feedback.close()


def test_disabled_analytics_stores_nothing_and_creates_no_file(config: Config) -> None:
    config = disabled(config)
    feedback = open_feedback(config)
    assert not feedback.enabled
    assert feedback.record(result("what is inference?"), "terminal") is None
    assert "off" in feedback.vote(1, DISCORD_ID, helpful=True)
    report = read_gaps(config, {})
    assert not report.enabled and report.to_json()["groups"] == []
    feedback.close()
    assert not config.data_dir.exists()


# -- what is recorded of an answer -------------------------------------------------------------
def test_record_keeps_sources_flags_and_a_redacted_question() -> None:
    key = "sk-" + "a" * 40  # credential-shaped, built from parts
    answer = result(
        f"my key {key} — what is a kv cache?",
        sources=(Source("kv-cache", "KV cache", "kv-cache#0"), Source("kv-cache", "KV cache")),
        entry_id="kv-cache",
        fallback=True,
        low_confidence=True,
    )
    kept = answer_record(answer, "discord")
    assert key not in kept.question and "kv cache" in kept.question
    assert kept.entry_ids == ("kv-cache",)
    assert kept.nearest_entry == "kv-cache"
    assert kept.fallback and kept.low_confidence


async def test_an_unknown_question_is_grouped_under_the_retrievers_top_hit(tutor: Tutor) -> None:
    retriever = tutor.library.retriever
    unknown = await tutor.ask("what is a gpu?")
    assert unknown.kind == "unknown" and unknown.entry_id is None
    top = retriever.search(unknown.question, limit=1)
    assert top, "the fixture knowledge mentions GPUs"
    assert nearest_entry(unknown, retriever) == top[0].entry.id
    nothing = result("zorblax quibbit?", kind="unknown")
    assert retriever.search(nothing.question) == []
    assert nearest_entry(nothing, retriever) is None
