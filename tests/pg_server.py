"""A throw-away PostgreSQL server for the tests: initdb into a temp dir, postgres on a free
port of 127.0.0.1, stopped and deleted at the end.

The server binaries are looked up on PATH, then in /usr/lib/postgresql/<version>/bin (where
Debian's `postgresql` package puts them; .ci/run installs it when initdb is missing).
postgres refuses to run as root, so as root the server runs as the `postgres` user (or
`nobody`) through setpriv, in a temp dir given to that user. Any failure raises
PostgresUnavailable with the reason and the end of the server's log.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 30.0
HINT = (
    "PostgreSQL server binaries are needed for the storage tests: install Debian's "
    "`postgresql` package (apt-get install -y postgresql; .ci/run does this when initdb "
    "is missing) or put initdb and postgres on PATH"
)


class PostgresUnavailable(RuntimeError):
    """The test server could not be started; the message says why."""


def find_bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        directory = Path(os.path.realpath(found)).parent
        if (directory / "postgres").exists():
            return directory
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name)
        if Path(p).parent.parent.name.isdigit()
        else 0,
    )
    if versions:
        return Path(versions[-1]).parent
    raise PostgresUnavailable(f"initdb not found. {HINT}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) that drops root, or ([], None, None) when not root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        setpriv = shutil.which("setpriv")
        if setpriv:
            prefix = [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        else:
            prefix = ["runuser", "-u", name, "--"]
        return prefix, user.pw_uid, user.pw_gid
    raise PostgresUnavailable("running as root and there is no postgres or nobody user to run as")


class PostgresServer:
    """start() → url (the `postgres` database of user `bot`, trust auth); stop() cleans up."""

    user = "bot"

    def __init__(self) -> None:
        self.root: Path | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        bin_dir = find_bin_dir()
        prefix, uid, gid = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        data, sockets = self.root / "data", self.root / "sockets"
        sockets.mkdir()
        if uid is not None and gid is not None:
            for path in (self.root, sockets):
                os.chown(path, uid, gid)
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        init = subprocess.run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if init.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed ({init.returncode}): {(init.stdout + init.stderr)[-2000:]}"
            )
        self.port = free_port()
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                *prefix,
                str(bin_dir / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(sockets),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=100",
            ],
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_ready()
        return self.url()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise PostgresUnavailable(
                    f"postgres exited with {self.proc.returncode}: {self.log_tail()}"
                )
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.1)
        self.stop()
        raise PostgresUnavailable(
            f"postgres did not accept connections in {START_TIMEOUT_S:.0f} s ({last}): "
            f"{self.log_tail()}"
        )

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL if needed; the temp dir is removed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.root is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.root)
            self.root = None
