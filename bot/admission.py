"""Who may ask now: a cap on each user's open questions, and a rate limit on model use.

Pure logic with an injectable clock. Two separate rules:
- `try_enter` / `leave`: a user may have up to `per_user_queued` questions open (waiting
  or being answered); later ones wait their turn in the worker's fair queue, and one over
  the cap gets a clear "you already have N questions waiting".
- `charge`: called by the pipeline only when a question is about to use the model, so
  fixed replies (empty, too long, emoji-only, off-topic, greetings) never count against
  the rate limit.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from bot.config import LimitsConfig


@dataclass(frozen=True)
class Admit:
    ok: bool
    reason: str = ""  # "busy" (too many open questions) or "rate_limited" when not ok
    wait_s: float = 0.0


class Admission:
    def __init__(
        self,
        per_user_queued: int = 3,
        rate_count: int = 6,
        rate_window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_user_queued = per_user_queued
        self.rate_count = rate_count
        self.rate_window_s = rate_window_s
        self.clock = clock
        self._open: dict[Hashable, int] = defaultdict(int)
        self._recent: dict[Hashable, deque[float]] = defaultdict(deque)

    @classmethod
    def from_limits(cls, limits: LimitsConfig) -> Admission:
        return cls(limits.per_user_queued, limits.rate_limit_count, limits.rate_limit_window_s)

    def try_enter(self, user: Hashable) -> Admit:
        """Open a question for the user (then `leave` must follow), or say why not."""
        if self._open[user] >= self.per_user_queued:
            return Admit(False, "busy")
        self._open[user] += 1
        return Admit(True)

    def leave(self, user: Hashable) -> None:
        if self._open.get(user, 0) > 0:
            self._open[user] -= 1
        if not self._open.get(user):
            self._open.pop(user, None)

    def open_questions(self, user: Hashable) -> int:
        return self._open.get(user, 0)

    def rate_wait(self, user: Hashable) -> float:
        """Seconds until the user may use the model again; 0 when there is room now."""
        now = self.clock()
        recent = self._recent[user]
        while recent and now - recent[0] >= self.rate_window_s:
            recent.popleft()
        if len(recent) < self.rate_count:
            return 0.0
        return self.rate_window_s - (now - recent[0])

    def charge(self, user: Hashable) -> Admit:
        """Count one use of the model against the user's rate limit, if there is room."""
        wait_s = self.rate_wait(user)
        if wait_s > 0:
            return Admit(False, "rate_limited", wait_s)
        self._recent[user].append(self.clock())
        return Admit(True)
