"""Discord-agnostic message formatting: limits, splitting, mentions, throttling."""

from __future__ import annotations

import pytest

from bot.answer.result import AnswerResult, Source, Timings
from bot.backend import GenerationStats
from bot.formatting import (
    EditThrottle,
    defuse_mentions,
    figures_footer,
    queue_text,
    trim,
)


@pytest.mark.parametrize("limit", [10, 50, 4096])
def test_trim_fits_and_marks_the_cut(limit: int) -> None:
    text = "word " * 2000
    out = trim(text, limit)
    assert len(out) <= limit
    assert out.endswith("…")


def test_trim_leaves_short_text_alone() -> None:
    assert trim("short", 100) == "short"


def test_mass_and_direct_mentions_are_defused() -> None:
    out = defuse_mentions("hi @everyone and @here, <@123> <@!456> <@&789>")
    assert "@everyone" not in out and "@here" not in out
    assert "<@" not in out


def test_queue_text_shows_the_place_in_line() -> None:
    assert queue_text(1) == "Thinking…"
    assert "#3 in line" in queue_text(3) and "2 questions ahead" in queue_text(3)
    assert "1 question ahead" in queue_text(2)


def test_edit_throttle_allows_one_edit_per_interval() -> None:
    now = [0.0]
    throttle = EditThrottle(1.0, clock=lambda: now[0])
    assert throttle.ready()
    throttle.mark()
    now[0] = 0.5
    assert not throttle.ready() and throttle.wait_time() == pytest.approx(0.5)
    now[0] = 1.0
    assert throttle.ready()


def test_footer_teaches_with_this_answers_own_figures() -> None:
    result = AnswerResult(
        "q",
        "ask",
        "answer",
        "text",
        sources=(Source("kv-cache", "KV cache"),),
        model="SmolLM2",
        timings=Timings(first_token_ms=123.4, total_ms=900),
        stats=GenerationStats(prompt_tokens=400, completion_tokens=3),
        loop_arrivals=(0.0, 0.5, 1.0),
    )
    footer = figures_footer(result)
    assert "first token 123 ms" in footer
    assert "2 tokens/s" in footer
    assert "403 tokens used" in footer
    assert "SmolLM2" in footer
