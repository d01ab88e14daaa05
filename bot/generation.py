"""What a generation backend is: the messages it takes, the figures it fills in, and the
Protocol every backend (bot.backend, bot.openai_backend) implements. Kept apart from the
registry in bot.backend so that backends and the worker can import it without a cycle."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from bot.config import GenerationConfig

Message = dict[str, str]


@dataclass
class GenerationStats:
    """Figures of one generation. The worker (bot.worker) times it and counts its pieces;
    the backend fills in the engine's token counts where it knows them."""

    prompt_tokens: int = 0
    # the engine's count; where it gives none, the worker sets it to `pieces` at the end
    # (a streamed piece is one token on llama.cpp, an estimate elsewhere)
    completion_tokens: int = 0
    pieces: int = 0  # text pieces the backend yielded
    first_token_s: float | None = None  # seconds from the start of the job to the first piece
    total_s: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


class Backend(Protocol):
    name: str
    max_concurrency: int  # how many threads may be inside `stream` at once

    def load(self) -> None: ...

    def warm_up(self, messages: list[Message]) -> None:
        """Compute the fixed prompt prefix once so later prompts that start with it reuse it."""

    def stream(
        self,
        messages: list[Message],
        params: GenerationConfig,
        stats: GenerationStats,
        should_stop: Callable[[], bool],
    ) -> Iterator[str]: ...

    def close(self) -> None: ...
