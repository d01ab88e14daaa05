"""bot.evaluation: scoring answers against must / must_not and loading question files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.evaluation import EvalItem, EvalOutcome, load_questions, score, summarize

ITEM = EvalItem(
    id="inf-1",
    kind="ask",
    question="What is inference?",
    must=(("frozen", "unchanged"), ("trained model",)),
    must_not=(r"model\s+learns",),
)


def test_answer_meeting_every_group_passes() -> None:
    assert score(ITEM, "Inference runs a trained model; the weights stay frozen.") == []


def test_any_alternative_of_a_group_is_enough() -> None:
    assert score(ITEM, "It runs a trained model and the weights are unchanged.") == []


def test_missing_group_is_reported() -> None:
    problems = score(ITEM, "Inference runs a trained model.")
    assert len(problems) == 1
    assert problems[0].startswith("missing one of: frozen | unchanged")


def test_must_not_match_is_reported() -> None:
    problems = score(ITEM, "A trained model learns while the weights stay frozen.")
    assert problems == [r"must not match: model\s+learns"]


def test_patterns_are_case_insensitive() -> None:
    assert score(ITEM, "A TRAINED MODEL with FROZEN weights.") == []


def test_markdown_is_normalized_before_matching() -> None:
    assert score(ITEM, "A **trained** model with `frozen` weights.") == []


def write_questions(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_questions_parses_items(tmp_path: Path) -> None:
    path = write_questions(
        tmp_path,
        "- id: q1\n  kind: define\n  question: KV cache\n  must: [[cache, stored]]\n"
        "  must_not: [training]\n",
    )
    (item,) = load_questions(path)
    assert item == EvalItem("q1", "define", "KV cache", (("cache", "stored"),), ("training",))


def test_load_questions_reads_every_file_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("- {id: a, kind: ask, question: 'A?'}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- {id: b, kind: ask, question: 'B?'}\n", encoding="utf-8")
    assert [i.id for i in load_questions(tmp_path)] == ["a", "b"]


def test_bad_regex_names_the_item(tmp_path: Path) -> None:
    path = write_questions(
        tmp_path,
        "- {id: fine, kind: ask, question: 'Q?'}\n"
        "- id: broken-one\n  kind: ask\n  question: Q?\n  must: [['(unclosed']]\n",
    )
    with pytest.raises(KnowledgeError) as info:
        load_questions(path)
    message = str(info.value)
    assert str(path) in message
    assert "item 1" in message
    assert "broken-one" in message
    assert "bad regex" in message


def test_unknown_kind_names_the_item(tmp_path: Path) -> None:
    path = write_questions(tmp_path, "- {id: x, kind: trivia, question: 'Q?'}\n")
    with pytest.raises(KnowledgeError, match=r"item 0: field 'kind'"):
        load_questions(path)


def test_must_that_is_not_a_list_of_lists_is_named(tmp_path: Path) -> None:
    path = write_questions(tmp_path, "- {id: x, kind: ask, question: 'Q?', must: [a, b]}\n")
    with pytest.raises(KnowledgeError, match=r"\(x\): field 'must'"):
        load_questions(path)


def test_file_that_is_not_a_list_is_named(tmp_path: Path) -> None:
    path = write_questions(tmp_path, "id: x\n")
    with pytest.raises(KnowledgeError, match="expected a list of questions"):
        load_questions(path)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="no question files found"):
        load_questions(tmp_path)


def test_summary_counts_model_written_share_of_grounded_answers_only() -> None:
    outcomes = [
        EvalOutcome(ITEM, "a", True, answered=True, model_sentences=2),
        EvalOutcome(ITEM, "b", False, ["missing"], answered=True, model_sentences=0),
        EvalOutcome(ITEM, "Sorry, off topic", False, ["missing"], answered=False),
    ]
    summary = summarize(outcomes)
    assert (summary["passed"], summary["total"], summary["answered"]) == (1, 3, 2)
    assert summary["model_written_share"] == 0.5
    assert [i["model_sentences"] for i in summary["items"]] == [2, 0, 0]
