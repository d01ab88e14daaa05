"""Who may ask now: one question in flight per user and a per-user rate limit.

Pure logic with an injectable clock, used by the Discord front end before a question
is queued for the model. The queue itself is FIFO (bot.worker); with one question in
flight per user, nobody can crowd others out.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Admit:
    ok: bool
    reason: str = ""  # "busy" or "rate_limited" when not ok
    wait_s: float = 0.0


class Admission:
    def __init__(
        self,
        per_user_in_flight: int = 1,
        rate_count: int = 6,
        rate_window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_user_in_flight = per_user_in_flight
        self.rate_count = rate_count
        self.rate_window_s = rate_window_s
        self.clock = clock
        self._in_flight: dict[int, int] = defaultdict(int)
        self._recent: dict[int, deque[float]] = defaultdict(deque)

    def try_enter(self, user_id: int) -> Admit:
        now = self.clock()
        if self._in_flight[user_id] >= self.per_user_in_flight:
            return Admit(False, "busy")
        recent = self._recent[user_id]
        while recent and now - recent[0] >= self.rate_window_s:
            recent.popleft()
        if len(recent) >= self.rate_count:
            return Admit(False, "rate_limited", self.rate_window_s - (now - recent[0]))
        recent.append(now)
        self._in_flight[user_id] += 1
        return Admit(True)

    def leave(self, user_id: int) -> None:
        if self._in_flight.get(user_id, 0) > 0:
            self._in_flight[user_id] -= 1
            if not self._in_flight[user_id]:
                del self._in_flight[user_id]

    def in_flight(self, user_id: int) -> int:
        return self._in_flight.get(user_id, 0)
