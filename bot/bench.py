"""`python -m bot bench`: the bot's cost against raw llama-cpp-python, in one run.

Measures, on the configured model and this machine:
- raw llama-cpp-python generation vs the bot's full pipeline (worker thread, hand-off to
  the event loop, sentence-by-sentence faithfulness check), same prompt, same sampling,
  same threads: tokens per second of each (measured where the text arrives), their
  ratio, and time to first token;
- time to first token with the fixed system prompt already cached vs cold;
- retrieval time per question over the whole knowledge;
- event-loop lag while N questions are in flight through the worker, and how long each
  waited for its first visible text (the acknowledgement);
- start-up time to ready (config, knowledge, model load, prefix warm-up) and peak memory.
Medians over repeated runs. No assertions here: figures are for people to read.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer.grounded import first_prompt
from bot.config import Config
from bot.pipeline import AnswerResult, Tutor

QUESTIONS = [
    "What is inference?",
    "Why is a GPU faster than a CPU for inference?",
    "What does the KV cache store?",
    "Does quantization make a model faster?",
    "What is the difference between training and inference?",
    "Why does the first request take longer?",
    "What is time to first token?",
    "How does batching make inference cheaper?",
    "What is a token?",
    "Why do answers slow down as a conversation grows?",
]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _rate(first: float | None, last: float | None, n: int) -> float | None:
    if first is None or last is None or n < 2 or last <= first:
        return None
    return (n - 1) / (last - first)


def _raw_generation(
    llm: Any, messages: list[dict[str, str]], config: Config, max_tokens: int | None = None
) -> dict[str, float]:
    """One plain create_chat_completion stream: no worker, no loop, no checks."""
    g = config.generation
    start = time.perf_counter()
    first = last = None
    n = 0
    for chunk in llm.create_chat_completion(
        messages=messages,
        stream=True,
        max_tokens=max_tokens or g.max_tokens,
        temperature=g.temperature,
        top_p=g.top_p,
        repeat_penalty=g.repeat_penalty,
        seed=g.seed,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            last = time.perf_counter()
            first = first or last
            n += 1
    return {
        "ttft_ms": ((first or start) - start) * 1000,
        "tokens": n,
        "tokens_per_s": _rate(first, last, n) or 0.0,
    }


def _prime(llm: Any, system: dict[str, str]) -> None:
    other = {"role": "user", "content": "NOTES:\n(a different question)"}
    llm.create_chat_completion(messages=[system, other], max_tokens=1, temperature=0.0)


def _pipeline_figures(result: AnswerResult) -> dict[str, float]:
    arrivals = result.loop_arrivals
    rate = _rate(
        arrivals[0] if arrivals else None, arrivals[-1] if arrivals else None, len(arrivals)
    )
    return {
        "ttft_ms": result.timings.first_token_ms or 0.0,
        "tokens": len(arrivals),
        "tokens_per_s": rate or 0.0,
        "total_ms": result.timings.total_ms,
    }


async def _loop_lag(tutor: Tutor, n_in_flight: int) -> dict[str, Any]:
    """Event-loop lag while `n_in_flight` questions go through the worker at once."""
    lags: list[float] = []
    running = True

    async def monitor() -> None:
        interval = 0.005
        while running:
            t = time.perf_counter()
            await asyncio.sleep(interval)
            lags.append((time.perf_counter() - t - interval) * 1000)

    async def one(question: str) -> float:
        start = time.perf_counter()
        ack = None
        async for _item in tutor.stream(question):
            if ack is None:
                ack = (time.perf_counter() - start) * 1000
        return ack or 0.0

    mon = asyncio.create_task(monitor())
    await asyncio.sleep(0.05)
    acks = await asyncio.gather(*(one(QUESTIONS[i % len(QUESTIONS)]) for i in range(n_in_flight)))
    running = False
    await mon
    return {
        "loop_lag_ms_p50": statistics.median(lags),
        "loop_lag_ms_p99": _pct(lags, 0.99),
        "loop_lag_ms_max": max(lags),
        "ack_wait_ms_max": max(acks),
        "lag_samples": len(lags),
    }


def _retrieval(tutor: Tutor, repeats: int) -> dict[str, float]:
    retriever = tutor.library.retriever
    questions = QUESTIONS + [e.title for e in tutor.library.kb.entries.values()]
    questions += [f.question for e in tutor.library.kb.entries.values() for f in e.faq]
    times = []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            retriever.search(q, limit=3)
            times.append((time.perf_counter() - t) * 1000)
    return {
        "retrieval_ms_p50": statistics.median(times),
        "retrieval_ms_p99": _pct(times, 0.99),
        "retrieval_queries": len(times),
    }


@dataclass
class _Runs:
    """Per-run figures: raw and bot generations, and first-token times cold and cached."""

    raw: list[dict[str, float]] = field(default_factory=list)
    bot: list[dict[str, float]] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    cached: list[float] = field(default_factory=list)


async def _generation_runs(tutor: Tutor, llm: Any, config: Config, n: int) -> _Runs:
    """`n` questions, each through the bot and raw (alternating order), then cold."""
    runs = _Runs()
    system = {"role": "system", "content": tutor.library.prompts.system}
    for i in range(n):
        question = QUESTIONS[i % len(QUESTIONS)]
        messages = await first_prompt(tutor.library, question, tutor.tuning)
        # Both paths start from the cache state the bot is in while serving: the fixed
        # system prompt cached, the rest of the prompt computed. Their order alternates
        # so that drift on a shared machine does not favour either.
        for path in ("bot", "raw") if i % 2 == 0 else ("raw", "bot"):
            await asyncio.to_thread(_prime, llm, system)
            if path == "bot":
                result = await tutor.ask(question)
                assert list(result.prompt_messages) == messages
                runs.bot.append(_pipeline_figures(result))
            else:
                run = await asyncio.to_thread(_raw_generation, llm, messages, config)
                runs.raw.append(run)
                runs.cached.append(run["ttft_ms"])
        # Cold: nothing in the KV cache, the whole prompt is computed.
        llm.reset()
        first = await asyncio.to_thread(_raw_generation, llm, messages, config, 1)
        runs.cold.append(first["ttft_ms"])
    return runs


async def _measure(config: Config, n: int, in_flight: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    tutor = Tutor.from_config(config)
    await tutor.start()
    startup_s = time.perf_counter() - t0
    llm = getattr(tutor.worker.backend, "llm", None)
    if llm is None:
        raise SystemExit("error: bench needs the in-process llama_cpp backend")
    try:
        tutor.stop_early = False  # generate as many tokens as the raw run
        runs = await _generation_runs(tutor, llm, config, n)
        tutor.stop_early = True
        lag = await _loop_lag(tutor, in_flight)
        retrieval = _retrieval(tutor, repeats=max(3, n))
    finally:
        tutor.close()
    figures: dict[str, Any] = {
        "cores": os.cpu_count(),
        "model": config.model.name,
        "model_path": str(config.model.path),
        "n_threads": config.model.n_threads,
        "n_gpu_layers": config.model.n_gpu_layers,
        "runs": n,
        "max_tokens": config.generation.max_tokens,
    }
    figures.update(_generation_figures(runs))
    figures.update(
        {
            "retrieval_ms_p50": round(retrieval["retrieval_ms_p50"], 3),
            "retrieval_ms_p99": round(retrieval["retrieval_ms_p99"], 3),
            "retrieval_queries": retrieval["retrieval_queries"],
            "in_flight": in_flight,
            "loop_lag_ms_p50": round(lag["loop_lag_ms_p50"], 2),
            "loop_lag_ms_p99": round(lag["loop_lag_ms_p99"], 2),
            "loop_lag_ms_max": round(lag["loop_lag_ms_max"], 2),
            "ack_wait_ms_max": round(lag["ack_wait_ms_max"], 2),
            "startup_s": round(startup_s, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )
    return figures


def _generation_figures(runs: _Runs) -> dict[str, Any]:
    """Medians of the generation runs: speed, first token, cold vs cached prefix."""
    raw, bot = runs.raw, runs.bot
    raw_tps = statistics.median(r["tokens_per_s"] for r in raw)
    bot_tps = statistics.median(b["tokens_per_s"] for b in bot)
    ttft_cold = statistics.median(runs.cold)
    ttft_cached = statistics.median(runs.cached)
    return {
        "raw_tokens_per_s": round(raw_tps, 1),
        "bot_tokens_per_s": round(bot_tps, 1),
        "pipeline_ratio": round(bot_tps / raw_tps, 3) if raw_tps else None,
        "raw_ttft_ms": round(statistics.median(r["ttft_ms"] for r in raw), 1),
        "bot_ttft_ms": round(statistics.median(b["ttft_ms"] for b in bot), 1),
        "bot_total_ms_p50": round(statistics.median(b["total_ms"] for b in bot), 1),
        "tokens_generated_p50": statistics.median(b["tokens"] for b in bot),
        "ttft_cold_ms": round(ttft_cold, 1),
        "ttft_cached_ms": round(ttft_cached, 1),
        "cached_vs_cold": round(ttft_cached / ttft_cold, 3) if ttft_cold else None,
    }


def run_bench(
    config: Config, model: Path | None = None, n: int = 5, in_flight: int = 8, as_json: bool = False
) -> int:
    if model is not None:
        config = config.model_copy(
            update={"model": config.model.model_copy(update={"path": model, "name": model.name})}
        )
    figures = asyncio.run(_measure(config, max(1, n), max(1, in_flight)))
    if as_json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"machine: {figures['cores']} cores · model: {figures['model']} ({figures['n_threads']} threads)"
    )
    rows = [
        ("generation, raw llama-cpp-python", f"{figures['raw_tokens_per_s']} tokens/s"),
        ("generation, bot pipeline", f"{figures['bot_tokens_per_s']} tokens/s"),
        ("pipeline ratio (bot/raw)", f"{figures['pipeline_ratio']}"),
        ("first token, raw / bot", f"{figures['raw_ttft_ms']} / {figures['bot_ttft_ms']} ms"),
        (
            "first token, cold / cached prefix",
            f"{figures['ttft_cold_ms']} / {figures['ttft_cached_ms']} ms ({figures['cached_vs_cold']})",
        ),
        (
            "retrieval p50 / p99",
            f"{figures['retrieval_ms_p50']} / {figures['retrieval_ms_p99']} ms",
        ),
        (
            f"loop lag with {figures['in_flight']} in flight p50/p99/max",
            f"{figures['loop_lag_ms_p50']} / {figures['loop_lag_ms_p99']} / {figures['loop_lag_ms_max']} ms",
        ),
        ("longest wait for acknowledgement", f"{figures['ack_wait_ms_max']} ms"),
        ("start-up to ready", f"{figures['startup_s']} s"),
        ("peak memory (RSS)", f"{figures['peak_rss_mb']} MB"),
    ]
    for label, value in rows:
        print(f"  {label:45s} {value}")
    print(f"(medians over {figures['runs']} runs)")
    return 0
