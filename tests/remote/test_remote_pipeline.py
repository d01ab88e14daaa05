"""The real pipeline with model.backend openai against a real `python -m llama_cpp.server`:
answers, a server that is down at start, and one that dies mid-answer and comes back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from remote_helpers import LlamaServer, free_port, remote_config

from bot.pipeline import Tutor

pytestmark = [pytest.mark.model, pytest.mark.remote]


QUESTION = "What does the KV cache store?"


async def test_on_topic_question_is_answered_by_the_server(llama_server: LlamaServer) -> None:
    tutor = Tutor.from_config(remote_config(llama_server.url))
    await tutor.start()
    try:
        result = await tutor.ask(QUESTION)
    finally:
        tutor.close()
    assert result.kind == "answer" and result.grounded
    assert result.sources[0].id == "kv-cache"
    assert result.model_error is None and result.model_sentences >= 1, result
    # llama_cpp.server sends no usage chunk when streaming, so the backend counted the
    # pieces it streamed (one token each on llama.cpp); a server that sends usage fills
    # both figures (tests/unit/test_openai_backend.py).
    assert result.stats.completion_tokens > 0
    assert result.stats.extra["usage_from_server"] in (0.0, 1.0)
    assert result.timings.first_token_ms is not None
    assert "POST /v1/chat/completions" in llama_server.log


async def test_four_questions_at_once_are_in_flight_together(
    llama_server: LlamaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With max_concurrency 4 the worker sends all four requests at once: each one starts
    before any other has finished (the server queues them; llama-server --parallel or
    vLLM would batch them), and every answer is grounded with sources."""
    tutor = Tutor.from_config(remote_config(llama_server.url, max_concurrency=4))
    await tutor.start()
    questions = [
        "What does the KV cache store?",
        "What is quantization?",
        "What is a token?",
        "What is batching?",
    ]
    backend = tutor.worker.backend
    stream = backend.stream
    lock = threading.Lock()
    in_flight = {"now": 0, "peak": 0}

    def counted(*args, **kwargs):  # requests open at the same time, seen from the bot
        with lock:
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
        try:
            yield from stream(*args, **kwargs)
        finally:
            with lock:
                in_flight["now"] -= 1

    monkeypatch.setattr(backend, "stream", counted)
    try:
        assert tutor.worker.threads == 4
        results = await asyncio.gather(*(tutor.ask(q, asker=n) for n, q in enumerate(questions)))
    finally:
        tutor.close()
    for result in results:
        assert result.kind == "answer" and result.grounded and result.sources, result
        assert result.model_error is None, result.model_error
    assert in_flight["peak"] >= 2, in_flight  # they overlapped (one at a time would be 1)
    assert llama_server.log.count("POST /v1/chat/completions") >= 4


async def test_server_down_at_start_the_bot_answers_from_its_notes() -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    tutor = Tutor.from_config(remote_config(down))
    await tutor.start()  # no exception: the bot starts without its engine
    try:
        result = await tutor.ask(QUESTION)
    finally:
        tutor.close()
    assert result.kind == "answer" and result.grounded and result.fallback
    assert result.sources[0].id == "kv-cache" and result.answer
    assert result.model_error == "the model server is unreachable"
    assert result.note is not None and "model isn't available" in result.note
    assert "unreachable" in result.note and "127.0.0.1" not in result.note


@pytest.fixture
def revived(llama_server: LlamaServer) -> Iterator[LlamaServer]:
    """The session's server, started again if a test killed it."""
    yield llama_server
    if llama_server.proc is None or llama_server.proc.poll() is not None:
        llama_server.start()


async def test_server_killed_mid_answer_then_back(
    revived: LlamaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = revived
    tutor = Tutor.from_config(remote_config(server.url))
    await tutor.start()
    try:
        backend = tutor.worker.backend
        stream = backend.stream

        def dies_after_the_first_piece(*args, **kwargs):
            for n, piece in enumerate(stream(*args, **kwargs)):
                if n == 0:
                    server.kill()
                yield piece

        monkeypatch.setattr(backend, "stream", dies_after_the_first_piece)
        lost = await tutor.ask(QUESTION)
        monkeypatch.undo()
        server.start()
        back = await tutor.ask(QUESTION)
    finally:
        tutor.close()
    assert lost.fallback and lost.grounded and lost.answer
    assert lost.model_error == "the connection to the model server was lost mid-answer"
    assert lost.note is not None and "model isn't available" in lost.note
    assert back.model_error is None and back.stats.completion_tokens > 0
    assert back.model_sentences >= 1, back
