"""Quiz rules: answering, scoring, closing, advancing, stopping. Time is passed in."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.errors import BotError
from bot.quiz.bank import InvalidQuizRequest, QuizBank, QuizError
from bot.quiz.engine import (
    AnswerStatus,
    Game,
    GameResult,
    NoQuizRunning,
    NotAllowedToStop,
    QuestionState,
    QuestionStillOpen,
    QuizAlreadyRunning,
    QuizEngine,
    points_for,
)
from bot.quiz.store import ScoreStore

from .quiz_helpers import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    GUILD,
    MOD,
    make_question,
    right_index,
    wrong_index,
)

T0 = 1_000.0


def press(engine: QuizEngine, user: int, choice: int, now: float, number: int | None = None):
    if number is None:
        number = engine.current(GUILD, CHANNEL).number
    return engine.answer(
        GUILD,
        CHANNEL,
        user_id=user,
        user_name=f"user{user}",
        choice_index=choice,
        question_number=number,
        now=now,
    )


def test_start_returns_first_question(engine: QuizEngine) -> None:
    session = engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic=None, now=T0)
    assert len(session.questions) == 3
    assert len({q.id for q in session.questions}) == 3
    assert session.starter_id == ALICE
    state = session.current
    assert (state.number, state.total, state.is_open) == (1, 3, True)
    assert state.deadline == T0 + 20.0
    assert state.seconds_left(T0 + 5) == 15.0
    assert engine.is_running(GUILD, CHANNEL)
    assert engine.channels() == [(GUILD, CHANNEL)]


def test_second_quiz_in_same_channel_is_refused(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0)
    with pytest.raises(QuizAlreadyRunning) as exc:
        engine.start(GUILD, CHANNEL, starter_id=BOB, n_questions=2, topic=None, now=T0)
    assert "already running" in str(exc.value)
    # another channel is fine
    engine.start(GUILD, CHANNEL + 1, starter_id=BOB, n_questions=2, topic=None, now=T0)
    assert len(engine.channels()) == 2


@pytest.mark.parametrize("n", [0, -1, 21])
def test_number_of_questions_must_be_1_to_20(engine: QuizEngine, n: int) -> None:
    with pytest.raises(InvalidQuizRequest, match="between 1 and 20"):
        engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=n, topic=None, now=T0)
    assert not engine.is_running(GUILD, CHANNEL)


def test_unknown_or_empty_topic_is_refused(engine: QuizEngine) -> None:
    with pytest.raises(InvalidQuizRequest, match="Unknown topic 'cooking'"):
        engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic="cooking", now=T0)
    with pytest.raises(InvalidQuizRequest, match="no questions on 'quantization'"):
        engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic="quantization", now=T0)
    assert not engine.is_running(GUILD, CHANNEL)
    assert engine.store.running_games() == []


def test_topic_filter(engine: QuizEngine) -> None:
    session = engine.start(
        GUILD, CHANNEL, starter_id=ALICE, n_questions=20, topic=" Memory ", now=T0
    )
    assert session.topic == "memory"
    assert {q.topic for q in session.questions} == {"memory"}
    assert len(session.questions) == 3  # the topic only has 3; fewer than asked is fine


def test_errors_are_user_facing(engine: QuizEngine) -> None:
    for cls in (QuizAlreadyRunning, NoQuizRunning, NotAllowedToStop, InvalidQuizRequest):
        assert issubclass(cls, QuizError)
        assert issubclass(cls, BotError)
    with pytest.raises(NoQuizRunning, match="no quiz running"):
        engine.current(GUILD, CHANNEL)


def test_one_answer_per_user_per_question(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0)
    first = press(engine, BOB, wrong_index(engine), T0 + 1)
    assert first.accepted
    assert "Locked in" in first.message
    again = press(engine, BOB, right_index(engine), T0 + 2)
    assert again.status is AnswerStatus.ALREADY_ANSWERED
    assert not again.accepted
    assert "already answered" in again.message
    assert again.choice_index == first.choice_index
    assert engine.current(GUILD, CHANNEL).answered == 1
    result = engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    assert result.points_awarded == {BOB: 0}  # the first (wrong) press is the one that counts


def test_late_press_after_close_is_rejected(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0)
    engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    late = press(engine, BOB, right_index(engine), T0 + 20.5)
    assert late.status is AnswerStatus.QUESTION_CLOSED
    assert "closed" in late.message
    assert engine.current(GUILD, CHANNEL).is_open is False


def test_press_after_deadline_is_rejected_even_before_close(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0)
    assert press(engine, BOB, 0, T0 + 20.0).status is AnswerStatus.QUESTION_CLOSED
    assert press(engine, CAROL, 0, T0 + 19.9).accepted


def test_press_for_an_old_question_is_closed(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic=None, now=T0)
    engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    state = engine.advance(GUILD, CHANNEL, now=T0 + 25)
    assert isinstance(state, QuestionState) and state.number == 2
    old = press(engine, BOB, 0, T0 + 26, number=1)
    assert old.status is AnswerStatus.QUESTION_CLOSED
    assert engine.current(GUILD, CHANNEL).answered == 0


def test_press_from_an_earlier_game_is_closed(engine: QuizEngine) -> None:
    old = engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0)
    engine.stop(GUILD, CHANNEL, user_id=ALICE, is_moderator=False, now=T0 + 1)
    new = engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0 + 2)
    stale = engine.answer(
        GUILD,
        CHANNEL,
        user_id=BOB,
        user_name="bob",
        choice_index=0,
        question_number=1,
        now=T0 + 3,
        game_id=old.game_id,
    )
    assert stale.status is AnswerStatus.QUESTION_CLOSED
    fresh = engine.answer(
        GUILD,
        CHANNEL,
        user_id=BOB,
        user_name="bob",
        choice_index=0,
        question_number=1,
        now=T0 + 3,
        game_id=new.game_id,
    )
    assert fresh.accepted


def test_no_quiz_and_invalid_choice(engine: QuizEngine) -> None:
    outcome = press(engine, BOB, 0, T0, number=1)
    assert outcome.status is AnswerStatus.NO_QUIZ
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0)
    assert press(engine, BOB, 7, T0 + 1).status is AnswerStatus.INVALID_CHOICE
    assert press(engine, BOB, -1, T0 + 1).status is AnswerStatus.INVALID_CHOICE
    assert press(engine, BOB, 0, T0 + 2).accepted  # an invalid press does not use up the turn


def test_scoring_with_speed_bonus(engine: QuizEngine) -> None:
    assert engine.points_for(0) == 15
    assert engine.points_for(10) == 13  # 10 + 2.5 rounded half up
    assert engine.points_for(16) == 11
    assert engine.points_for(19.9) == 10
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0)
    press(engine, ALICE, right_index(engine), T0 + 0.0)
    press(engine, BOB, right_index(engine), T0 + 16.0)
    press(engine, CAROL, wrong_index(engine), T0 + 1.0)
    result = engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    assert result.points_awarded == {ALICE: 15, BOB: 11, CAROL: 0}
    assert [p.user_id for p in result.winners] == [ALICE, BOB]
    assert [p.user_id for p in result.players] == [ALICE, BOB, CAROL]  # best first
    assert result.answer == result.question.choices[result.correct_index]
    assert result.explanation.startswith("Because of")
    assert result.entry == "inference"
    assert result.is_last
    board = {row.user_id: row for row in engine.store.leaderboard(GUILD)}
    assert (board[ALICE].points, board[ALICE].correct, board[ALICE].answered) == (15, 1, 1)
    assert (board[CAROL].points, board[CAROL].correct, board[CAROL].answered) == (0, 0, 1)


def test_scoring_without_speed_bonus(bank: QuizBank, store: ScoreStore) -> None:
    engine = QuizEngine(bank, store, question_seconds=20.0, speed_bonus=False)
    assert engine.points_for(0) == engine.points_for(19) == 10


def test_close_is_idempotent_and_points_are_stored_once(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0)
    press(engine, BOB, right_index(engine), T0)
    first = engine.close_question(GUILD, CHANNEL, now=T0 + 5)
    second = engine.close_question(GUILD, CHANNEL, now=T0 + 6)
    assert first is second
    assert engine.store.leaderboard(GUILD)[0].points == 15


def test_advance_requires_a_closed_question(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0)
    with pytest.raises(QuestionStillOpen):
        engine.advance(GUILD, CHANNEL, now=T0 + 1)


def test_full_game_to_the_end(engine: QuizEngine) -> None:
    session = engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic=None, now=T0)
    now = T0
    for number in range(1, 4):
        assert engine.current(GUILD, CHANNEL).number == number
        press(engine, ALICE, right_index(engine), now + 4)  # 10 + 5 * 0.8 = 14
        press(engine, BOB, right_index(engine) if number == 1 else wrong_index(engine), now + 10)
        result = engine.close_question(GUILD, CHANNEL, now=now + 20)
        assert result.number == number and result.total == 3
        step = engine.advance(GUILD, CHANNEL, now=now + 25)
        now += 25
    assert isinstance(step, GameResult)
    assert step.state == "finished"
    assert (step.questions_total, step.questions_asked) == (3, 3)
    assert [(s.user_id, s.points, s.correct, s.answered) for s in step.scores] == [
        (ALICE, 42, 3, 3),
        (BOB, 13, 1, 3),
    ]
    assert step.winner is not None and step.winner.user_id == ALICE
    assert not engine.is_running(GUILD, CHANNEL)
    stored = engine.store.game(session.game_id)
    assert stored is not None and stored.state == "finished" and stored.ended_at == now
    board = engine.store.leaderboard(GUILD)
    assert [(r.user_id, r.points, r.games_played) for r in board] == [(ALICE, 42, 1), (BOB, 13, 1)]
    engine.start(
        GUILD, CHANNEL, starter_id=BOB, n_questions=1, topic=None, now=now
    )  # the channel is free again


def test_everyone_who_joined_answered_closes_early(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic=None, now=T0)
    # Question 1: nobody has joined yet, so it always runs its full time.
    assert not engine.should_close_early(GUILD, CHANNEL)
    press(engine, ALICE, 0, T0 + 1)
    press(engine, BOB, 0, T0 + 2)
    assert not engine.should_close_early(GUILD, CHANNEL)
    engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    assert not engine.should_close_early(GUILD, CHANNEL)  # closed questions never "close early"
    engine.advance(GUILD, CHANNEL, now=T0 + 25)
    # Question 2: Alice and Bob have joined.
    press(engine, CAROL, 0, T0 + 26)  # a newcomer alone does not close it
    assert not engine.should_close_early(GUILD, CHANNEL)
    press(engine, ALICE, 0, T0 + 27)
    assert not engine.should_close_early(GUILD, CHANNEL)
    press(engine, BOB, 0, T0 + 28)
    assert engine.should_close_early(GUILD, CHANNEL)
    engine.close_question(GUILD, CHANNEL, now=T0 + 28)
    engine.advance(GUILD, CHANNEL, now=T0 + 30)
    # Question 3: Carol has joined too, so all three must answer.
    press(engine, ALICE, 0, T0 + 31)
    press(engine, BOB, 0, T0 + 31)
    assert not engine.should_close_early(GUILD, CHANNEL)
    press(engine, CAROL, 0, T0 + 32)
    assert engine.should_close_early(GUILD, CHANNEL)
    assert not engine.should_close_early(GUILD, CHANNEL + 1)  # no quiz there


def test_stop_only_by_starter_or_moderator(engine: QuizEngine) -> None:
    session = engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic=None, now=T0)
    press(engine, BOB, right_index(engine), T0)
    engine.close_question(GUILD, CHANNEL, now=T0 + 20)
    engine.advance(GUILD, CHANNEL, now=T0 + 25)
    press(engine, BOB, right_index(engine), T0 + 26)  # pending: discarded by stop
    with pytest.raises(NotAllowedToStop, match="started this quiz or a moderator"):
        engine.stop(GUILD, CHANNEL, user_id=BOB, is_moderator=False, now=T0 + 27)
    assert engine.is_running(GUILD, CHANNEL)
    result = engine.stop(GUILD, CHANNEL, user_id=MOD, is_moderator=True, now=T0 + 27)
    assert result.state == "stopped"
    assert (result.questions_total, result.questions_asked) == (3, 2)
    assert [(s.user_id, s.points) for s in result.scores] == [(BOB, 15)]
    assert not engine.is_running(GUILD, CHANNEL)
    assert engine.store.game(session.game_id).state == "stopped"  # type: ignore[union-attr]
    assert engine.store.leaderboard(GUILD)[0].points == 15
    with pytest.raises(NoQuizRunning):
        engine.stop(GUILD, CHANNEL, user_id=ALICE, is_moderator=False, now=T0 + 28)


def test_starter_can_stop(engine: QuizEngine) -> None:
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=3, topic=None, now=T0)
    assert engine.stop(GUILD, CHANNEL, user_id=ALICE, is_moderator=False, now=T0 + 1).scores == ()


def test_engine_rejects_non_positive_question_time(bank: QuizBank, store: ScoreStore) -> None:
    with pytest.raises(ValueError):
        QuizEngine(bank, store, question_seconds=0)
    engine = QuizEngine(bank, store, question_seconds=20.0)
    with pytest.raises(ValueError):
        engine.start(
            GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0, question_seconds=0
        )
    assert not engine.is_running(GUILD, CHANNEL)


def test_a_game_can_have_its_own_question_time(engine: QuizEngine) -> None:
    """A server's setting: 40 s per question here, the engine's 20 s in another channel."""
    session = engine.start(
        GUILD, CHANNEL, starter_id=ALICE, n_questions=2, topic=None, now=T0, question_seconds=40
    )
    assert session.current.deadline == T0 + 40.0
    other = engine.start(GUILD, CHANNEL + 1, starter_id=ALICE, n_questions=1, topic=None, now=T0)
    assert other.current.deadline == T0 + 20.0
    assert press(engine, BOB, right_index(engine), T0 + 30.0).accepted  # past 20 s, within 40
    assert press(engine, CAROL, 0, T0 + 40.0).status is AnswerStatus.QUESTION_CLOSED
    result = engine.close_question(GUILD, CHANNEL, now=T0 + 40)
    assert (
        result.points_awarded == {BOB: engine.points_for(30.0, question_seconds=40.0)} == {BOB: 11}
    )
    state = engine.advance(GUILD, CHANNEL, now=T0 + 45)
    assert isinstance(state, QuestionState) and state.deadline == T0 + 85.0  # kept per game


@pytest.mark.asyncio
async def test_concurrent_presses_from_threads(bank: QuizBank, store: ScoreStore) -> None:
    """The Discord layer may call in via asyncio.to_thread: still one answer per user."""
    engine = QuizEngine(bank, store, rng=random.Random(1))
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0)
    right = right_index(engine)
    presses = [
        asyncio.to_thread(
            engine.answer,
            GUILD,
            CHANNEL,
            user_id=user % 10,
            user_name="u",
            choice_index=right,
            question_number=1,
            now=T0 + 1,
        )
        for user in range(50)
    ]
    outcomes = await asyncio.gather(*presses)
    assert sum(o.accepted for o in outcomes) == 10
    result = await asyncio.to_thread(engine.close_question, GUILD, CHANNEL, now=T0 + 20)
    assert len(result.players) == 10


def test_everything_after_the_channel_key_is_keyword_only(engine: QuizEngine) -> None:
    with pytest.raises(TypeError):
        engine.start(GUILD, CHANNEL, ALICE, 1, None, T0)  # type: ignore[misc]
    engine.start(GUILD, CHANNEL, starter_id=ALICE, n_questions=1, topic=None, now=T0)
    with pytest.raises(TypeError):
        engine.close_question(GUILD, CHANNEL, T0 + 20)  # type: ignore[misc]
    with pytest.raises(TypeError):
        engine.stop(GUILD, CHANNEL, ALICE, False, T0 + 1)  # type: ignore[misc]
    assert engine.is_running(GUILD, CHANNEL)


def test_a_game_holds_its_own_state_and_rules() -> None:
    """Game without the engine: no store, no lock; verdicts change nothing until close."""
    questions = (make_question("g1"), make_question("g2"))
    game = Game(
        game_id=1,
        guild_id=GUILD,
        channel_id=CHANNEL,
        starter_id=ALICE,
        topic=None,
        questions=questions,
        started_at=T0,
        question_started_at=T0,
        seconds=10.0,
    )
    right = questions[0].answer_index
    assert game.key == (GUILD, CHANNEL) and game.number == 1 and game.deadline == T0 + 10
    assert game.may_stop(user_id=ALICE, is_moderator=False)
    assert not game.may_stop(user_id=BOB, is_moderator=False)
    assert game.answer(
        user_id=BOB, user_name="bob", choice_index=right, question_number=1, now=T0 + 5
    ).accepted
    verdicts = game.verdicts()
    assert [(p.user_id, p.points) for p in verdicts] == [(BOB, points_for(5, 10))]
    assert game.scores == {} and game.result is None
    result = game.close(verdicts, now=T0 + 10)
    assert game.scores[BOB].points == result.points_awarded[BOB] == 13
    assert not game.should_close_early()  # closed
    game.next_question(now=T0 + 12)
    assert (game.number, game.answers, game.deadline) == (2, {}, T0 + 22) and game.is_last
    assert not game.should_close_early()  # BOB joined but has not answered yet
    game.answer(user_id=BOB, user_name="bob", choice_index=0, question_number=2, now=T0 + 13)
    assert game.should_close_early()
    with pytest.raises(QuestionStillOpen):
        game.next_question(now=T0 + 14)
    assert game.outcome("stopped").scores[0].user_id == BOB
