"""bot.feedback.gaps: the gaps report built from a store's rows, and its text."""

from __future__ import annotations

import json

from bot.feedback import NO_ENTRY, FeedbackStore, build_report, render_text

from .conftest import DISCORD_ID, Clock, record


def test_gaps_groups_by_entry_with_reason_counts_and_examples(
    store: FeedbackStore, clock: Clock
) -> None:
    for n in range(4):
        record(store, f"how big is a kv cache {n}?", kind="unknown", nearest_entry="kv-cache")
        clock.now += 1
    record(store, "kv cache on disk?", nearest_entry="kv-cache", low_confidence=True)
    fell_back = record(store, "what is int4?", nearest_entry="quantization", fallback=True)
    store.vote(fell_back, DISCORD_ID, helpful=False)
    disliked = record(store, "what is inference?", nearest_entry="inference")
    store.vote(disliked, DISCORD_ID, helpful=False)
    store.vote(disliked, DISCORD_ID + 1, helpful=True)
    liked = record(store, "what is a token?", nearest_entry="tokenization")
    store.vote(liked, DISCORD_ID, helpful=True)
    record(store, "what is training?", nearest_entry="training")  # fine: not listed
    record(store, "zorblax?", kind="unknown")

    rows = store.gap_rows(since=0)
    titles = {"kv-cache": "KV cache", "quantization": "Quantization", "inference": "Inference"}
    report = build_report(rows, titles, days=30, answers=store.count_answers(since=0))
    assert report.answers == 10
    by_entry = {g.entry_id: g for g in report.groups}
    assert set(by_entry) == {"kv-cache", "quantization", "inference", None}
    kv = report.groups[0]
    assert kv.entry_id == "kv-cache" and kv.title == "KV cache" and kv.questions == 5
    assert kv.reasons == {"unknown": 4, "fallback": 0, "low_confidence": 1, "not_helpful": 0}
    assert kv.examples == (
        "kv cache on disk?",
        "how big is a kv cache 3?",
        "how big is a kv cache 2?",
    )
    assert by_entry["quantization"].reasons == {
        "unknown": 0,
        "fallback": 1,
        "low_confidence": 0,
        "not_helpful": 1,
    }
    assert by_entry["inference"].reasons["not_helpful"] == 1
    assert by_entry[None].title == NO_ENTRY and by_entry[None].examples == ("zorblax?",)
    assert report.totals == {"unknown": 5, "fallback": 1, "low_confidence": 1, "not_helpful": 2}
    text = render_text(report)
    assert "KV cache (kv-cache): 5 questions: 4 unknown, 1 low confidence" in text
    assert f"{NO_ENTRY}: 1 question: 1 unknown" in text
    assert json.loads(json.dumps(report.to_json()))["groups"][0]["entry"] == "kv-cache"


def test_gaps_text_fits_a_limit_by_dropping_whole_groups(store: FeedbackStore) -> None:
    for n in range(60):
        record(store, f"question number {n} " + "x" * 80, kind="unknown", nearest_entry=f"e{n}")
    report = build_report(store.gap_rows(since=0), {}, days=30, answers=60)
    text = render_text(report, limit=1950)
    assert len(text) <= 1950
    assert "more groups (`python -m bot gaps`)" in text
    assert text.count("question: 1 unknown") >= 5


def test_gaps_on_an_empty_store_says_nothing_yet(store: FeedbackStore) -> None:
    report = build_report(store.gap_rows(since=0), {}, days=30, answers=0)
    assert report.groups == ()
    assert render_text(report).startswith("Nothing yet")
