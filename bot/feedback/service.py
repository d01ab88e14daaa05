"""What the front ends call: record an answer, record a vote, build the gaps report.

`open_feedback(config)` returns a `Feedback` that does nothing at all (and creates no
file) when `analytics.enabled` is false. Every method does blocking database I/O: async
callers run them with `asyncio.to_thread`. A failing disk never breaks an answer:
`record` logs the problem and returns None (the answer then gets no feedback buttons).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.answer.result import AnswerResult
from bot.config import Config
from bot.feedback.gaps import GapsReport, build_report
from bot.feedback.store import (
    DAY_S,
    DB_NAME,
    KEY_NAME,
    AnswerRecord,
    FeedbackStore,
    FeedbackStoreError,
    VoteStatus,
)
from bot.guard import redact
from bot.retrieval import Retriever
from bot.storage import SQLAlchemyError, is_url, store_target

log = logging.getLogger(__name__)

VOTE_REPLIES: dict[str, str] = {
    "recorded": "Thanks — noted.",
    "unchanged": "Thanks — noted.",
    "changed_helpful": "Changed your vote to helpful.",
    "changed_not_helpful": "Changed your vote to not helpful.",
    "unknown_answer": (
        "Thanks! I no longer have a record of that answer (old feedback is deleted after a "
        "while), so this vote wasn't counted."
    ),
    "disabled": "Thanks! Feedback recording is switched off on this bot, so nothing was kept.",
    "failed": "Sorry, I couldn't save that vote just now. Please try again later.",
}


def nearest_entry(result: AnswerResult, retriever: Retriever | None) -> str | None:
    """The entry an answer was about; for an unknown question, the retriever's top hit."""
    if result.entry_id:
        return result.entry_id
    if result.kind == "unknown" and retriever is not None and result.question.strip():
        hits = retriever.search(result.question, limit=1)
        return hits[0].entry.id if hits else None
    return None


def answer_record(
    result: AnswerResult, origin: str, retriever: Retriever | None = None
) -> AnswerRecord:
    entry_ids = tuple(dict.fromkeys(s.id for s in result.sources if s.id != "models.yaml"))
    return AnswerRecord(
        question=redact(result.question),
        mode=result.mode,
        kind=result.kind,
        origin=origin,
        entry_ids=entry_ids,
        nearest_entry=nearest_entry(result, retriever),
        fallback=result.fallback,
        low_confidence=result.low_confidence,
    )


def vote_reply(status: str, helpful: bool) -> str:
    if status == "changed":
        return VOTE_REPLIES["changed_helpful" if helpful else "changed_not_helpful"]
    return VOTE_REPLIES[status]


class Feedback:
    """The feedback store, or nothing when analytics is disabled."""

    def __init__(self, store: FeedbackStore | None, retention_days: int, path: Path | str) -> None:
        self.store = store
        self.retention_days = retention_days
        self.path = path

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def record(
        self, result: AnswerResult, origin: str, retriever: Retriever | None = None
    ) -> int | None:
        """Store one answer; its id, or None when disabled or the write failed."""
        if self.store is None:
            return None
        try:
            return self.store.record(answer_record(result, origin, retriever))
        except (SQLAlchemyError, OSError, FeedbackStoreError) as exc:
            log.warning("could not record an answer for feedback: %s", exc)
            return None

    def vote(self, answer_id: int, user_id: int | str, helpful: bool) -> str:
        """Record a vote; returns the reply to show the voter."""
        if self.store is None:
            return VOTE_REPLIES["disabled"]
        try:
            status: VoteStatus = self.store.vote(answer_id, user_id, helpful)
        except (SQLAlchemyError, OSError, FeedbackStoreError) as exc:
            log.warning("could not record a vote: %s", exc)
            return VOTE_REPLIES["failed"]
        return vote_reply(status, helpful)

    def gaps(
        self,
        titles: Mapping[str, str],
        days: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> GapsReport:
        return gaps_report(self.store, titles, days or self.retention_days, clock)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def gaps_report(
    store: FeedbackStore | None,
    titles: Mapping[str, str],
    days: int,
    clock: Callable[[], float] = time.time,
) -> GapsReport:
    """The report over `store` (None: nothing recorded yet, an empty report)."""
    if store is None:
        return build_report([], titles, days, 0)
    since = clock() - days * DAY_S
    return build_report(store.gap_rows(since), titles, days, store.count_answers(since))


def open_feedback(config: Config, clock: Callable[[], float] = time.time) -> Feedback:
    """The store in the data dir (or the shared database_url); when analytics is disabled,
    nothing is opened or made."""
    analytics = config.analytics
    path = store_target(config.database_url, config.data_dir, DB_NAME)
    if not analytics.enabled:
        return Feedback(None, analytics.retention_days, path)
    try:
        store = FeedbackStore(
            path, analytics.retention_days, clock, key_path=config.data_dir / KEY_NAME
        )
        path = store.path  # without a URL's password, for messages
    except (SQLAlchemyError, OSError, FeedbackStoreError) as exc:
        # Answers still work; they are just not recorded until the file is fixed.
        where = path if not is_url(path) else "database_url"
        log.error("feedback store %s unusable, not recording: %s", where, exc)
        return Feedback(None, analytics.retention_days, path)
    return Feedback(store, analytics.retention_days, path)


def read_gaps(
    config: Config,
    titles: Mapping[str, str],
    days: int | None = None,
    clock: Callable[[], float] = time.time,
) -> GapsReport:
    """The gaps report for the CLI: never creates the database (absent: empty report)."""
    analytics = config.analytics
    days = days or analytics.retention_days
    if not analytics.enabled:
        return GapsReport(days, 0, enabled=False)
    path = store_target(config.database_url, config.data_dir, DB_NAME)
    if not is_url(path) and not Path(path).is_file():
        return gaps_report(None, titles, days, clock)
    try:
        with FeedbackStore(
            path, analytics.retention_days, clock, key_path=config.data_dir / KEY_NAME
        ) as store:
            return gaps_report(store, titles, days, clock)
    except (SQLAlchemyError, OSError) as exc:
        where = path if not is_url(path) else "database_url"
        raise FeedbackStoreError(f"{where}: cannot be read ({exc})") from None
