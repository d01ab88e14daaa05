"""Per-user cap (one in flight) and rate limit, with a fake clock."""

from __future__ import annotations

from bot.admission import Admission


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_question_in_flight_per_user() -> None:
    admission = Admission(per_user_in_flight=1, rate_count=10, rate_window_s=60, clock=Clock())
    assert admission.try_enter(1).ok
    second = admission.try_enter(1)
    assert not second.ok and second.reason == "busy"
    assert admission.try_enter(2).ok  # other users are not affected
    admission.leave(1)
    assert admission.try_enter(1).ok


def test_rate_limit_says_how_long_to_wait_and_recovers() -> None:
    clock = Clock()
    admission = Admission(per_user_in_flight=5, rate_count=3, rate_window_s=60, clock=clock)
    for _ in range(3):
        assert admission.try_enter(7).ok
        admission.leave(7)
        clock.now += 10
    refused = admission.try_enter(7)
    assert not refused.ok and refused.reason == "rate_limited"
    assert 29 < refused.wait_s <= 30  # the first question leaves the window 60 s after it
    clock.now += refused.wait_s
    assert admission.try_enter(7).ok


def test_refused_attempts_do_not_count_against_the_limit() -> None:
    clock = Clock()
    admission = Admission(per_user_in_flight=1, rate_count=2, rate_window_s=60, clock=clock)
    assert admission.try_enter(1).ok
    for _ in range(5):
        assert admission.try_enter(1).reason == "busy"
    admission.leave(1)
    assert admission.try_enter(1).ok


def test_leave_without_enter_is_harmless() -> None:
    admission = Admission(clock=Clock())
    admission.leave(42)
    assert admission.in_flight(42) == 0
