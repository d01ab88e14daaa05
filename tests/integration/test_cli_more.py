"""More of the terminal front end: the Discord runner's token check, quiz, bench."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from integration_helpers import run_cli

PROJECT = Path(__file__).resolve().parents[2]

BENCH_KEYS = {
    "cores",
    "model",
    "raw_tokens_per_s",
    "bot_tokens_per_s",
    "pipeline_ratio",
    "ttft_cold_ms",
    "ttft_cached_ms",
    "retrieval_ms_p50",
    "retrieval_ms_p99",
    "in_flight",
    "loop_lag_ms_p50",
    "loop_lag_ms_p99",
    "loop_lag_ms_max",
    "ack_wait_ms_max",
    "startup_s",
    "peak_rss_mb",
}


def test_run_without_a_token_is_one_clear_line_and_exit_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    proc = run_cli("run", env=env, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0]
    assert "Traceback" not in proc.stderr


def test_terminal_quiz_plays_from_stdin(tmp_path: Path) -> None:
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path)}
    proc = run_cli("quiz", "--questions", "2", stdin="1\n2\n", env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("Question 1") >= 1 and "2/2" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "quiz.sqlite3").is_file()


@pytest.mark.model
def test_bench_runs_end_to_end_and_reports_every_field() -> None:
    proc = run_cli("bench", "--json", "--n", "1", "--in-flight", "2", timeout=600)
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures.keys() >= BENCH_KEYS, BENCH_KEYS - figures.keys()
    assert figures["in_flight"] == 2
    assert figures["raw_tokens_per_s"] > 0 and figures["bot_tokens_per_s"] > 0
    assert figures["ttft_cold_ms"] > 0 and figures["ttft_cached_ms"] > 0
    assert figures["peak_rss_mb"] > 50  # the model is really loaded
