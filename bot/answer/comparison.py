"""Which way a GPU-versus-CPU comparison points: "why is my GPU slower than my CPU?" and
"why is my 5090 10x faster than my Ryzen?" ask opposite things.

The embedding model reads both as "GPU, CPU, speed" and scores the FAQ of the one as
close to the other (dev dj014, hj018: each got the other's answer). A FAQ whose question
compares the two the other way round is marked down (`Tuning.opposite_comparison_penalty`).
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


def _device(text: str) -> str | None:
    gpu = [m.end() for m in GPU.finditer(text)]
    cpu = [m.end() for m in CPU.finditer(text)]
    if not gpu and not cpu:
        return None
    return "gpu" if max(gpu, default=-1) > max(cpu, default=-1) else "cpu"


def _first_device(text: str) -> str | None:
    gpu, cpu = GPU.search(text), CPU.search(text)
    if gpu is None and cpu is None:
        return None
    if cpu is None or (gpu is not None and gpu.start() < cpu.start()):
        return "gpu"
    return "cpu"


def direction(text: str) -> Direction | None:
    """The first GPU-vs-CPU comparison in `text`, as which of the two is faster."""
    for m in COMPARATIVE.finditer(text):
        before = re.split(r"[.?!,;]", text[max(0, m.start() - BEFORE_CHARS) : m.start()])[-1]
        after = re.split(r"[.?!,;]", text[m.end() : m.end() + AFTER_CHARS])[0]
        left, right = _device(before), _first_device(after)
        if left is None or right is None or left == right:
            continue
        faster = m.group(1).lower() in ("fast", "faster", "quicker")
        return "gpu_faster" if faster == (left == "gpu") else "gpu_slower"
    return None
