"""bot.worker: threads own the (scripted) backend; jobs run in fair order, one at a time
unless the backend allows more."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator

import pytest
from scripted_backend import ScriptedBackend

from bot.config import GenerationConfig, LimitsConfig
from bot.errors import ModelUnavailable, QueueFull
from bot.worker import InferenceWorker, Ticket

PARAMS = GenerationConfig()


def messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def collect(ticket: Ticket) -> list[str]:
    return [piece async for piece in ticket]


@pytest.fixture
def make_worker() -> Iterator[Callable[[ScriptedBackend], InferenceWorker]]:
    workers: list[InferenceWorker] = []

    def make(backend: ScriptedBackend) -> InferenceWorker:
        worker = InferenceWorker(backend)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()


async def test_pieces_arrive_in_order(make_worker) -> None:
    worker = make_worker(ScriptedBackend(["one two three four"]))
    await worker.wait_ready()
    pieces = await collect(worker.submit(messages("q"), PARAMS))
    assert pieces == ["one", " two", " three", " four"]


async def test_backend_receives_the_submitted_messages(make_worker) -> None:
    backend = ScriptedBackend(["ok"])
    worker = make_worker(backend)
    await worker.wait_ready()
    await collect(worker.submit(messages("what is inference?"), PARAMS))
    assert backend.calls == [messages("what is inference?")]


async def test_warm_up_messages_reach_the_backend() -> None:
    backend = ScriptedBackend()
    worker = InferenceWorker(backend, warmup=messages("NOTES:"))
    try:
        await worker.wait_ready()
        assert backend.warmed_up_with == messages("NOTES:")
    finally:
        worker.stop()


async def test_stats_are_filled_in(make_worker) -> None:
    worker = make_worker(ScriptedBackend(["a b c"]))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    await collect(ticket)
    assert ticket.stats.completion_tokens == 3
    assert ticket.stats.first_token_s is not None
    assert ticket.started_at is not None


async def test_second_job_waits_in_line_while_the_first_runs(make_worker) -> None:
    worker = make_worker(ScriptedBackend(["a b c d e f", "x y"], delay_s=0.02))
    await worker.wait_ready()
    first = worker.submit(messages("first"), PARAMS)
    second = worker.submit(messages("second"), PARAMS)
    first_iter = aiter(first)
    await anext(first_iter)  # the first job is now generating
    assert first.position() == 0
    assert second.position() >= 1
    assert worker.queue_length == 1
    rest = [p async for p in first_iter]
    await collect(second)
    assert len(rest) == 5


async def test_jobs_run_one_at_a_time_in_fifo_order(make_worker) -> None:
    backend = ScriptedBackend(["a b c", "d e f", "g h i"], delay_s=0.02)
    worker = make_worker(backend)
    await worker.wait_ready()
    tickets = [worker.submit(messages(f"job {i}"), PARAMS) for i in range(3)]
    outputs = await asyncio.gather(*(collect(t) for t in tickets))
    assert ["".join(o) for o in outputs] == ["a b c", "d e f", "g h i"]
    assert backend.calls == [messages(f"job {i}") for i in range(3)]
    # each job starts only after the one before it has produced all of its pieces
    for before, after in itertools.pairwise(tickets):
        assert after.started_at is not None and before.started_at is not None
        assert after.started_at >= before.started_at + before.stats.total_s


async def test_finished_ticket_has_position_zero(make_worker) -> None:
    worker = make_worker(ScriptedBackend(["done"]))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    await collect(ticket)
    assert ticket.position() == 0


async def test_finished_jobs_are_counted(make_worker) -> None:
    worker = make_worker(ScriptedBackend(["a", "b"]))
    await worker.wait_ready()
    for _ in range(2):
        await collect(worker.submit(messages("q"), PARAMS))
    # the thread counts a job just after handing over its last piece: allow it a moment
    for _ in range(100):
        if worker.jobs_done == 2:
            break
        await asyncio.sleep(0.01)
    assert worker.jobs_done == 2


async def test_cancel_stops_generation_early(make_worker) -> None:
    reply = " ".join(f"w{i}" for i in range(50))
    worker = make_worker(ScriptedBackend([reply], delay_s=0.01))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    pieces = []
    async for piece in ticket:
        pieces.append(piece)
        if len(pieces) == 2:
            ticket.cancel()
    assert ticket.cancelled
    assert 2 <= len(pieces) < 25  # stopped long before the 50-word reply ended
    assert not ticket.timed_out


async def test_cancelled_waiting_job_never_reaches_the_backend(make_worker) -> None:
    backend = ScriptedBackend(["a b c d", "never"], delay_s=0.02)
    worker = make_worker(backend)
    await worker.wait_ready()
    first = worker.submit(messages("first"), PARAMS)
    second = worker.submit(messages("second"), PARAMS)
    second.cancel()
    await collect(first)
    assert await collect(second) == []
    assert backend.calls == [messages("first")]


async def test_timeout_stops_generation_and_marks_the_ticket(make_worker) -> None:
    reply = " ".join(f"w{i}" for i in range(50))
    worker = make_worker(ScriptedBackend([reply], delay_s=0.02))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), GenerationConfig(timeout_s=0.05))
    pieces = await collect(ticket)
    assert ticket.timed_out
    assert len(pieces) < 50


async def test_job_within_its_time_limit_is_not_timed_out(make_worker) -> None:
    worker = make_worker(ScriptedBackend(["a b c"], delay_s=0.001))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), GenerationConfig(timeout_s=5))
    await collect(ticket)
    assert not ticket.timed_out


async def test_failed_load_raises_model_unavailable_with_its_message(make_worker) -> None:
    backend = ScriptedBackend()
    backend.fail_load = ModelUnavailable("model file not found: models/x.gguf")
    worker = make_worker(backend)
    with pytest.raises(ModelUnavailable, match=r"model file not found: models/x\.gguf"):
        await worker.wait_ready()


async def test_unexpected_load_error_becomes_model_unavailable(make_worker) -> None:
    backend = ScriptedBackend()
    backend.fail_load = RuntimeError("bad magic number")
    worker = make_worker(backend)
    with pytest.raises(ModelUnavailable, match=r"model failed to load: bad magic number"):
        await worker.wait_ready()


async def test_job_submitted_after_a_failed_load_gets_the_error(make_worker) -> None:
    backend = ScriptedBackend(["never"])
    backend.fail_load = ModelUnavailable("model file not found: x.gguf")
    worker = make_worker(backend)
    with pytest.raises(ModelUnavailable):
        await worker.wait_ready()
    with pytest.raises(ModelUnavailable, match="model file not found"):
        await collect(worker.submit(messages("q"), PARAMS))
    assert backend.calls == []


async def test_backend_error_during_generation_becomes_model_unavailable(make_worker) -> None:
    class Exploding(ScriptedBackend):
        def stream(self, *args, **kwargs):
            yield "partial"
            raise ValueError("kaboom")

    worker = make_worker(Exploding())
    await worker.wait_ready()
    pieces = []
    with pytest.raises(ModelUnavailable, match="generation failed: ValueError"):
        async for piece in worker.submit(messages("q"), PARAMS):
            pieces.append(piece)
    assert pieces == ["partial"]


async def test_submit_after_stop_is_refused(make_worker) -> None:
    worker = make_worker(ScriptedBackend())
    await worker.wait_ready()
    worker.stop()
    with pytest.raises(ModelUnavailable, match="shutting down"):
        worker.submit(messages("q"), PARAMS)


async def test_event_loop_stays_responsive_during_a_slow_job(make_worker) -> None:
    reply = " ".join(f"w{i}" for i in range(40))
    worker = make_worker(ScriptedBackend([reply], delay_s=0.02))  # about 0.8 s of "generation"
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    generation = asyncio.create_task(collect(ticket))
    max_lag = 0.0
    ticks = 0
    while not generation.done():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        max_lag = max(max_lag, time.perf_counter() - before - 0.01)
        ticks += 1
    pieces = await generation
    assert len(pieces) == 40
    assert ticks >= 10  # the loop kept turning while the job ran
    assert max_lag < 0.2


async def test_users_take_turns_in_the_queue(make_worker) -> None:
    """One user's three questions do not hold back another user's one."""
    backend = ScriptedBackend(["running now"] + [f"r{i}" for i in range(4)], delay_s=0.02)
    worker = make_worker(backend)
    await worker.wait_ready()
    running = worker.submit(messages("running"), PARAMS, owner="x")
    first_piece = aiter(running)
    await anext(first_piece)  # the worker is busy with it
    a = [worker.submit(messages(f"a{i}"), PARAMS, owner="a") for i in range(3)]
    b = worker.submit(messages("b0"), PARAMS, owner="b")
    assert [t.position() for t in (a[0], b, a[1], a[2])] == [1, 2, 3, 4]
    await asyncio.gather(collect(running), *(collect(t) for t in (*a, b)))
    served = [m[0]["content"] for m in backend.calls[1:]]
    assert served == ["a0", "b0", "a1", "a2"]


async def test_full_queue_refuses_with_a_time_to_retry(make_worker) -> None:
    backend = ScriptedBackend(["a b c d e f g h"] * 3, delay_s=0.02)
    worker = InferenceWorker(backend, limits=LimitsConfig(queue_max=1))
    try:
        await worker.wait_ready()
        running = worker.submit(messages("1"), PARAMS)
        await anext(aiter(running))
        waiting = worker.submit(messages("2"), PARAMS)
        assert worker.capacity_wait() is not None
        with pytest.raises(QueueFull) as refused:
            worker.submit(messages("3"), PARAMS)
        assert refused.value.retry_s >= 1
        await asyncio.gather(collect(running), collect(waiting))
        assert worker.capacity_wait() is None
    finally:
        worker.stop()


async def test_expected_wait_over_the_limit_is_refused(make_worker) -> None:
    worker = InferenceWorker(ScriptedBackend(), limits=LimitsConfig(max_wait_s=10))
    try:
        await worker.wait_ready()
        worker.job_s = 4.0  # as if measured
        assert worker.capacity_wait() is None  # 1 job ahead of nobody: 4 s
        worker.job_s = 20.0
        assert worker.capacity_wait() == pytest.approx(10.0)  # 20 s expected; retry in half
    finally:
        worker.stop()


async def test_several_jobs_run_at_once_when_the_backend_allows_it(make_worker) -> None:
    backend = ScriptedBackend(["a b c d e f g h i j"] * 2, delay_s=0.02)
    backend.max_concurrency = 2
    worker = make_worker(backend)
    await worker.wait_ready()
    first, second = (worker.submit(messages(str(i)), PARAMS) for i in range(2))
    await asyncio.gather(collect(first), collect(second))
    assert first.started_at is not None and second.started_at is not None
    assert second.started_at < first.started_at + first.stats.total_s  # they overlapped


async def test_a_remote_engine_is_tried_again_after_a_failed_load(make_worker) -> None:
    backend = ScriptedBackend(["back again"])
    backend.fail_load = ModelUnavailable("cannot reach the engine")
    backend.retry_load = True
    worker = make_worker(backend)
    with pytest.raises(ModelUnavailable):
        await worker.wait_ready()
    with pytest.raises(ModelUnavailable, match="cannot reach"):
        await collect(worker.submit(messages("q"), PARAMS))
    backend.fail_load = None  # the engine is back
    assert await collect(worker.submit(messages("q"), PARAMS)) == ["back", " again"]


class Timed:
    """A bare backend: yields pieces after fixed pauses and fills in only what it is given
    (an engine's token counts), like LlamaCppBackend and OpenAIBackend."""

    name = "timed"
    max_concurrency = 1

    def __init__(self, pauses: list[float], counts: tuple[int, int] | None = None) -> None:
        self.pauses = pauses
        self.counts = counts

    def load(self) -> None:
        pass

    def warm_up(self, messages) -> None:
        pass

    def stream(self, messages, params, stats, should_stop):
        for n, pause in enumerate(self.pauses):
            time.sleep(pause)
            yield f"p{n}"
            if should_stop():
                break
        if self.counts is not None:
            stats.prompt_tokens, stats.completion_tokens = self.counts

    def close(self) -> None:
        pass


async def test_the_worker_times_the_generation_and_counts_pieces(make_worker) -> None:
    worker = make_worker(Timed([0.05, 0.0, 0.05]))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    assert await collect(ticket) == ["p0", "p1", "p2"]
    stats = ticket.stats  # final as soon as the stream has ended
    assert stats.pieces == 3
    assert stats.first_token_s is not None and 0.05 <= stats.first_token_s < 0.1 + 0.5
    assert stats.total_s >= 0.1 and stats.total_s >= stats.first_token_s
    assert stats.completion_tokens == 3  # no engine count: one piece, one token
    assert stats.prompt_tokens == 0


async def test_the_engines_token_counts_win_over_the_piece_count(make_worker) -> None:
    worker = make_worker(Timed([0.0, 0.0], counts=(41, 7)))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    await collect(ticket)
    assert (ticket.stats.prompt_tokens, ticket.stats.completion_tokens) == (41, 7)
    assert ticket.stats.pieces == 2


async def test_a_generation_without_pieces_has_no_first_token(make_worker) -> None:
    worker = make_worker(Timed([]))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    assert await collect(ticket) == []
    assert ticket.stats.first_token_s is None
    assert (ticket.stats.pieces, ticket.stats.completion_tokens) == (0, 0)
    assert ticket.stats.total_s >= 0.0


async def test_a_stopped_generation_counts_what_was_handed_over(make_worker) -> None:
    worker = make_worker(Timed([0.0] * 5))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), GenerationConfig(timeout_s=1e-9))  # over at once
    pieces = await collect(ticket)
    assert ticket.timed_out
    assert ticket.stats.pieces == len(pieces) == 1


async def test_a_failed_generation_keeps_its_timing(make_worker) -> None:
    class Failing(Timed):
        def stream(self, messages, params, stats, should_stop):
            yield "partial"
            time.sleep(0.02)
            raise ValueError("kaboom")

    worker = make_worker(Failing([]))
    await worker.wait_ready()
    ticket = worker.submit(messages("q"), PARAMS)
    with pytest.raises(ModelUnavailable):
        await collect(ticket)
    assert ticket.stats.pieces == 1 and ticket.stats.first_token_s is not None
    assert ticket.stats.total_s >= 0.02
