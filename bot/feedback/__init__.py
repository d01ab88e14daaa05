"""Feedback for the curators: every answer recorded, votes on them, the gaps report.

No Discord here. Nothing is stored when `analytics.enabled` is false.
"""

from bot.feedback.gaps import NO_ENTRY, REASONS, GapGroup, GapsReport, build_report, render_text
from bot.feedback.service import (
    VOTE_REPLIES,
    Feedback,
    answer_record,
    gaps_report,
    nearest_entry,
    open_feedback,
    read_gaps,
    vote_reply,
)
from bot.feedback.store import (
    DB_NAME,
    KEY_NAME,
    SCHEMA_VERSION,
    AnswerRecord,
    FeedbackStore,
    FeedbackStoreError,
    GapRow,
)

__all__ = [
    "DB_NAME",
    "KEY_NAME",
    "NO_ENTRY",
    "REASONS",
    "SCHEMA_VERSION",
    "VOTE_REPLIES",
    "AnswerRecord",
    "Feedback",
    "FeedbackStore",
    "FeedbackStoreError",
    "GapGroup",
    "GapRow",
    "GapsReport",
    "answer_record",
    "build_report",
    "gaps_report",
    "nearest_entry",
    "open_feedback",
    "read_gaps",
    "render_text",
    "vote_reply",
]
