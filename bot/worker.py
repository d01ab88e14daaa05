"""The inference worker: one thread owns the model; everything else awaits it.

A llama-cpp `Llama` object is not thread-safe and its calls block, so the model lives
in a single dedicated thread that takes jobs from a FIFO queue, one after the other with
no gap between them. Each generated piece is handed to the event loop with
`call_soon_threadsafe`; the loop only ever awaits. Callers see their place in line while
they wait, can cancel (the thread stops at the next token), and every job has a time
limit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.backend import Backend, GenerationStats, Message
from bot.config import GenerationConfig
from bot.errors import ModelUnavailable

log = logging.getLogger(__name__)

_DONE = object()


@dataclass(eq=False)
class Ticket:
    """A queued generation. Iterate it (async) to receive text pieces as they are made."""

    messages: list[Message]
    params: GenerationConfig
    loop: asyncio.AbstractEventLoop
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
    def __init__(self, backend: Backend, warmup: list[Message] | None = None) -> None:
        self.backend = backend
        self.warmup = warmup
        self._waiting: deque[Ticket] = deque()
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._loaded = threading.Event()
        self.load_error: ModelUnavailable | None = None
        self.current: Ticket | None = None
        self.jobs_done = 0

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread; it loads the model first. Non-blocking."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="inference-worker", daemon=True)
            self._thread.start()

    async def wait_ready(self) -> None:
        """Await the end of model loading; raise ModelUnavailable if it failed."""
        self.start()
        await asyncio.to_thread(self._loaded.wait)
        if self.load_error is not None:
            raise self.load_error

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            for ticket in self._waiting:
                ticket.cancel()
            if self.current is not None:
                self.current.cancel()
            self._wakeup.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.backend.close()

    # -- queue ---------------------------------------------------------------------------------
    def submit(self, messages: list[Message], params: GenerationConfig) -> Ticket:
        """Queue a generation; must be called from the event loop thread."""
        ticket = Ticket(messages, params, asyncio.get_running_loop())
        ticket._worker = self
        with self._lock:
            if self._stopping:
                raise ModelUnavailable("the model worker is shutting down")
            self._waiting.append(ticket)
            self._wakeup.notify()
        return ticket

    def position_of(self, ticket: Ticket) -> int:
        with self._lock:
            try:
                return self._waiting.index(ticket) + 1
            except ValueError:
                return 0

    @property
    def queue_length(self) -> int:
        with self._lock:
            return len(self._waiting)

    # -- the thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self.backend.load()
            if self.warmup:
                self.backend.warm_up(self.warmup)
        except ModelUnavailable as exc:
            self.load_error = exc
        except Exception as exc:  # any loader failure becomes one clear line
            log.exception("model failed to load")
            self.load_error = ModelUnavailable(f"model failed to load: {exc}")
        self._loaded.set()
        while True:
            with self._lock:
                while not self._waiting and not self._stopping:
                    self._wakeup.wait()
                if self._stopping:
                    for ticket in self._waiting:
                        ticket._push(ModelUnavailable("the model worker stopped"))
                    self._waiting.clear()
                    return
                ticket = self._waiting.popleft()
                self.current = ticket
            try:
                self._generate(ticket)
            finally:
                with self._lock:
                    self.current = None
                    self.jobs_done += 1

    def _generate(self, ticket: Ticket) -> None:
        if ticket.cancelled:
            ticket._push(_DONE)
            return
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
            for piece in self.backend.stream(
                ticket.messages, ticket.params, ticket.stats, should_stop
            ):
                ticket._push(piece)
            ticket._push(_DONE)
        except ModelUnavailable as exc:
            ticket._push(exc)
        except Exception as exc:
            log.exception("generation failed")
            ticket._push(ModelUnavailable(f"generation failed: {type(exc).__name__}"))
