"""The quiz in a terminal, for one local player; `python -m bot quiz` (bot.cli) plays it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bot.quiz.engine import GameResult, QuestionResult, QuestionState, QuizEngine

GUILD_ID = 0
CHANNEL_ID = 0
PLAYER_ID = 0
PLAYER_NAME = "you"
QUIT_WORDS = frozenset({"q", "quit", "exit", "stop"})


def parse_choice(text: str, choices: Sequence[str]) -> int | None:
    """A 1-based number or the choice's text (any case) -> 0-based index; else None."""
    text = " ".join(text.split())
    if text.isdigit():
        number = int(text)
        return number - 1 if 1 <= number <= len(choices) else None
    lowered = text.lower()
    return next((i for i, c in enumerate(choices) if c.lower() == lowered), None)


def _show_question(state: QuestionState, write: Callable[[str], None]) -> None:
    q = state.question
    write("")
    write(f"Question {state.number}/{state.total} ({q.topic})")
    write(q.question)
    for i, choice in enumerate(q.choices, start=1):
        write(f"  {i}) {choice}")


def _show_result(result: QuestionResult, write: Callable[[str], None]) -> None:
    mine = next((p for p in result.players if p.user_id == PLAYER_ID), None)
    if mine is not None and mine.correct:
        write(f"Correct! +{mine.points} points")
    else:
        write(f"Not quite. The answer is {result.correct_index + 1}) {result.answer}")
    write(f"Why: {result.explanation}")
    write(f"Learn more: knowledge entry '{result.entry}'")


def play_in_terminal(
    engine: QuizEngine,
    n_questions: int,
    topic: str | None,
    read_line: Callable[[], str | None],
    write: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
) -> GameResult:
    """Play one game; `read_line` returns None at end of input, `write` gets one line a call.

    Raises QuizError (e.g. an unknown topic) before the first question is shown.
    """
    session = engine.start(
        GUILD_ID,
        CHANNEL_ID,
        starter_id=PLAYER_ID,
        n_questions=n_questions,
        topic=topic,
        now=clock(),
    )
    state = session.current
    result: GameResult | None = None
    try:
        while result is None:
            _show_question(state, write)
            choice = _ask(state.question.choices, read_line, write)
            if choice is None:
                result = engine.stop(
                    GUILD_ID, CHANNEL_ID, user_id=PLAYER_ID, is_moderator=True, now=clock()
                )
                break
            outcome = engine.answer(
                GUILD_ID,
                CHANNEL_ID,
                user_id=PLAYER_ID,
                user_name=PLAYER_NAME,
                choice_index=choice,
                question_number=state.number,
                now=clock(),
            )
            if not outcome.accepted:
                write(f"Time's up - answers count within {engine.question_seconds:g} seconds.")
            _show_result(engine.close_question(GUILD_ID, CHANNEL_ID, now=clock()), write)
            step = engine.advance(GUILD_ID, CHANNEL_ID, now=clock())
            if isinstance(step, GameResult):
                result = step
            else:
                state = step
    finally:
        if result is None and engine.is_running(GUILD_ID, CHANNEL_ID):
            engine.stop(GUILD_ID, CHANNEL_ID, user_id=PLAYER_ID, is_moderator=True, now=clock())
    _show_score(result, write)
    return result


def _ask(
    choices: Sequence[str], read_line: Callable[[], str | None], write: Callable[[str], None]
) -> int | None:
    """Prompt until the player names a choice (its 0-based index); None if they quit."""
    while True:
        write(f"Your answer (1-{len(choices)}, or q to quit):")
        line = read_line()
        if line is None or line.strip().lower() in QUIT_WORDS:
            return None
        choice = parse_choice(line, choices)
        if choice is not None:
            return choice
        write(f"Please type a number from 1 to {len(choices)} or the answer itself.")


def _show_score(result: GameResult, write: Callable[[str], None]) -> None:
    mine = next((s for s in result.scores if s.user_id == PLAYER_ID), None)
    points, correct = (mine.points, mine.correct) if mine else (0, 0)
    write("")
    if result.state == "stopped":
        write(f"Quiz stopped after {result.questions_asked} of {result.questions_total} questions.")
    write(
        f"Your score: {points} points, {correct} of {result.questions_total} correct."
        if result.state == "finished"
        else f"Your score: {points} points, {correct} correct."
    )
