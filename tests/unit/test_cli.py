"""bot.cli, without a real model: error paths (one clear line on stderr, non-zero exit, no
traceback), `gaps` on the feedback store, and the terminal's low-confidence line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answer.result import AnswerResult
from bot.cli import main
from bot.config import Config
from bot.feedback import DB_NAME, open_feedback
from bot.pipeline import Tutor

ENV_OVERRIDES = (
    "BOT_MODEL_PATH",
    "BOT_DATA_DIR",
    "BOT_DATABASE_URL",
    "DISCORD_API_BASE_URL",
    "DISCORD_GATEWAY_URL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads os.environ; keep the runner's environment out of these tests."""
    for name in ENV_OVERRIDES:
        monkeypatch.delenv(name, raising=False)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def assert_one_clean_error_line(stderr: str) -> str:
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    return lines[0]


def test_missing_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["--config", str(missing), "ask", "what is inference?"]) == 2
    captured = capsys.readouterr()
    line = assert_one_clean_error_line(captured.err)
    assert "config file not found" in line
    assert str(missing) in line
    assert captured.out == ""


def test_invalid_config_value_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("model:\n  n_ctx: lots\n", encoding="utf-8")
    assert main(["--config", str(path), "check"]) == 2
    line = assert_one_clean_error_line(capsys.readouterr().err)
    assert "model.n_ctx" in line


def test_broken_knowledge_exits_1_naming_the_file(
    config_path: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = knowledge_dir / "entries" / "training.yaml"
    broken.write_text(broken.read_text().replace("topic: training", "topic: cooking"))
    assert main(["--config", str(config_path), "ask", "what is inference?"]) == 1
    line = assert_one_clean_error_line(capsys.readouterr().err)
    assert str(broken) in line
    assert "topic" in line


def test_empty_question_with_missing_model_exits_1_with_one_line(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "ask", ""]) == 1
    line = assert_one_clean_error_line(capsys.readouterr().err)
    assert "model file not found" in line


def test_ask_with_missing_model_exits_nonzero_naming_the_model_file(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "ask", "what is inference?"]) != 0
    captured = capsys.readouterr()
    line = assert_one_clean_error_line(captured.err)
    assert "model file not found" in line
    assert "missing-model.gguf" in line
    assert captured.out == ""


def test_define_with_missing_model_exits_nonzero_with_one_line(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "define", "inference"]) != 0
    assert "model file not found" in assert_one_clean_error_line(capsys.readouterr().err)


def test_check_with_missing_model_fails_with_a_clear_line(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "check"]) != 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    model_lines = [line for line in error_lines(captured.err) if "model file" in line]
    assert len(model_lines) == 1
    assert model_lines[0].startswith("error: model file not found:")
    assert "missing-model.gguf" in model_lines[0]


def test_check_reports_the_knowledge_it_validated(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--config", str(config_path), "check"])
    assert "ok: knowledge 4 entries" in capsys.readouterr().out


def test_check_with_broken_knowledge_exits_1_naming_the_file(
    config_path: Path, knowledge_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = knowledge_dir / "entries" / "bad.yaml"
    bad.write_text("id: bad\ntitle: [oops\n", encoding="utf-8")
    assert main(["--config", str(config_path), "check"]) == 1
    line = assert_one_clean_error_line(capsys.readouterr().err)
    assert str(bad) in line


def test_eval_with_bad_question_file_exits_1_naming_the_item(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        "- {id: bad-regex, kind: ask, question: 'Q?', must_not: ['(unclosed']}\n",
        encoding="utf-8",
    )
    assert main(["--config", str(config_path), "eval", "--questions", str(questions)]) == 1
    line = assert_one_clean_error_line(capsys.readouterr().err)
    assert "bad-regex" in line


def test_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


DISCORD_ID = 123456789012345678  # shaped like a Discord snowflake


# -- gaps: the feedback report -----------------------------------------------------------------


def test_cli_gaps_on_a_fresh_data_dir_creates_nothing(
    config_path: Path, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "gaps", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["groups"] == [] and data["answers"] == 0 and data["enabled"] is True
    assert main(["--config", str(config_path), "gaps"]) == 0
    assert capsys.readouterr().out.startswith("Nothing yet")
    assert not (config.data_dir / DB_NAME).exists()


def test_cli_gaps_with_analytics_disabled_creates_no_db(
    config_path: Path, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path.write_text(config_path.read_text() + "analytics:\n  enabled: false\n")
    assert main(["--config", str(config_path), "gaps", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["enabled"] is False and data["groups"] == []
    assert not config.data_dir.exists()


def test_cli_gaps_bad_days_is_one_clear_line(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "gaps", "--days", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --days must be at least 1"


async def test_cli_gaps_lists_what_the_pipeline_recorded(
    config_path: Path, config: Config, tutor: Tutor, capsys: pytest.CaptureFixture[str]
) -> None:
    feedback = open_feedback(config)
    retriever = tutor.library.retriever
    unknown = await tutor.ask("what is a gpu?")
    answered = await tutor.ask("what is inference?")
    greeting = await tutor.ask("hello")
    ids = [feedback.record(r, "terminal", retriever) for r in (unknown, answered, greeting)]
    assert all(ids)
    assert feedback.vote(ids[1], DISCORD_ID, helpful=False) == "Thanks — noted."
    assert feedback.vote(ids[1], DISCORD_ID, helpful=True) == "Changed your vote to helpful."
    assert feedback.vote(ids[1], DISCORD_ID, helpful=False) == "Changed your vote to not helpful."
    feedback.close()

    assert main(["--config", str(config_path), "gaps", "--json", "--days", "7"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answers"] == 3 and data["days"] == 7
    examples = {q: g for g in data["groups"] for q in g["examples"]}
    assert examples["what is a gpu?"]["reasons"]["unknown"] == 1
    assert examples["what is inference?"]["entry"] == "inference"
    assert examples["what is inference?"]["reasons"]["not_helpful"] == 1
    assert "hello" not in examples
    assert main(["--config", str(config_path), "gaps"]) == 0
    assert "what is a gpu?" in capsys.readouterr().out


# -- the low-confidence line -------------------------------------------------------------------


def result(question: str, kind: str = "answer", **fields: object) -> AnswerResult:
    return AnswerResult(question=question, mode="ask", kind=kind, answer="…", **fields)


def test_terminal_shows_a_line_when_the_notes_may_not_cover_the_question(
    tutor: Tutor, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import _caveat, _print_result

    unsure = result("what is a kv cache?", low_confidence=True)
    sure = result("what is a kv cache?")
    line = tutor.library.prompts.reply("low_confidence_note")
    assert "may not fully cover" in line
    assert _caveat(unsure, tutor) == line and _caveat(sure, tutor) is None
    _print_result(unsure, False, caveat=_caveat(unsure, tutor))
    assert f"({line})" in capsys.readouterr().out


def test_output_piped_into_a_reader_that_leaves_early_is_no_traceback(
    config_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def closed_pipe(*_args: object, **_kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")  # `python -m bot check | head -1`

    monkeypatch.setattr("builtins.print", closed_pipe)
    assert main(["--config", str(config_path), "check"]) == 141
    assert "Traceback" not in capsys.readouterr().err
