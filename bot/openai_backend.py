"""An OpenAI-compatible chat server as the generation backend, through the `openai` package.

llama.cpp's `llama-server`, vLLM and `python -m llama_cpp.server` all serve
/v1/chat/completions. One `OpenAI` client is shared by every worker thread (it is
thread-safe), so up to `max_concurrency` answers can be in flight at once. A server that
is down never stops the bot: each failed request raises `ModelUnavailable` (the pipeline
then answers from the curated notes) and the next request simply tries the server again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import openai

from bot.config import GenerationConfig, ModelConfig
from bot.errors import ModelUnavailable
from bot.generation import GenerationStats, Message

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0  # an unreachable host fails fast; the answer's own limit is for reading
LOAD_TIMEOUT_S = 10.0  # the start-up check of /models
MAX_RETRIES = 2  # connection errors, 408/409/429 and 5xx; the client backs off 0.5 s, 1 s, ...


class OpenAIBackend:
    """Streams chat completions from an OpenAI-compatible server; safe to call from threads."""

    # A failed load() is never final for a server: the worker loads again before the next
    # job. (load() itself only fails on configuration errors; a server that is down is not.)
    retry_load = True

    def __init__(
        self, config: ModelConfig, timeout_s: float = 30.0, max_retries: int = MAX_RETRIES
    ) -> None:
        self.base_url = (config.base_url or "").rstrip("/")
        self.name = config.name
        self.max_concurrency = config.max_concurrency
        key = os.environ.get(config.api_key_env, "") if config.api_key_env else ""
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=key or "not-needed",  # local servers want none, the client wants one
            max_retries=max_retries,
            timeout=openai.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s)),
        )
        # stream_options.include_usage asks for a last chunk with the token counts; turned
        # off for good the first time a server rejects it and accepts the request without.
        self.include_usage = True
        self._state_lock = threading.Lock()
        self._reachable: bool | None = None  # None: not known yet

    # -- life cycle ----------------------------------------------------------------------------
    def load(self) -> None:
        """Check the server once. Down or failing: log one line and carry on (answers come
        from the notes until it is back). Reachable but not serving `name`: a config error."""
        try:
            served = [m.id for m in self.client.models.list(timeout=LOAD_TIMEOUT_S)]
        except (openai.APIConnectionError, openai.InternalServerError) as exc:
            self._mark(False, exc)
            return
        except openai.OpenAIError as exc:
            raise ModelUnavailable(self.explain(exc, at_start=True)) from None
        self._mark(True)
        if served and self.name not in served:
            raise ModelUnavailable(
                f"the model server at {self.base_url} does not serve model {self.name!r} "
                f"(it serves: {', '.join(served[:5])}); set model.name to one of them"
            )

    def warm_up(self, messages: list[Message]) -> None:
        pass  # the server keeps its own prompt (prefix) cache

    def close(self) -> None:
        self.client.close()

    # -- generation ----------------------------------------------------------------------------
    def stream(
        self,
        messages: list[Message],
        params: GenerationConfig,
        stats: GenerationStats,
        should_stop: Callable[[], bool],
    ) -> Iterator[str]:
        chunks = self._open(messages, params)
        received = False
        usage = None
        try:
            for chunk in chunks:
                received = True
                usage = chunk.usage or usage
                delta = chunk.choices[0].delta if chunk.choices else None
                piece = delta.content if delta is not None else None
                if piece:
                    yield piece
                if should_stop():
                    break
        except openai.OpenAIError as exc:
            self._mark(False, exc)
            raise ModelUnavailable(self.explain(exc, mid_answer=received)) from None
        finally:
            chunks.close()  # on early stop too: the server sees the client go and stops
        # Without usage (llama_cpp.server never sends it, and a stream closed early never
        # gets it) the token counts stay 0 and the worker counts pieces instead.
        stats.extra["usage_from_server"] = 1.0 if usage is not None else 0.0
        if usage is not None:
            stats.prompt_tokens = usage.prompt_tokens
            stats.completion_tokens = usage.completion_tokens

    def request_body(self, messages: list[Message], params: GenerationConfig) -> dict[str, Any]:
        """The keyword arguments of the chat completion request."""
        body: dict[str, Any] = {
            "model": self.name,
            "messages": messages,
            "stream": True,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            # llama.cpp's repetition penalty (multiplies the logits of recent tokens);
            # OpenAI's frequency_penalty is a different, additive thing. llama.cpp
            # servers and vLLM read it from the body, others ignore it.
            "extra_body": {"repeat_penalty": params.repeat_penalty},
            "timeout": openai.Timeout(
                params.timeout_s, connect=min(CONNECT_TIMEOUT_S, params.timeout_s)
            ),
        }
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        return body

    def _open(self, messages: list[Message], params: GenerationConfig) -> Any:
        body = self.request_body(messages, params)
        try:
            try:
                chunks = self.client.chat.completions.create(**body)
            except (openai.BadRequestError, openai.UnprocessableEntityError):
                if "stream_options" not in body:
                    raise
                # An older server that rejects stream_options: ask again without it and
                # count pieces instead. If that fails too, its error is the real one.
                del body["stream_options"]
                chunks = self.client.chat.completions.create(**body)
                self.include_usage = False
                log.info("the model server does not take stream_options; counting pieces")
        except openai.OpenAIError as exc:
            self._mark(False, exc)
            raise ModelUnavailable(self.explain(exc)) from None
        self._mark(True)
        return chunks

    # -- errors --------------------------------------------------------------------------------
    def explain(self, exc: Exception, mid_answer: bool = False, at_start: bool = False) -> str:
        """One short line for users: what went wrong, without the server's address."""
        if isinstance(exc, openai.APITimeoutError):
            return "the model server did not answer in time"
        if isinstance(exc, openai.APIConnectionError):
            if mid_answer:
                return "the connection to the model server was lost mid-answer"
            return "the model server is unreachable"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return "the model server refused the API key (see model.api_key_env)"
        if isinstance(exc, openai.NotFoundError):
            if at_start:
                return f"no OpenAI-compatible API at {self.base_url} (model.base_url usually ends in /v1)"
            return f"the model server does not serve model {self.name!r}"
        if isinstance(exc, openai.APIStatusError):
            return f"the model server answered with an error (HTTP {exc.status_code})"
        return f"the model server failed ({type(exc).__name__})"

    def _mark(self, reachable: bool, exc: Exception | None = None) -> None:
        """Log the server going down or coming back once, not on every request."""
        with self._state_lock:
            changed = self._reachable is not reachable
            self._reachable = reachable
        if not changed:
            return
        if reachable:
            log.info("model server at %s is reachable; the model writes answers", self.base_url)
        else:
            reason = self.explain(exc) if exc is not None else "unreachable"
            log.warning(
                "model server at %s: %s; answering from the curated notes until it is back",
                self.base_url,
                reason,
            )
