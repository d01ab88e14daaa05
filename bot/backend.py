"""Generation backends: anything that turns chat messages into a stream of text pieces.

Backends are synchronous on purpose: worker threads (bot.worker) call them, the event
loop never does. `max_concurrency` says how many threads may call `stream` at once.
Three implementations:
- LlamaCppBackend: the in-process llama-cpp-python model (default, free, local; one at a time);
- OpenAIBackend (bot.openai_backend): an OpenAI-compatible server (llama.cpp's
  llama-server, vLLM, `python -m llama_cpp.server`) for larger deployments;
- ScriptedBackend: replays queued replies, for tests of the layers above.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.config import GenerationConfig, ModelConfig
from bot.errors import ModelUnavailable

log = logging.getLogger(__name__)

# llama.cpp's OpenMP threads spin while waiting for work. On a machine whose cores are
# shared (CI, a small VPS, the Discord client's own threads), spinning threads starve
# each other: measured here with two processes on 2 cores, generation fell to 0.2
# tokens/s by default and ran at 23 tokens/s with a passive wait policy. It must be set
# before the OpenMP runtime loads, i.e. before llama_cpp is imported. A user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

Message = dict[str, str]


@dataclass
class GenerationStats:
    """Figures of one generation, filled in by the backend as it runs."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None  # seconds from start of the call to the first piece
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


class LlamaCppBackend:
    """llama-cpp-python in this process. Not thread-safe: only the worker thread calls it."""

    def __init__(self, config: ModelConfig, seed: int = 7) -> None:
        self.config = config
        self.name = config.name
        self.max_concurrency = 1  # one Llama object, one generation at a time
        self.seed = seed
        self.llm = None

    def load(self) -> None:
        path = Path(self.config.path)
        if not path.is_file():
            raise ModelUnavailable(
                f"model file not found: {path} (run `make install` to fetch the default model, "
                "or set model.path in config.yaml)"
            )
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - install problem
            raise ModelUnavailable(f"llama-cpp-python is not installed ({exc})") from None
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=self.config.n_ctx,
                n_threads=self.config.n_threads,
                n_gpu_layers=self.config.n_gpu_layers,
                seed=self.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailable(f"could not load model {path.name}: {exc}") from None

    def warm_up(self, messages: list[Message]) -> None:
        # llama-cpp-python keeps the KV cache of the last prompt and reuses its longest
        # common token prefix, so one tiny completion leaves the system prompt cached.
        # Its state is saved next to the model, so a one-shot `ask` loads it in a few
        # milliseconds instead of computing the system prompt again (~2 s on 2 cores).
        if self.llm is None:
            return
        saved = self._state_path(messages)
        if saved is not None and saved.is_file():
            try:
                self.llm.load_state(_read_state(saved))
                return
            except Exception as exc:  # stale or unreadable: compute it again
                log.info("prompt state %s not used: %s", saved.name, exc)
                self.llm.reset()
        self.llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
        if saved is not None:
            try:
                _write_state(self.llm.save_state(), saved)
            except OSError as exc:
                log.info("could not save the prompt state: %s", exc)

    def _state_path(self, messages: list[Message]) -> Path | None:
        """Where the warmed-up state for this model, context and prefix is kept."""
        path = Path(self.config.path)
        try:
            stat = path.stat()
        except OSError:
            return None
        key = json.dumps(
            [
                str(path.resolve()),
                stat.st_size,
                stat.st_mtime_ns,
                self.config.n_ctx,
                self.config.n_gpu_layers,
                messages,
            ],
            sort_keys=True,
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return path.with_name(f".{path.name}.prefix-{digest}.npz")

    def stream(
        self,
        messages: list[Message],
        params: GenerationConfig,
        stats: GenerationStats,
        should_stop: Callable[[], bool],
    ) -> Iterator[str]:
        if self.llm is None:
            raise ModelUnavailable("model not loaded")
        start = time.perf_counter()
        chunks = self.llm.create_chat_completion(
            messages=messages,
            stream=True,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repeat_penalty=params.repeat_penalty,
            seed=params.seed,
        )
        try:
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if not piece:
                    continue
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - start
                    stats.prompt_tokens = self.llm.n_tokens  # the prompt is evaluated by now
                stats.completion_tokens += 1
                yield piece
                if should_stop():
                    break
        finally:
            chunks.close()
            stats.total_s = time.perf_counter() - start

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None


def _write_state(state: Any, path: Path) -> None:
    """A LlamaState as a plain .npz (no pickle). Only the last row of the logits is kept:
    the next prompt is evaluated from the cached prefix, so older rows are never read, and
    the full buffer (n_batch x vocabulary floats) would be hundreds of MB."""
    import numpy as np

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(
        tmp,
        input_ids=state.input_ids,
        scores=state.scores[max(0, state.n_tokens - 1) : state.n_tokens],
        n_tokens=state.n_tokens,
        llama_state=np.frombuffer(state.llama_state, dtype=np.uint8),
        seed=state.seed,
    )
    os.replace(tmp, path)


def _read_state(path: Path) -> Any:
    import numpy as np
    from llama_cpp import LlamaState

    with np.load(path) as data:
        blob = data["llama_state"].tobytes()
        return LlamaState(
            input_ids=data["input_ids"].copy(),
            scores=data["scores"].copy(),
            n_tokens=int(data["n_tokens"]),
            llama_state=blob,
            llama_state_size=len(blob),
            seed=int(data["seed"]),
        )


class ScriptedBackend:
    """Replays queued replies piece by piece (word by word); for tests of higher layers."""

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
        start = time.perf_counter()
        stats.prompt_tokens = sum(len(m["content"].split()) for m in messages)
        for i, word in enumerate(reply.split(" ")):
            if self.delay_s:
                time.sleep(self.delay_s)
            if stats.first_token_s is None:
                stats.first_token_s = time.perf_counter() - start
            stats.completion_tokens += 1
            yield word if i == 0 else " " + word
            if should_stop():
                break
        stats.total_s = time.perf_counter() - start

    def close(self) -> None:
        pass


def make_backend(model: ModelConfig, generation: GenerationConfig) -> Backend:
    if model.backend == "openai":
        from bot.openai_backend import OpenAIBackend  # the openai package only when used

        return OpenAIBackend(model, timeout_s=generation.timeout_s)
    return LlamaCppBackend(model, seed=generation.seed)
