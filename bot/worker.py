"""The inference worker: its threads own the model; everything else awaits it.

A llama-cpp `Llama` object is not thread-safe and its calls block, so the model lives
in one dedicated thread (a remote engine that batches requests may get several: the
backend's `max_concurrency`). The threads take jobs from one fair queue
(bot.fair_queue: round-robin across users), one after the other with no gap between
them. Each generated piece is handed to the event loop with `call_soon_threadsafe`; the
loop only ever awaits. Callers see their place in line while they wait, can cancel (the
thread stops at the next token), and every job has a time limit. A full queue, or one
whose expected wait is too long, refuses new jobs with `QueueFull` and a time to retry.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field

from bot.config import GenerationConfig, LimitsConfig
from bot.errors import ModelUnavailable, QueueFull
from bot.fair_queue import FairQueue
from bot.generation import Backend, GenerationStats, Message

log = logging.getLogger(__name__)

_DONE = object()


@dataclass(eq=False)
class Ticket:
    """A queued generation. Iterate it (async) to receive text pieces as they are made."""

    messages: list[Message]
    params: GenerationConfig
    loop: asyncio.AbstractEventLoop
    owner: Hashable = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    submitted_at: float = field(default_factory=time.perf_counter)
    started_at: float | None = None
    timed_out: bool = False
    _out: asyncio.Queue = field(default_factory=asyncio.Queue)
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _worker: InferenceWorker | None = None

    def position(self) -> int:
        """0 while generating (or done), n >= 1 while n-1 jobs are ahead in the queue."""
        return self._worker.position_of(self) if self._worker else 0

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _push(self, item: object) -> None:
        self.loop.call_soon_threadsafe(self._out.put_nowait, item)

    async def get(self, timeout: float | None = None) -> str | None:
        """The next piece, or None when generation is over. Raises TimeoutError after
        `timeout` seconds without a piece (safe to call again), or the worker's error."""
        if not self._out.empty():
            item = self._out.get_nowait()
        elif timeout is None:
            item = await self._out.get()
        else:
            item = await asyncio.wait_for(self._out.get(), timeout)
        if item is _DONE:
            self._out.put_nowait(_DONE)  # later calls see the end too
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    async def __aiter__(self) -> AsyncIterator[str]:
        while (piece := await self.get()) is not None:
            yield piece


class InferenceWorker:
    def __init__(
        self,
        backend: Backend,
        warmup: list[Message] | None = None,
        limits: LimitsConfig | None = None,
    ) -> None:
        self.backend = backend
        self.warmup = warmup
        self.limits = limits or LimitsConfig()
        self.threads = max(1, int(getattr(backend, "max_concurrency", 1)))
        self._waiting: FairQueue[Ticket] = FairQueue()
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._load_lock = threading.Lock()
        self._pool: list[threading.Thread] = []
        self._stopping = False
        self._loaded = threading.Event()
        self.load_error: ModelUnavailable | None = None
        self.running: set[Ticket] = set()
        self.jobs_done = 0
        self.job_s: float | None = None  # moving average of a job's duration, for wait estimates

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the threads; the first loads the model. Non-blocking."""
        if not self._pool:
            self._pool = [
                threading.Thread(target=self._run, args=(n,), name=f"inference-{n}", daemon=True)
                for n in range(self.threads)
            ]
            for thread in self._pool:
                thread.start()

    async def wait_ready(self) -> None:
        """Await the end of model loading; raise ModelUnavailable if it failed."""
        self.start()
        await asyncio.to_thread(self._loaded.wait)
        if self.load_error is not None:
            raise self.load_error

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            for ticket in [*self._waiting.order(), *self.running]:
                ticket.cancel()
            self._wakeup.notify_all()
        for thread in self._pool:
            thread.join(timeout)
        self._pool = []
        self.backend.close()

    # -- queue ---------------------------------------------------------------------------------
    def wait_estimate(self, position: int) -> float:
        """Seconds until a job at this place in line starts (0 while nothing was measured)."""
        return (self.job_s or 0.0) * position / self.threads

    def capacity_wait(self) -> float | None:
        """None if a new job may queue now; else the seconds after which to try again."""
        with self._lock:
            waiting = len(self._waiting)
        expected = self.wait_estimate(waiting + 1)
        if waiting >= self.limits.queue_max or expected > self.limits.max_wait_s:
            return max(1.0, self.wait_estimate(waiting - self.limits.queue_max + 1), expected / 2)
        return None

    def submit(
        self, messages: list[Message], params: GenerationConfig, owner: Hashable = None
    ) -> Ticket:
        """Queue a generation; must be called from the event loop thread."""
        retry_s = self.capacity_wait()
        if retry_s is not None:
            raise QueueFull(retry_s)
        ticket = Ticket(messages, params, asyncio.get_running_loop(), owner)
        ticket._worker = self
        with self._lock:
            if self._stopping:
                raise ModelUnavailable("the model worker is shutting down")
            self._waiting.push(owner, ticket)
            self._wakeup.notify()
        return ticket

    def position_of(self, ticket: Ticket) -> int:
        with self._lock:
            return self._waiting.position(ticket)

    @property
    def queue_length(self) -> int:
        with self._lock:
            return len(self._waiting)

    # -- the threads ---------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            self.backend.load()
            if self.warmup:
                self.backend.warm_up(self.warmup)
            self.load_error = None
        except ModelUnavailable as exc:
            self.load_error = exc
        except Exception as exc:  # any loader failure becomes one clear line
            log.exception("model failed to load")
            self.load_error = ModelUnavailable(f"model failed to load: {exc}")

    def _run(self, number: int) -> None:
        if number == 0:
            self._load()
            self._loaded.set()
        else:
            self._loaded.wait()
        while True:
            with self._lock:
                while not len(self._waiting) and not self._stopping:
                    self._wakeup.wait()
                if self._stopping:
                    for ticket in self._waiting.clear():
                        ticket._push(ModelUnavailable("the model worker stopped"))
                    return
                ticket = self._waiting.pop()
                self.running.add(ticket)
            started = time.perf_counter()
            try:
                self._generate(ticket)
            finally:
                took = time.perf_counter() - started
                with self._lock:
                    self.running.discard(ticket)
                    self.jobs_done += 1
                    if ticket.started_at is not None and not ticket.cancelled:
                        self.job_s = took if self.job_s is None else 0.7 * self.job_s + 0.3 * took

    def _generate(self, ticket: Ticket) -> None:
        if ticket.cancelled:
            ticket._push(_DONE)
            return
        waited = time.perf_counter() - ticket.submitted_at
        if waited > self.limits.max_wait_s:
            ticket._push(QueueFull(self.wait_estimate(1) or 1.0))
            return
        if self.load_error is not None and getattr(self.backend, "retry_load", False):
            with self._load_lock:  # a remote engine may be back: try again, one at a time
                if self.load_error is not None:
                    self._load()
        if self.load_error is not None:
            ticket._push(self.load_error)
            return
        ticket.started_at = time.perf_counter()
        deadline = ticket.started_at + ticket.params.timeout_s

        def should_stop() -> bool:
            if time.perf_counter() > deadline:
                ticket.timed_out = True
                return True
            return ticket.cancelled

        try:
            self._stream(ticket, should_stop)
            ticket._push(_DONE)
        except ModelUnavailable as exc:
            ticket._push(exc)
        except Exception as exc:
            log.exception("generation failed")
            ticket._push(ModelUnavailable(f"generation failed: {type(exc).__name__}"))

    def _stream(self, ticket: Ticket, should_stop: Callable[[], bool]) -> None:
        """Hand the backend's pieces to the ticket, timing them in `ticket.stats` (the one
        place that does: backends only yield text and fill in the engine's token counts).
        The figures are final before the caller pushes the end of the stream."""
        stats = ticket.stats
        start = ticket.started_at if ticket.started_at is not None else time.perf_counter()
        try:
            for piece in self.backend.stream(ticket.messages, ticket.params, stats, should_stop):
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - start
                stats.pieces += 1
                ticket._push(piece)
        finally:
            stats.total_s = time.perf_counter() - start
            if not stats.completion_tokens:
                stats.completion_tokens = stats.pieces
