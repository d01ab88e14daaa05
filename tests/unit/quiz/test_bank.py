"""Bank validation: every broken question is reported with its file, id and field."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.quiz.bank import InvalidQuizRequest, QuizBank, QuizBankError, load_bank

GOOD = """\
  - id: {qid}
    topic: {topic}
    kind: mc
    question: "What does the KV cache store?"
    choices: ["Keys and values", "Passwords", "Weights on disk"]
    answer: {answer}
    explanation: "It keeps attention keys and values so they are not recomputed."
    entry: {entry}
"""


def question(
    qid: str = "q-kv-01",
    topic: str = "memory",
    answer: str = '"Keys and values"',
    entry: str = "kv-cache",
) -> str:
    return GOOD.format(qid=qid, topic=topic, answer=answer, entry=entry)


def write(directory: Path, name: str, *questions: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("questions:\n" + "".join(questions), encoding="utf-8")
    return path


def load_error(directory: Path, known: set[str] | None = None) -> QuizBankError:
    with pytest.raises(QuizBankError) as exc:
        load_bank(directory, known)
    return exc.value


def test_valid_bank_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "memory.yaml", question(), question("q-kv-02"))
    bank = load_bank(tmp_path, {"kv-cache"})
    assert len(bank) == 2
    q = bank.questions[0]
    assert q.id == "q-kv-01"
    assert q.choices == ("Keys and values", "Passwords", "Weights on disk")
    assert q.answer_index == 0
    assert q.source_file == str(path)
    assert bank.get("q-kv-02") is not None and bank.get("q-nope") is None
    assert bank.topics() == ["memory"]
    assert bank.count_by("kind") == {"mc": 2}


def test_answer_not_in_choices_names_question_and_file(tmp_path: Path) -> None:
    write(tmp_path, "basics.yaml", question(answer="Foo"))
    err = load_error(tmp_path)
    assert isinstance(err, KnowledgeError)
    assert str(err) == (
        f"{tmp_path / 'basics.yaml'} (line 7): question q-kv-01: field 'answer': "
        "'Foo' is not one of its choices"
    )


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", question())
    write(tmp_path, "b.yaml", question())
    err = load_error(tmp_path)
    assert "b.yaml (line 2): question q-kv-01: field 'id': duplicate id" in str(err)
    assert str(tmp_path / "a.yaml") in str(err)


def test_unknown_entry_only_checked_with_known_ids(tmp_path: Path) -> None:
    write(tmp_path, "memory.yaml", question(entry="kv-cash"))
    assert len(load_bank(tmp_path)) == 1
    err = load_error(tmp_path, {"kv-cache", "inference"})
    assert "question q-kv-01: field 'entry': unknown knowledge entry 'kv-cash'" in str(err)


def test_unknown_topic(tmp_path: Path) -> None:
    write(tmp_path, "memory.yaml", question(topic="cooking"))
    err = load_error(tmp_path)
    assert "question q-kv-01: field 'topic': 'cooking' is not one of:" in str(err)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", question(topic="cooking"), question("q-kv-02", answer="Nope"))
    write(tmp_path, "b.yaml", question("Bad_ID"))
    err = load_error(tmp_path)
    assert len(err.errors) == 3
    assert any("field 'id': 'Bad_ID' must look like" in e for e in err.errors)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'id: q-t-01\ntopic: basics\nkind: tf\nquestion: "Q?"\nchoices: ["Yes", "No"]\n'
            'answer: "Yes"\nexplanation: "x"\nentry: inference\n',
            "field 'choices': a 'tf' question must have exactly ['True', 'False']",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: tf\nquestion: "Q?"\nchoices: [True, False]\n'
            'answer: True\nexplanation: "x"\nentry: inference\n',
            "quote True/False in YAML",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: scenario\nquestion: "Q?"\n'
            'choices: ["Training", "Inference"]\nanswer: "Training"\nexplanation: "x"\n'
            "entry: inference\n",
            "a 'scenario' question must have exactly ['Inference', 'Training']",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: mc\nquestion: "Q?"\nchoices: ["A", "B"]\n'
            'answer: "A"\nexplanation: "x"\nentry: inference\n',
            "a 'mc' question needs 3 or 4 choices, not 2",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: mc\nquestion: "Q?"\nchoices: ["A", "B", "a"]\n'
            'answer: "A"\nexplanation: "x"\nentry: inference\n',
            "field 'choices': has duplicates",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: essay\nquestion: "Q?"\nchoices: ["A", "B", "C"]\n'
            'answer: "A"\nexplanation: "x"\nentry: inference\n',
            "field 'kind': 'essay' is not one of: mc, tf, scenario",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: mc\nquestion: "Q?"\nchoices: ["A", "B", "C"]\n'
            f'answer: "A"\nexplanation: "{"x" * 201}"\nentry: inference\n',
            "field 'explanation': is 201 characters; the limit is 200",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: mc\nquestion: "Q?"\nchoices: ["A", "B", "C"]\n'
            'answer: "A"\nexplanation: |\n  line one\n  line two\nentry: inference\n',
            "field 'explanation': must be one line",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: mc\nquestion: "Q?"\nchoices: ["A", "B", "C"]\n'
            'answer: "A"\nexplanation: "x"\nentry: inference\nhint: "extra"\n',
            "field 'hint': unknown field",
        ),
        (
            'id: q-t-01\ntopic: basics\nkind: mc\nchoices: ["A", "B", "C"]\n'
            'answer: "A"\nexplanation: "x"\nentry: inference\n',
            "question q-t-01: field 'question': missing",
        ),
    ],
)
def test_field_rules(tmp_path: Path, body: str, expected: str) -> None:
    item = "  - " + textwrap.indent(body, "    ")[4:]
    write(tmp_path, "x.yaml", item)
    assert expected in str(load_error(tmp_path))


def test_file_level_problems(tmp_path: Path) -> None:
    assert "quiz folder not found" in str(load_error(tmp_path / "missing"))
    assert "no quiz files" in str(load_error(tmp_path))
    (tmp_path / "bad.yaml").write_text("questions: [\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- id: q-a-01\n", encoding="utf-8")
    (tmp_path / "empty.yaml").write_text("questions: []\n", encoding="utf-8")
    text = str(load_error(tmp_path))
    assert "bad.yaml (line 2): not valid YAML" in text
    assert "list.yaml: expected one top-level key 'questions'" in text
    assert "empty.yaml: field 'questions': must be a non-empty list" in text


def _bank(tmp_path: Path) -> QuizBank:
    items = [question(f"q-kv-{i:02d}") for i in range(1, 6)]
    items.append(question("q-basics-01", topic="basics"))
    write(tmp_path, "x.yaml", *items)
    return load_bank(tmp_path)


def test_pick_distinct_questions_and_topic(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    picked = bank.pick(4, rng=random.Random(3))
    assert len({q.id for q in picked}) == 4
    assert len(bank.pick(50)) == 6
    assert [q.id for q in bank.pick(5, "basics")] == ["q-basics-01"]
    with pytest.raises(
        InvalidQuizRequest, match=r"Unknown topic 'cooking'\. Topics: basics, memory"
    ):
        bank.pick(1, "cooking")
    with pytest.raises(InvalidQuizRequest, match="no questions on 'hardware'"):
        bank.pick(1, "hardware")
    with pytest.raises(InvalidQuizRequest):
        bank.pick(0)
    with pytest.raises(InvalidQuizRequest, match="empty"):
        QuizBank(()).pick(1)


def test_pick_shuffles_mc_choices_but_keeps_the_answer(tmp_path: Path) -> None:
    bank = _bank(tmp_path)
    orders = set()
    for seed in range(20):
        for q in bank.pick(6, rng=random.Random(seed)):
            assert q.choices[q.answer_index] == "Keys and values"
            orders.add(q.choices)
    assert len(orders) > 1
    unshuffled = bank.pick(6, rng=random.Random(0), shuffle_choices=False)
    assert all(q.answer_index == 0 for q in unshuffled)
