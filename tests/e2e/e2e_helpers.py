"""End-to-end: `python -m bot run` (real discord.py, real model) against the local fake.

The bot is started exactly as a user would start it, as a subprocess, pointed at the
fake by DISCORD_API_BASE_URL and DISCORD_GATEWAY_URL, with its data in BOT_DATA_DIR.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2]


def write_config(directory: Path, **overrides: dict[str, Any]) -> Path:
    """The project's config with absolute paths, plus per-section overrides."""
    data = yaml.safe_load((PROJECT / "config.yaml").read_text())
    data["model"]["path"] = str(PROJECT / data["model"]["path"])
    data["knowledge"]["dir"] = str(PROJECT / data["knowledge"]["dir"])
    data["knowledge"]["prompts_dir"] = str(PROJECT / data["knowledge"]["prompts_dir"])
    data["knowledge"]["vector_cache"] = str(PROJECT / data["knowledge"]["vector_cache"])
    for section, values in overrides.items():
        data[section].update(values)
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


class BotProcess:
    """One `python -m bot run` subprocess with its log in a file."""

    def __init__(self, env: dict[str, str], config: Path, log_path: Path) -> None:
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.config = config
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> BotProcess:
        self._log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(self.config),
            "run",
            cwd=PROJECT,
            env=self.env,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )
        return self

    async def stop(self, timeout: float = 10.0) -> tuple[int | None, float]:
        """SIGTERM, then wait; returns (exit code, seconds it took)."""
        assert self.proc is not None
        start = time.monotonic()
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                self._log.close()
                return None, time.monotonic() - start
        self._log.close()
        return self.proc.returncode, time.monotonic() - start

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
