"""The gaps report: where the knowledge falls short, grouped by the nearest entry.

An answer is listed when it was refused as unknown, fell back to curated text, had low
retrieval confidence, or got at least one "not helpful" vote. Each group counts the
answers per reason (one answer can have several) and shows a few example questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.feedback.store import GapRow

REASONS = ("unknown", "fallback", "low_confidence", "not_helpful")
REASON_LABELS = {
    "unknown": "unknown",
    "fallback": "fell back",
    "low_confidence": "low confidence",
    "not_helpful": "not helpful",
}
NO_ENTRY = "(no close entry)"
EXAMPLES = 3


@dataclass(frozen=True)
class GapGroup:
    entry_id: str | None  # None: no knowledge entry was close
    title: str
    questions: int
    reasons: dict[str, int]
    examples: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry_id,
            "title": self.title,
            "questions": self.questions,
            "reasons": dict(self.reasons),
            "examples": list(self.examples),
        }


@dataclass(frozen=True)
class GapsReport:
    days: int
    answers: int  # every answer recorded in the window, listed or not
    groups: tuple[GapGroup, ...] = ()
    enabled: bool = True
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "days": self.days,
            "answers": self.answers,
            "totals": dict(self.totals),
            "groups": [g.to_json() for g in self.groups],
        }


def reasons_of(row: GapRow) -> list[str]:
    found = []
    if row.kind == "unknown":
        found.append("unknown")
    if row.fallback:
        found.append("fallback")
    if row.low_confidence:
        found.append("low_confidence")
    if row.not_helpful:
        found.append("not_helpful")
    return found


def build_report(
    rows: Iterable[GapRow],
    titles: Mapping[str, str],
    days: int,
    answers: int,
    examples: int = EXAMPLES,
) -> GapsReport:
    """Group `rows` (newest first) by nearest entry; the groups with most questions first."""
    grouped: dict[str | None, list[GapRow]] = {}
    for row in rows:
        grouped.setdefault(row.nearest_entry, []).append(row)
    groups = []
    totals = dict.fromkeys(REASONS, 0)
    for entry_id, members in grouped.items():
        counts = dict.fromkeys(REASONS, 0)
        for row in members:
            for reason in reasons_of(row):
                counts[reason] += 1
                totals[reason] += 1
        shown: list[str] = []
        for row in members:
            text = " ".join(row.question.split())
            if text and text not in shown and len(shown) < examples:
                shown.append(text)
        title = NO_ENTRY if entry_id is None else titles.get(entry_id, entry_id)
        groups.append(GapGroup(entry_id, title, len(members), counts, tuple(shown)))
    groups.sort(key=lambda g: (-g.questions, g.entry_id is None, g.title.lower()))
    return GapsReport(days, answers, tuple(groups), totals=totals)


def _group_lines(group: GapGroup) -> list[str]:
    counts = ", ".join(f"{n} {REASON_LABELS[reason]}" for reason, n in group.reasons.items() if n)
    name = group.title if group.entry_id is None else f"{group.title} ({group.entry_id})"
    plural = "s" if group.questions != 1 else ""
    lines = [f"{name}: {group.questions} question{plural}: {counts}"]
    lines += [f'  - "{q[:150]}"' for q in group.examples]
    return lines


def render_text(report: GapsReport, limit: int | None = None) -> str:
    """The report as plain text; with `limit`, whole groups are dropped to fit it."""
    if not report.enabled:
        return (
            "Feedback recording is off (analytics.enabled: false), so there is no gaps "
            "report: nothing is stored."
        )
    window = f"the last {report.days} day{'s' if report.days != 1 else ''}"
    if not report.groups:
        return (
            f"Nothing yet: no unknown, fallback, low-confidence or not-helpful answers in "
            f"{window} ({report.answers} answers recorded)."
        )
    head = f"Knowledge gaps in {window} ({report.answers} answers recorded):"
    lines = [head]
    for i, group in enumerate(report.groups):
        block = ["", *_group_lines(group)]
        more = len(report.groups) - i
        tail = f"\n\n… and {more} more group{'s' if more > 1 else ''} (`python -m bot gaps`)"
        candidate = "\n".join(lines + block)
        if limit is not None and len(candidate) + len(tail) > limit and i > 0:
            return "\n".join(lines) + tail
        lines += block
    text = "\n".join(lines)
    return text if limit is None else text[:limit]
