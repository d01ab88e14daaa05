"""The quiz in a terminal, for one local player: `python -m bot.quiz.terminal`."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.errors import BotError
from bot.quiz.bank import load_bank
from bot.quiz.engine import GameResult, QuestionResult, QuestionState, QuizEngine
from bot.quiz.store import ScoreStore

log = logging.getLogger(__name__)

GUILD_ID = 0
CHANNEL_ID = 0
PLAYER_ID = 0
PLAYER_NAME = "you"
QUIT_WORDS = frozenset({"q", "quit", "exit", "stop"})
DEFAULT_BANK = Path(__file__).resolve().parents[2] / "knowledge" / "quiz"


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
    session = engine.start(GUILD_ID, CHANNEL_ID, PLAYER_ID, n_questions, topic, clock())
    state = session.current
    result: GameResult | None = None
    try:
        while result is None:
            _show_question(state, write)
            choices = state.question.choices
            choice: int | None = None
            while choice is None:
                write(f"Your answer (1-{len(choices)}, or q to quit):")
                line = read_line()
                if line is None or line.strip().lower() in QUIT_WORDS:
                    break
                choice = parse_choice(line, choices)
                if choice is None:
                    write(f"Please type a number from 1 to {len(choices)} or the answer itself.")
            if choice is None:
                result = engine.stop(GUILD_ID, CHANNEL_ID, PLAYER_ID, True, clock())
                break
            outcome = engine.answer(
                GUILD_ID, CHANNEL_ID, PLAYER_ID, PLAYER_NAME, choice, state.number, clock()
            )
            if not outcome.accepted:
                write(f"Time's up - answers count within {engine.question_seconds:g} seconds.")
            _show_result(engine.close_question(GUILD_ID, CHANNEL_ID, clock()), write)
            step = engine.advance(GUILD_ID, CHANNEL_ID, clock())
            if isinstance(step, GameResult):
                result = step
            else:
                state = step
    finally:
        if result is None and engine.is_running(GUILD_ID, CHANNEL_ID):
            engine.stop(GUILD_ID, CHANNEL_ID, PLAYER_ID, True, clock())
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
    return result


def _read_stdin() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Play the inference quiz in a terminal.")
    parser.add_argument("-n", "--questions", type=int, default=5)
    parser.add_argument("-t", "--topic", default=None)
    parser.add_argument("--seconds", type=float, default=60.0, help="time per question")
    parser.add_argument("--bank", type=Path, default=DEFAULT_BANK)
    parser.add_argument("--db", default=":memory:", help="SQLite file for scores")
    args = parser.parse_args(argv)
    try:
        bank = load_bank(args.bank)
        with ScoreStore(args.db) as store:
            engine = QuizEngine(bank, store, question_seconds=args.seconds)
            engine.recover(time.monotonic())
            play_in_terminal(engine, args.questions, args.topic, _read_stdin, print)
    except BotError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print()
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
