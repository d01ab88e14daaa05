"""Helpers for the tests against a real OpenAI-compatible server (fixtures: conftest.py)."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.config import Config, load_config

# The shared 2 cores are slow: more time than usual per answer (max_tokens stays 100: fewer
# tokens cut the first sentence and leave nothing that passes the check).
GENERATION = {"timeout_s": 120.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """One `python -m llama_cpp.server` subprocess that can be killed and started again on
    the same port; its output goes to a log file."""

    def __init__(self, model: Path, alias: str, log_path: Path) -> None:
        self.model = model
        self.alias = alias  # the served model name: the bot's model.name
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> None:
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--model_alias",
            self.alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
            # By default a new request interrupts the one being streamed; the bot's
            # requests must each finish (the server still runs one at a time).
            "--interrupt_requests",
            "false",
        ]
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited:\n{self.log[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not start in {timeout} s:\n{self.log[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-whatever, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def remote_config(base_url: str, max_concurrency: int = 1) -> Config:
    """The project's config with model.backend openai at `base_url`."""
    config = load_config()
    model = dataclasses.replace(
        config.model, backend="openai", base_url=base_url, max_concurrency=max_concurrency
    )
    generation = dataclasses.replace(config.generation, **GENERATION)
    return dataclasses.replace(config, model=model, generation=generation)
