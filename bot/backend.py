"""Generation backends: anything that turns chat messages into a stream of text pieces.

Backends are synchronous on purpose: worker threads (bot.worker) call them, the event
loop never does. `max_concurrency` says how many threads may call `stream` at once.
`model.backend` names one of BACKENDS:
- llama_cpp, LlamaCppBackend: the in-process llama-cpp-python model (default, free, local;
  one at a time);
- openai, OpenAIBackend (bot.openai_backend): an OpenAI-compatible server (llama.cpp's
  llama-server, vLLM, `python -m llama_cpp.server`) for larger deployments.
A backend only yields text and fills in what only it knows (the engine's token counts);
the worker times the generation and counts its pieces.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.config import GenerationConfig, ModelConfig
from bot.errors import ConfigError, ModelUnavailable
from bot.generation import Backend, GenerationStats, Message

__all__ = ["BACKENDS", "Backend", "GenerationStats", "LlamaCppBackend", "Message", "make_backend"]

log = logging.getLogger(__name__)

# llama.cpp's OpenMP threads spin while waiting for work. On a machine whose cores are
# shared (CI, a small VPS, the Discord client's own threads), spinning threads starve
# each other: measured here with two processes on 2 cores, generation fell to 0.2
# tokens/s by default and ran at 23 tokens/s with a passive wait policy. It must be set
# before the OpenMP runtime loads, i.e. before llama_cpp is imported. A user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class LlamaCppBackend:
    """llama-cpp-python in this process. Not thread-safe: only the worker thread calls it."""

    def __init__(self, config: ModelConfig, seed: int = 7) -> None:
        self.config = config
        self.name = config.name
        self.max_concurrency = 1  # one Llama object, one generation at a time
        self.seed = seed
        # A llama_cpp.Llama once loaded. Any: its create_chat_completion is typed as one union
        # of the streamed and whole shapes, which this streaming-only use would have to undo.
        self.llm: Any = None

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
                if not stats.prompt_tokens:
                    stats.prompt_tokens = self.llm.n_tokens  # the prompt is evaluated by now
                yield piece
                if should_stop():
                    break
        finally:
            chunks.close()

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


BackendFactory = Callable[[ModelConfig, GenerationConfig], Backend]


def _llama_cpp(model: ModelConfig, generation: GenerationConfig) -> Backend:
    return LlamaCppBackend(model, seed=generation.seed)


def _openai(model: ModelConfig, generation: GenerationConfig) -> Backend:
    from bot.openai_backend import OpenAIBackend  # the openai package only when used

    return OpenAIBackend(model, timeout_s=generation.timeout_s)


# model.backend -> the factory that builds it (bot.config.BACKEND_NAMES lists the same names)
BACKENDS: dict[str, BackendFactory] = {"llama_cpp": _llama_cpp, "openai": _openai}


def make_backend(model: ModelConfig, generation: GenerationConfig) -> Backend:
    factory = BACKENDS.get(model.backend)
    if factory is None:
        raise ConfigError(
            f"unknown model.backend {model.backend!r}; known backends: {', '.join(BACKENDS)}"
        )
    return factory(model, generation)
