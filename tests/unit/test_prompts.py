"""bot.prompts: the project's prompts load; broken templates and replies are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.errors import KnowledgeError
from bot.prompts import REPLY_KEYS, TEMPLATE_VARIABLES, load_prompts


def test_project_prompts_load() -> None:
    prompts = load_prompts(PROJECT_ROOT / "prompts")
    assert prompts.system
    assert set(prompts.templates) == set(TEMPLATE_VARIABLES)
    assert set(prompts.replies) == REPLY_KEYS


def test_render_fills_every_placeholder(prompts_dir: Path) -> None:
    prompts = load_prompts(prompts_dir)
    text = prompts.render(
        "answer", context="[1] Inference: NOTE-TEXT", question="QUESTION-TEXT", lead="LEAD-TEXT"
    )
    assert "NOTE-TEXT" in text
    assert "QUESTION-TEXT" in text
    assert "LEAD-TEXT" in text
    assert "$" not in text


def test_render_with_a_missing_value_is_an_error(prompts_dir: Path) -> None:
    prompts = load_prompts(prompts_dir)
    with pytest.raises(KnowledgeError, match=r"prompt 'define': missing value for \$term"):
        prompts.render("define", context="notes")


def test_reply_substitutes_values(prompts_dir: Path) -> None:
    prompts = load_prompts(prompts_dir)
    assert "123" in prompts.reply("too_long", max_chars=123)


def test_reply_tolerates_a_missing_value(prompts_dir: Path) -> None:
    prompts = load_prompts(prompts_dir)
    assert prompts.reply("empty").startswith("Ask me something")


def test_template_with_an_unknown_placeholder_names_the_file(prompts_dir: Path) -> None:
    path = prompts_dir / "define.txt"
    path.write_text("NOTES:\n$context\n\nDefine $term for $user.\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"unknown placeholder \$user") as info:
        load_prompts(prompts_dir)
    assert str(path) in str(info.value)


def test_template_with_a_missing_placeholder_names_the_file(prompts_dir: Path) -> None:
    path = prompts_dir / "answer.txt"
    path.write_text("NOTES:\n$context\n\n$lead\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"missing placeholder \$question") as info:
        load_prompts(prompts_dir)
    assert str(path) in str(info.value)


def test_missing_template_file_names_it(prompts_dir: Path) -> None:
    (prompts_dir / "analogy.txt").unlink()
    with pytest.raises(KnowledgeError, match=r"analogy\.txt: prompt file not found"):
        load_prompts(prompts_dir)


def test_empty_system_prompt_is_an_error(prompts_dir: Path) -> None:
    (prompts_dir / "system.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"system\.txt: is empty"):
        load_prompts(prompts_dir)


def test_replies_missing_a_key_names_it(prompts_dir: Path) -> None:
    path = prompts_dir / "replies.yaml"
    kept = [line for line in path.read_text().splitlines() if not line.startswith("off_topic:")]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"field 'off_topic' is missing") as info:
        load_prompts(prompts_dir)
    assert str(path) in str(info.value)


def test_replies_with_an_unknown_key_names_it(prompts_dir: Path) -> None:
    path = prompts_dir / "replies.yaml"
    path.write_text(path.read_text() + 'farewell: "Bye!"\n', encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"unknown field 'farewell'"):
        load_prompts(prompts_dir)


def test_replies_with_empty_text_names_the_key(prompts_dir: Path) -> None:
    path = prompts_dir / "replies.yaml"
    path.write_text(path.read_text() + 'busy: ""\n', encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"field 'busy' must be non-empty text"):
        load_prompts(prompts_dir)


def test_replies_invalid_yaml_names_the_file(prompts_dir: Path) -> None:
    path = prompts_dir / "replies.yaml"
    path.write_text("empty: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"replies\.yaml \(line \d+\): not valid YAML"):
        load_prompts(prompts_dir)
