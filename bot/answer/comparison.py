"""Which way a GPU-versus-CPU comparison points: "why is my GPU slower than my CPU?" and
"why is my 5090 10x faster than my Ryzen?" ask opposite things.

The embedding model reads both as "GPU, CPU, speed" and scores the FAQ of the one as
close to the other (dev dj014, hj018: each got the other's answer). A FAQ whose question
compares the two the other way round is marked down (`Tuning.opposite_comparison_penalty`),
one comparing them the same way up (`Tuning.same_comparison_boost`).
"""

from __future__ import annotations

import re
from typing import Literal

Direction = Literal["gpu_faster", "gpu_slower"]

GPU = re.compile(
    r"\b(?:gpus?|cuda|vram|graphics\s+cards?|rtx\s?\d*|gtx\s?\d*|nvidia|radeon|geforce|"
    r"(?:rtx\s?)?[2-5]0[5-9]0(?:\s?ti)?|[ahv]100|h200|t4)\b",
    re.IGNORECASE,
)
CPU = re.compile(
    r"\b(?:cpus?|processors?|ryzen(?:\s?\d)?|intel|xeon|epyc|threadripper|i[3579])\b",
    re.IGNORECASE,
)
# "slower than", "10x faster then", "slow than" (as typed)
COMPARATIVE = re.compile(r"\b(slow|slower|fast|faster|quicker)\s+(?:than|then)\b", re.I)
BEFORE_CHARS = 50  # how far back the first device may be named (same clause)
AFTER_CHARS = 30


def _nearest(text: str, last: bool) -> str | None:
    """The device named last (or first) in `text`: "gpu", "cpu" or None."""
    found = [(m.start(), "gpu") for m in GPU.finditer(text)]
    found += [(m.start(), "cpu") for m in CPU.finditer(text)]
    if not found:
        return None
    return (max(found) if last else min(found))[1]


def direction(text: str) -> Direction | None:
    """The first GPU-vs-CPU comparison in `text`, as which of the two is faster."""
    for m in COMPARATIVE.finditer(text):
        before = re.split(r"[.?!,;]", text[max(0, m.start() - BEFORE_CHARS) : m.start()])[-1]
        after = re.split(r"[.?!,;]", text[m.end() : m.end() + AFTER_CHARS])[0]
        left, right = _nearest(before, last=True), _nearest(after, last=False)
        if left is None or right is None or left == right:
            continue
        faster = m.group(1).lower() in ("fast", "faster", "quicker")
        return "gpu_faster" if faster == (left == "gpu") else "gpu_slower"
    return None
