"""Helpers shared by the integration tests (fixtures live in conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.config import Config


def with_prompts(config: Config, prompts_dir: Path, temperature: float | None = None) -> Config:
    knowledge = config.knowledge.model_copy(update={"prompts_dir": prompts_dir})
    generation = config.generation
    if temperature is not None:
        generation = generation.model_copy(update={"temperature": temperature})
    return config.model_copy(update={"knowledge": knowledge, "generation": generation})


PROJECT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m bot ARGS` as a user runs it, from the project folder."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
