"""OpenAIBackend against a tiny scripted OpenAI-compatible server on 127.0.0.1.

The real server (python -m llama_cpp.server) is exercised in tests/remote; these check
what is cheap to check exactly: the request body, usage, fallbacks, retries and errors.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.backend import GenerationStats
from bot.config import GenerationConfig, ModelConfig
from bot.errors import ModelUnavailable
from bot.openai_backend import OpenAIBackend
from bot.worker import InferenceWorker

PARAMS = GenerationConfig(max_tokens=12, temperature=0.3, top_p=0.8, repeat_penalty=1.2, seed=5)
MESSAGES = [{"role": "user", "content": "What is inference?"}]


def chunk(content: str | None = None, usage: dict[str, int] | None = None) -> dict[str, Any]:
    choices = [] if content is None else [{"index": 0, "delta": {"content": content}}]
    data: dict[str, Any] = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "tiny",
        "choices": choices,
    }
    if usage is not None:
        data["usage"] = usage
    return data


class FakeServer:
    """Answers /v1/models and /v1/chat/completions; `replies` scripts the completions:
    an int is an HTTP error status, a list of chunks is streamed as server-sent events."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[int | list[dict[str, Any]]] = []
        self.models = ["tiny"]
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = {
                    "object": "list",
                    "data": [{"id": m, "object": "model"} for m in fake.models],
                }
                self._send(200, json.dumps(body).encode(), "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                reply = fake.replies.pop(0) if fake.replies else [chunk("Hi.")]
                if isinstance(reply, int):
                    error = json.dumps({"error": {"message": f"status {reply}"}}).encode()
                    self._send(reply, error, "application/json")
                    return
                events = [f"data: {json.dumps(c)}\n\n" for c in reply] + ["data: [DONE]\n\n"]
                self._send(200, "".join(events).encode(), "text/event-stream")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("retry-after-ms", "10")  # the client's retries, quickly
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


def backend_for(url: str, **model: Any) -> OpenAIBackend:
    config = ModelConfig(backend="openai", base_url=url, name="tiny", **model)
    return OpenAIBackend(config, timeout_s=5)


def run(backend: OpenAIBackend, stop: Any = lambda: False) -> tuple[str, GenerationStats]:
    stats = GenerationStats()
    text = "".join(backend.stream(MESSAGES, PARAMS, stats, stop))
    return text, stats


def test_request_carries_every_setting_and_repeat_penalty(server: FakeServer) -> None:
    backend = backend_for(server.url)
    run(backend)
    body = server.requests[0]["body"]
    assert body["model"] == "tiny" and body["messages"] == MESSAGES and body["stream"] is True
    assert body["max_tokens"] == 12 and body["temperature"] == 0.3 and body["top_p"] == 0.8
    assert body["seed"] == 5
    assert body["repeat_penalty"] == 1.2  # llama.cpp's own penalty, not frequency_penalty
    assert "frequency_penalty" not in body
    assert body["stream_options"] == {"include_usage": True}
    assert server.requests[0]["headers"]["authorization"] == "Bearer not-needed"


def test_api_key_comes_from_the_named_environment_variable(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTOR_TEST_KEY", "sk-local-123")
    run(backend_for(server.url, api_key_env="TUTOR_TEST_KEY"))
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-local-123"


def test_token_counts_come_from_the_usage_chunk(server: FakeServer) -> None:
    usage = {"prompt_tokens": 41, "completion_tokens": 3, "total_tokens": 44}
    server.replies.append([chunk("Inference"), chunk(" runs."), chunk(usage=usage)])
    text, stats = run(backend_for(server.url))
    assert text == "Inference runs."
    assert (stats.prompt_tokens, stats.completion_tokens) == (41, 3)
    assert stats.extra["usage_from_server"] == 1.0
    assert stats.first_token_s is None and stats.total_s == 0.0  # the worker times it


def test_without_usage_the_counts_are_left_to_the_worker(server: FakeServer) -> None:
    server.replies.append([chunk("a"), chunk(" b"), chunk(" c")])
    text, stats = run(backend_for(server.url))
    assert text == "a b c"
    assert (stats.prompt_tokens, stats.completion_tokens) == (0, 0)  # it counts pieces
    assert stats.extra["usage_from_server"] == 0.0


def test_server_that_rejects_stream_options_is_asked_again_without(server: FakeServer) -> None:
    server.replies += [400, [chunk("ok")], [chunk("again")]]
    backend = backend_for(server.url)
    assert run(backend)[0] == "ok"
    assert run(backend)[0] == "again"
    sent = [r["body"] for r in server.requests]
    assert "stream_options" in sent[0] and "stream_options" not in sent[1]
    assert "stream_options" not in sent[2]  # remembered


def test_server_errors_are_retried(server: FakeServer) -> None:
    server.replies += [503, 500, [chunk("back")]]
    assert run(backend_for(server.url))[0] == "back"
    assert len(server.requests) == 3


def test_persistent_server_error_is_one_clear_line(server: FakeServer) -> None:
    server.replies += [500, 500, 500]
    with pytest.raises(ModelUnavailable, match=r"answered with an error \(HTTP 500\)"):
        run(backend_for(server.url))


def test_should_stop_ends_the_stream(server: FakeServer) -> None:
    server.replies.append([chunk(f" w{i}") for i in range(20)])
    text, _ = run(backend_for(server.url), stop=lambda: True)
    assert text == " w0"


async def test_through_the_worker_it_is_timed_and_its_usage_kept(server: FakeServer) -> None:
    usage = {"prompt_tokens": 41, "completion_tokens": 5, "total_tokens": 46}
    server.replies.append([chunk("Inference"), chunk(" runs."), chunk(usage=usage)])
    worker = InferenceWorker(backend_for(server.url))
    try:
        await worker.wait_ready()
        ticket = worker.submit(MESSAGES, PARAMS)
        assert "".join([piece async for piece in ticket]) == "Inference runs."
    finally:
        worker.stop()
    stats = ticket.stats
    assert (stats.prompt_tokens, stats.completion_tokens, stats.pieces) == (41, 5, 2)
    assert stats.first_token_s is not None and stats.total_s >= stats.first_token_s


def test_load_checks_that_the_model_is_served(server: FakeServer) -> None:
    backend_for(server.url).load()
    server.models = ["other-model"]
    with pytest.raises(ModelUnavailable, match=r"does not serve model 'tiny'.*other-model"):
        backend_for(server.url).load()


def test_unreachable_server_at_load_logs_and_does_not_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = FakeServer()
    url = server.url
    server.close()  # nothing listens there now
    backend = OpenAIBackend(
        ModelConfig(backend="openai", base_url=url, name="tiny"), timeout_s=5, max_retries=0
    )
    with caplog.at_level(logging.WARNING, logger="bot.openai_backend"):
        backend.load()
        with pytest.raises(ModelUnavailable, match="the model server is unreachable"):
            run(backend)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and url in lines[0] and "curated notes" in lines[0]


def test_streams_from_several_threads_at_once(server: FakeServer) -> None:
    backend = backend_for(server.url, max_concurrency=4)
    assert backend.max_concurrency == 4
    server.replies += [[chunk(f"t{i}")] for i in range(4)]
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(run(backend)[0])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == ["t0", "t1", "t2", "t3"]
