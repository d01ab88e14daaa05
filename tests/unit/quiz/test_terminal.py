"""The terminal game, driven by a scripted read_line and a fake clock."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

import pytest

from bot.quiz.bank import InvalidQuizRequest, QuizBank
from bot.quiz.engine import QuizEngine
from bot.quiz.store import ScoreStore
from bot.quiz.terminal import GUILD_ID, PLAYER_ID, parse_choice, play_in_terminal


class Script:
    """Feeds answers that may depend on the question on screen; None means end of input."""

    def __init__(self, engine: QuizEngine, answers: Iterable[str | Callable[[], str] | None]):
        self.engine = engine
        self.answers = list(answers)

    def __call__(self) -> str | None:
        if not self.answers:
            return None
        item = self.answers.pop(0)
        return item() if callable(item) else item


def right(engine: QuizEngine) -> Callable[[], str]:
    return lambda: str(engine.current(0, 0).question.answer_index + 1)


def wrong_text(engine: QuizEngine) -> Callable[[], str]:
    def pick() -> str:
        q = engine.current(0, 0).question
        return next(c for c in q.choices if c != q.answer).upper()

    return pick


class Clock:
    def __init__(self, step: float = 0.0) -> None:
        self.now = 100.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def tengine(bank: QuizBank, store: ScoreStore) -> QuizEngine:
    return QuizEngine(bank, store, question_seconds=20.0, rng=random.Random(11))


def test_full_game_with_hints(tengine: QuizEngine) -> None:
    lines: list[str] = []
    script = Script(tengine, ["9", "", "banana", right(tengine), wrong_text(tengine)])
    result = play_in_terminal(tengine, 2, None, script, lines.append, clock=Clock())
    text = "\n".join(lines)
    assert "Question 1/2" in text and "Question 2/2" in text
    assert "  1) " in text and "  2) " in text
    assert text.count("Please type a number from 1 to") == 3
    assert "Correct! +15 points" in text
    assert "Not quite. The answer is" in text
    assert text.count("Why: Because of") == 2
    assert "Learn more: knowledge entry 'inference'" in text
    assert lines[-1] == "Your score: 15 points, 1 of 2 correct."
    assert result.state == "finished"
    assert [(s.user_id, s.user_name, s.points) for s in result.scores] == [(PLAYER_ID, "you", 15)]
    assert not tengine.is_running(GUILD_ID, 0)
    assert tengine.store.leaderboard(GUILD_ID)[0].points == 15


def test_end_of_input_stops_cleanly(tengine: QuizEngine) -> None:
    lines: list[str] = []
    script = Script(tengine, [right(tengine)])
    result = play_in_terminal(tengine, 3, None, script, lines.append, clock=Clock())
    assert result.state == "stopped"
    assert (result.questions_asked, result.questions_total) == (2, 3)
    assert "Quiz stopped after 2 of 3 questions." in lines
    assert lines[-1] == "Your score: 15 points, 1 correct."
    assert not tengine.is_running(GUILD_ID, 0)
    assert tengine.store.running_games() == []


def test_quit_word_stops(tengine: QuizEngine) -> None:
    lines: list[str] = []
    result = play_in_terminal(tengine, 3, None, Script(tengine, ["q"]), lines.append, Clock())
    assert result.state == "stopped" and result.scores == ()
    assert lines[-1] == "Your score: 0 points, 0 correct."


def test_too_slow_answer_is_time_up(tengine: QuizEngine) -> None:
    lines: list[str] = []
    script = Script(tengine, [right(tengine)])
    result = play_in_terminal(tengine, 1, "memory", script, lines.append, clock=Clock(step=30))
    assert any(line.startswith("Time's up") for line in lines)
    assert "Not quite. The answer is 1) True" in lines
    assert result.state == "finished" and result.scores == ()


def test_bad_topic_raises_before_play(tengine: QuizEngine) -> None:
    lines: list[str] = []
    with pytest.raises(InvalidQuizRequest):
        play_in_terminal(tengine, 3, "cooking", Script(tengine, []), lines.append)
    assert lines == []


def test_an_exception_mid_game_does_not_leave_it_running(tengine: QuizEngine) -> None:
    def boom() -> str | None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        play_in_terminal(tengine, 2, None, boom, lambda _line: None, clock=Clock())
    assert not tengine.is_running(GUILD_ID, 0)
    assert tengine.store.running_games() == []


def test_parse_choice() -> None:
    choices = ("Inference", "Training")
    assert parse_choice("1", choices) == 0
    assert parse_choice(" 2 ", choices) == 1
    assert parse_choice("3", choices) is None
    assert parse_choice("0", choices) is None
    assert parse_choice("  training ", choices) == 1
    assert parse_choice("train", choices) is None
