"""ScriptedBackend: replays queued replies piece by piece, standing in for the model in
tests of the layers above the backend (worker, pipeline, front ends)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from bot.config import GenerationConfig
from bot.generation import GenerationStats, Message


class ScriptedBackend:
    """Replays queued replies word by word. Like a real backend it only yields text and
    fills in what an engine would know (here: a prompt token count); the worker times it."""

    def __init__(self, replies: list[str] | None = None, delay_s: float = 0.0) -> None:
        self.name = "scripted"
        self.max_concurrency = 1
        self.replies = list(replies or [])
        self.delay_s = delay_s
        self.calls: list[list[Message]] = []
        self.fail_load: Exception | None = None

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def load(self) -> None:
        if self.fail_load is not None:
            raise self.fail_load

    def warm_up(self, messages: list[Message]) -> None:
        self.warmed_up_with = messages

    def stream(
        self,
        messages: list[Message],
        params: GenerationConfig,
        stats: GenerationStats,
        should_stop: Callable[[], bool],
    ) -> Iterator[str]:
        self.calls.append(messages)
        reply = self.replies.pop(0) if self.replies else "I can only answer from my notes."
        stats.prompt_tokens = sum(len(m["content"].split()) for m in messages)
        for i, word in enumerate(reply.split(" ")):
            if self.delay_s:
                time.sleep(self.delay_s)
            yield word if i == 0 else " " + word
            if should_stop():
                break

    def close(self) -> None:
        pass
