"""Per-user cap on open questions, and the rate limit on model use, with a fake clock."""

from __future__ import annotations

from bot.admission import Admission


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_up_to_three_open_questions_per_user() -> None:
    admission = Admission(per_user_queued=3, rate_count=10, rate_window_s=60, clock=Clock())
    assert all(admission.try_enter(1).ok for _ in range(3))
    fourth = admission.try_enter(1)
    assert not fourth.ok and fourth.reason == "busy"
    assert admission.try_enter(2).ok  # other users are not affected
    admission.leave(1)
    assert admission.try_enter(1).ok
    assert admission.open_questions(1) == 3


def test_rate_limit_says_how_long_to_wait_and_recovers() -> None:
    clock = Clock()
    admission = Admission(per_user_queued=5, rate_count=3, rate_window_s=60, clock=clock)
    for _ in range(3):
        assert admission.charge(7).ok
        clock.now += 10
    refused = admission.charge(7)
    assert not refused.ok and refused.reason == "rate_limited"
    assert 29 < refused.wait_s <= 30  # the first question leaves the window 60 s after it
    clock.now += refused.wait_s
    assert admission.charge(7).ok


def test_opening_questions_never_counts_against_the_rate_limit() -> None:
    """Questions answered with a fixed reply open and close without touching the model."""
    clock = Clock()
    admission = Admission(per_user_queued=1, rate_count=1, rate_window_s=60, clock=clock)
    for _ in range(10):
        assert admission.try_enter(1).ok
        admission.leave(1)
    assert admission.charge(1).ok
    assert not admission.charge(1).ok


def test_refused_charges_do_not_extend_the_wait() -> None:
    clock = Clock()
    admission = Admission(rate_count=1, rate_window_s=60, clock=clock)
    assert admission.charge(1).ok
    for _ in range(5):
        clock.now += 5
        assert not admission.charge(1).ok
    clock.now += 35
    assert admission.charge(1).ok


def test_leave_without_enter_is_harmless() -> None:
    admission = Admission(clock=Clock())
    admission.leave(42)
    assert admission.open_questions(42) == 0


def test_rate_wait_looks_without_charging() -> None:
    clock = Clock()
    admission = Admission(rate_count=1, rate_window_s=60, clock=clock)
    assert admission.rate_wait(1) == 0
    assert admission.rate_wait(1) == 0  # looking twice charges nothing
    assert admission.charge(1).ok
    assert admission.rate_wait(1) == 60
