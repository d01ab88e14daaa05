"""A local OpenAI-compatible engine: `python -m llama_cpp.server` as a subprocess.

Used by `python -m bot bench --throughput --remote` to measure the remote backend on this
machine, and by the tests of that backend. Binds 127.0.0.1 only; output goes to a log
file. For production, run llama.cpp's `llama-server --parallel N` or vLLM yourself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """One `python -m llama_cpp.server` subprocess that can be killed and started again on
    the same port."""

    def __init__(self, model: Path, alias: str, log_path: Path, n_threads: int = 2) -> None:
        self.model = model
        self.alias = alias  # the served model name: the bot's model.name
        self.port = free_port()
        self.log_path = log_path
        self.n_threads = n_threads
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
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
            str(self.n_threads),
            # By default a new request interrupts the one being streamed; the bot's
            # requests must each finish (this server still runs one at a time).
            "--interrupt_requests",
            "false",
        ]

    def start(self, timeout: float = 120.0) -> None:
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env
            )
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
