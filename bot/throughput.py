"""`python -m bot bench --throughput`: questions in flight at once vs one after another.

Eight questions (by default) go through the real pipeline twice: sequentially, then all
at once. For each run: total wall time, generated tokens per second over that wall time,
and the p50/p95 time a user waits for a finished answer. With `--remote` the bot uses
the OpenAI-compatible backend against a `python -m llama_cpp.server` started here on
127.0.0.1, with `model.max_concurrency` requests in flight; without it, the in-process
llama.cpp backend (one at a time by design). No assertions: figures are for people.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.local_server import LlamaServer
from bot.pipeline import AnswerResult, Tutor

QUESTIONS = (
    "What is inference?",
    "What does the KV cache store?",
    "Why is a GPU faster than a CPU for inference?",
    "What is quantization?",
    "What is time to first token?",
    "How does batching make inference cheaper?",
    "What is a token?",
    "Why do answers slow down as a conversation grows?",
)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _timed(tutor: Tutor, question: str) -> tuple[AnswerResult, float]:
    start = time.perf_counter()
    result = await tutor.ask(question)
    return result, time.perf_counter() - start


async def _run(tutor: Tutor, questions: list[str], concurrent: bool) -> dict[str, Any]:
    start = time.perf_counter()
    if concurrent:
        done = await asyncio.gather(*(_timed(tutor, q) for q in questions))
    else:
        done = [await _timed(tutor, q) for q in questions]
    wall = time.perf_counter() - start
    tokens = sum(r.stats.completion_tokens for r, _ in done)
    waits = [t for _, t in done]
    return {
        "wall_s": round(wall, 2),
        "tokens": tokens,
        "tokens_per_s": round(tokens / wall, 1) if wall > 0 else None,
        "answer_s_p50": round(statistics.median(waits), 2),
        "answer_s_p95": round(_pct(waits, 0.95), 2),
        "model_answers": sum(1 for r, _ in done if r.model_sentences > 0),
        "answers": len(done),
    }


async def _measure(config: Config, n: int) -> dict[str, Any]:
    tutor = Tutor.from_config(config)
    await tutor.start()
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(n)]
    try:
        await tutor.ask(questions[0])  # warm: first-request costs are not throughput
        sequential = await _run(tutor, questions, concurrent=False)
        concurrent = await _run(tutor, questions, concurrent=True)
    finally:
        tutor.close()
    speedup = None
    if sequential["tokens_per_s"] and concurrent["tokens_per_s"]:
        speedup = round(concurrent["tokens_per_s"] / sequential["tokens_per_s"], 2)
    return {
        "backend": config.model.backend,
        "max_concurrency": tutor.worker.threads,
        "questions": n,
        "sequential": sequential,
        "concurrent": concurrent,
        "concurrent_vs_sequential_tokens_per_s": speedup,
    }


def measure_throughput(config: Config, n: int, remote: bool, concurrency: int) -> dict[str, Any]:
    """Figures for the configured backend, or (remote) for a local llama_cpp.server."""
    if not remote:
        return asyncio.run(_measure(config, n))
    with tempfile.TemporaryDirectory() as tmp:
        server = LlamaServer(
            config.model.path,
            config.model.name,
            Path(tmp) / "server.log",
            config.model.n_threads or 2,
        )
        server.start()
        try:
            model = config.model.model_copy(
                update={"backend": "openai", "base_url": server.url, "max_concurrency": concurrency}
            )
            figures = asyncio.run(_measure(config.model_copy(update={"model": model}), n))
        finally:
            server.stop()
    figures["server"] = "python -m llama_cpp.server (one request at a time)"
    return figures


def print_throughput(figures: dict[str, Any]) -> None:
    print(
        f"backend: {figures['backend']} · {figures['max_concurrency']} in flight at most · "
        f"{figures['questions']} questions"
    )
    for name in ("sequential", "concurrent"):
        run = figures[name]
        print(
            f"  {name:11s} wall {run['wall_s']} s · {run['tokens']} tokens · "
            f"{run['tokens_per_s']} tokens/s · answer p50 {run['answer_s_p50']} s, "
            f"p95 {run['answer_s_p95']} s · model-written {run['model_answers']}/{run['answers']}"
        )
    print(f"  concurrent / sequential tokens/s: {figures['concurrent_vs_sequential_tokens_per_s']}")
