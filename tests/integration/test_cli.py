"""The terminal front end as a user runs it: real processes, the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from integration_helpers import run_cli

pytestmark = pytest.mark.model
PROJECT = Path(__file__).resolve().parents[2]


def test_ask_json_has_the_documented_fields() -> None:
    proc = run_cli("ask", "What is inference?", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {"answer", "sources", "grounded", "timings", "model"}
    assert data["grounded"] is True
    assert data["sources"][0]["id"] == "inference"
    assert data["sources"][0]["n"] == 1
    assert set(data["timings"]) >= {"retrieval_ms", "first_token_ms", "total_ms", "wall_ms"}
    assert data["timings"]["wall_ms"] >= data["timings"]["total_ms"]
    assert "Traceback" not in proc.stderr


def test_chat_reads_stdin_line_by_line_and_exits_at_end_of_input() -> None:
    proc = run_cli("chat", stdin="what is a token?\nwhy?\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("bot> ") == 2
    assert "token" in proc.stdout.lower()
    assert "Sources:" in proc.stdout


def test_check_passes_on_the_project() -> None:
    proc = run_cli("check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "knowledge" in proc.stdout and "model file" in proc.stdout


@pytest.mark.parametrize(
    "setup, args, code, needle",
    [
        ("missing_model", ["ask", "what is inference?"], 1, "model file not found"),
        (
            "broken_entry",
            ["ask", "what is inference?"],
            1,
            "kv-cache.yaml (line 5): unknown field 'definitoin'",
        ),
        (None, ["ask", ""], 0, "Ask me something"),
        (None, ["--config", "/nonexistent.yaml", "check"], 2, "config file not found"),
    ],
)
def test_bad_input_gets_one_clear_line(tmp_path: Path, setup, args, code, needle) -> None:
    if setup:
        config = tmp_path / "config.yaml"
        knowledge = tmp_path / "knowledge"
        import shutil

        shutil.copytree(PROJECT / "knowledge", knowledge)
        shutil.copytree(PROJECT / "prompts", tmp_path / "prompts")
        text = (PROJECT / "config.yaml").read_text()
        model = PROJECT / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
        if setup == "missing_model":
            model = tmp_path / "missing.gguf"
        else:
            entry = knowledge / "entries" / "kv-cache.yaml"
            entry.write_text(entry.read_text().replace("definition:", "definitoin:", 1))
        text = text.replace("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", str(model))
        text = text.replace(
            "models/passage-vectors.npz", str(PROJECT / "models/passage-vectors.npz")
        )
        config.write_text(text)
        args = ["--config", str(config), *args]
    proc = run_cli(*args)
    assert proc.returncode == code, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    assert needle in output
    assert "Traceback" not in output
    if code:
        assert len(proc.stderr.strip().splitlines()) == 1
