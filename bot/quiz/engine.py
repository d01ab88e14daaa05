"""Quiz rules: one game per channel, one answer per user per question, points on close.

Pure logic: no timers, no Discord. A `Game` holds one channel's state and its rules;
`QuizEngine` keeps one per channel, locks them and does the I/O. Time comes in as `now`
(seconds; pass time.time() so stored timestamps mean something), so tests are
deterministic. The only I/O goes through the ScoreStore: points are written when a question
closes, progress when a question starts. Everything after the channel key is keyword-only.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from bot.limits import QUIZ_MAX_QUESTIONS, QUIZ_MIN_QUESTIONS
from bot.quiz.bank import InvalidQuizRequest, QuizBank, QuizError, QuizQuestion
from bot.quiz.store import Award, GameState, RoundScore, ScoreStore, StoredGame

log = logging.getLogger(__name__)

ChannelKey: TypeAlias = tuple[int, int]
MIN_QUESTIONS = QUIZ_MIN_QUESTIONS  # defined once, in bot.limits
MAX_QUESTIONS = QUIZ_MAX_QUESTIONS
POINTS_CORRECT = 10
SPEED_BONUS_MAX = 5


class QuizAlreadyRunning(QuizError):
    """A quiz is already running in this channel."""


class NoQuizRunning(QuizError):
    """There is no quiz in this channel."""


class NotAllowedToStop(QuizError):
    """Only the starter or a moderator may stop a quiz."""


class QuestionStillOpen(QuizError):
    """advance() was called before the current question was closed."""


class AnswerStatus(enum.Enum):
    ACCEPTED = "accepted"
    ALREADY_ANSWERED = "already_answered"
    QUESTION_CLOSED = "question_closed"
    NO_QUIZ = "no_quiz"
    INVALID_CHOICE = "invalid_choice"


@dataclass(frozen=True)
class AnswerOutcome:
    """The verdict on one button press; `message` is a short, polite line for the user."""

    status: AnswerStatus
    message: str
    question_number: int | None = None
    choice_index: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status is AnswerStatus.ACCEPTED


@dataclass(frozen=True)
class QuestionState:
    """The question on screen in a channel."""

    game_id: int
    guild_id: int
    channel_id: int
    number: int  # 1-based
    total: int
    question: QuizQuestion
    started_at: float
    deadline: float
    is_open: bool  # not closed yet (presses after the deadline are still refused)
    answered: int

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.deadline - now) if self.is_open else 0.0


@dataclass(frozen=True)
class QuizSession:
    """A snapshot of one channel's game."""

    game_id: int
    guild_id: int
    channel_id: int
    starter_id: int
    topic: str | None
    questions: tuple[QuizQuestion, ...]
    started_at: float
    current: QuestionState


@dataclass(frozen=True)
class PlayerResult:
    user_id: int
    user_name: str
    choice_index: int
    correct: bool
    points: int
    seconds: float  # from question start to the press


@dataclass(frozen=True)
class QuestionResult:
    """A closed question: the answer, its source, and who earned what (best first)."""

    game_id: int
    number: int
    total: int
    question: QuizQuestion
    players: tuple[PlayerResult, ...]
    closed_at: float

    @property
    def is_last(self) -> bool:
        return self.number == self.total

    @property
    def correct_index(self) -> int:
        return self.question.answer_index

    @property
    def answer(self) -> str:
        return self.question.answer

    @property
    def explanation(self) -> str:
        return self.question.explanation

    @property
    def entry(self) -> str:
        return self.question.entry

    @property
    def winners(self) -> tuple[PlayerResult, ...]:
        return tuple(p for p in self.players if p.correct)

    @property
    def points_awarded(self) -> dict[int, int]:
        return {p.user_id: p.points for p in self.players}


@dataclass(frozen=True)
class GameResult:
    """A game that ended: 'finished', 'stopped' or 'interrupted' (by a restart)."""

    game_id: int
    guild_id: int
    channel_id: int
    topic: str | None
    state: str
    questions_total: int
    questions_asked: int
    scores: tuple[RoundScore, ...]  # best first

    @property
    def winner(self) -> RoundScore | None:
        return self.scores[0] if self.scores and self.scores[0].points > 0 else None


def points_for(seconds: float, question_seconds: float, speed_bonus: bool = True) -> int:
    """Points for a correct answer given `seconds` after the question appeared, out of
    `question_seconds`: POINTS_CORRECT, plus up to SPEED_BONUS_MAX for a fast one."""
    if not speed_bonus:
        return POINTS_CORRECT
    fraction = max(0.0, 1.0 - max(0.0, seconds) / question_seconds)
    return POINTS_CORRECT + int(SPEED_BONUS_MAX * fraction + 0.5)


@dataclass
class _Answer:
    user_name: str
    choice_index: int
    at: float


@dataclass
class Game:
    """One channel's quiz: its questions, the answers to the one on screen, the scores so
    far, and the rules for them. No I/O and no lock: QuizEngine stores and locks."""

    game_id: int
    guild_id: int
    channel_id: int
    starter_id: int
    topic: str | None
    questions: tuple[QuizQuestion, ...]
    started_at: float
    question_started_at: float
    seconds: float  # time per question in this game
    speed_bonus: bool = True
    index: int = 0
    answers: dict[int, _Answer] = field(default_factory=dict)
    result: QuestionResult | None = None  # set once the current question is closed
    joined: set[int] = field(default_factory=set)  # answered an earlier question
    scores: dict[int, RoundScore] = field(default_factory=dict)

    @property
    def key(self) -> ChannelKey:
        return (self.guild_id, self.channel_id)

    @property
    def number(self) -> int:
        """The 1-based number of the question on screen."""
        return self.index + 1

    @property
    def question(self) -> QuizQuestion:
        return self.questions[self.index]

    @property
    def deadline(self) -> float:
        return self.question_started_at + self.seconds

    @property
    def is_last(self) -> bool:
        return self.number >= len(self.questions)

    def may_stop(self, *, user_id: int, is_moderator: bool) -> bool:
        return user_id == self.starter_id or is_moderator

    def answer(
        self,
        *,
        user_id: int,
        user_name: str,
        choice_index: int,
        question_number: int,
        now: float,
        game_id: int | None = None,
    ) -> AnswerOutcome:
        """Register one press, or say politely why it does not count."""
        if (
            question_number != self.number
            or (game_id is not None and game_id != self.game_id)
            or self.result is not None
            or now >= self.deadline
        ):
            return AnswerOutcome(
                AnswerStatus.QUESTION_CLOSED,
                "Too late - that question has closed.",
                question_number,
            )
        question = self.question
        previous = self.answers.get(user_id)
        if previous is not None:
            return AnswerOutcome(
                AnswerStatus.ALREADY_ANSWERED,
                "You already answered this one "
                f"({question.choices[previous.choice_index]}) - one answer per question.",
                self.number,
                previous.choice_index,
            )
        if not 0 <= choice_index < len(question.choices):
            return AnswerOutcome(
                AnswerStatus.INVALID_CHOICE, "That is not one of the choices.", self.number
            )
        self.answers[user_id] = _Answer(user_name, choice_index, now)
        return AnswerOutcome(
            AnswerStatus.ACCEPTED,
            f"Locked in: {question.choices[choice_index]}. "
            "The answer is revealed when the question closes.",
            self.number,
            choice_index,
        )

    def should_close_early(self) -> bool:
        """True once everyone who answered an earlier question has answered this one.
        The first question always runs its full time: nobody has joined yet."""
        return self.result is None and bool(self.joined) and self.joined <= self.answers.keys()

    def points_for(self, seconds: float) -> int:
        return points_for(seconds, self.seconds, self.speed_bonus)

    def verdicts(self) -> list[PlayerResult]:
        """Who earned what on the question on screen, best first (nothing changes yet)."""
        question = self.question
        players = []
        for user_id, a in self.answers.items():
            seconds = a.at - self.question_started_at
            correct = a.choice_index == question.answer_index
            points = self.points_for(seconds) if correct else 0
            players.append(
                PlayerResult(user_id, a.user_name, a.choice_index, correct, points, seconds)
            )
        players.sort(key=lambda p: (-p.points, p.seconds))
        return players

    def close(self, players: list[PlayerResult], *, now: float) -> QuestionResult:
        """Close the question on screen with these verdicts and add them to the scores."""
        for p in players:
            old = self.scores.get(p.user_id)
            self.scores[p.user_id] = RoundScore(
                p.user_id,
                p.user_name,
                (old.points if old else 0) + p.points,
                (old.correct if old else 0) + int(p.correct),
                (old.answered if old else 0) + 1,
            )
            self.joined.add(p.user_id)
        self.result = QuestionResult(
            self.game_id, self.number, len(self.questions), self.question, tuple(players), now
        )
        return self.result

    def next_question(self, *, now: float) -> None:
        """Put the next question on screen, started at `now`."""
        if self.result is None:
            raise QuestionStillOpen("The current question is still open.")
        self.index += 1
        self.question_started_at = now
        self.answers = {}
        self.result = None

    def outcome(self, state: GameState) -> GameResult:
        """The game as it ends now, with its scores best first."""
        scores = sorted(
            self.scores.values(),
            key=lambda s: (-s.points, -s.correct, s.user_name.casefold(), s.user_id),
        )
        return GameResult(
            game_id=self.game_id,
            guild_id=self.guild_id,
            channel_id=self.channel_id,
            topic=self.topic,
            state=state,
            questions_total=len(self.questions),
            questions_asked=self.number,
            scores=tuple(scores),
        )

    def state(self) -> QuestionState:
        return QuestionState(
            game_id=self.game_id,
            guild_id=self.guild_id,
            channel_id=self.channel_id,
            number=self.number,
            total=len(self.questions),
            question=self.question,
            started_at=self.question_started_at,
            deadline=self.deadline,
            is_open=self.result is None,
            answered=len(self.answers),
        )

    def session(self) -> QuizSession:
        return QuizSession(
            game_id=self.game_id,
            guild_id=self.guild_id,
            channel_id=self.channel_id,
            starter_id=self.starter_id,
            topic=self.topic,
            questions=self.questions,
            started_at=self.started_at,
            current=self.state(),
        )


def _checked_request(n_questions: int, question_seconds: float) -> float:
    """Refuse a question count outside the limits or a time that is not positive; return
    the time per question as a float."""
    if not MIN_QUESTIONS <= n_questions <= MAX_QUESTIONS:
        raise InvalidQuizRequest(f"Pick between {MIN_QUESTIONS} and {MAX_QUESTIONS} questions.")
    seconds = float(question_seconds)
    if seconds <= 0:
        raise ValueError("question_seconds must be positive")
    return seconds


def _new_game(
    game_id: int,
    key: ChannelKey,
    starter_id: int,
    topic: str | None,
    questions: tuple[QuizQuestion, ...],
    now: float,
    seconds: float,
) -> Game:
    """A new game, its first question on screen from `now` (already stored as `game_id`)."""
    guild_id, channel_id = key
    log.info(
        "quiz game %d started in %s/%s: %d questions, topic %s",
        game_id,
        guild_id,
        channel_id,
        len(questions),
        topic or "any",
    )
    return Game(
        game_id=game_id,
        guild_id=guild_id,
        channel_id=channel_id,
        starter_id=starter_id,
        topic=topic,
        questions=questions,
        started_at=now,
        question_started_at=now,
        seconds=seconds,
    )


def _ended(game: Game, state: GameState) -> GameResult:
    """Log the end of a game (already stored and dropped) and return its result."""
    log.info(
        "quiz game %d %s after %d/%d questions",
        game.game_id,
        state,
        game.number,
        len(game.questions),
    )
    return game.outcome(state)


def _interrupted(game: StoredGame) -> GameResult:
    """The result of a stored game that a restart cut short (already marked so)."""
    log.info(
        "quiz game %d in %s/%s interrupted by restart",
        game.id,
        game.guild_id,
        game.channel_id,
    )
    return GameResult(
        game_id=game.id,
        guild_id=game.guild_id,
        channel_id=game.channel_id,
        topic=game.topic,
        state="interrupted",
        questions_total=len(game.question_ids),
        questions_asked=min(game.current_index + 1, len(game.question_ids)),
        scores=game.scores,
    )


class QuizEngine:
    """Runs one Game per (guild_id, channel_id). Thread-safe; every method returns quickly."""

    def __init__(
        self,
        bank: QuizBank,
        store: ScoreStore,
        *,
        question_seconds: float = 20.0,
        speed_bonus: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        if question_seconds <= 0:
            raise ValueError("question_seconds must be positive")
        self.bank = bank
        self.store = store
        self.question_seconds = float(question_seconds)
        self.speed_bonus = speed_bonus
        self._rng = rng or random.Random()
        self._games: dict[ChannelKey, Game] = {}
        self._lock = threading.RLock()

    # -- lifecycle ------------------------------------------------------------------------

    def recover(self, *, now: float, owns: Callable[[int], bool] | None = None) -> list[GameResult]:
        """Close every stored game left 'running' by a previous process; points stay.

        Call once at start-up; returns the closed games so each channel can be told.
        `owns(guild_id)` limits it to this process's guilds: with a shared database,
        other shard processes' games are alive and must be left alone.
        """
        with self._lock:
            active = {g.game_id for g in self._games.values()}
            closed: list[GameResult] = []
            for game in self.store.running_games():
                if game.id in active or (owns is not None and not owns(game.guild_id)):
                    continue
                if self.store.finish_game(game.id, "interrupted", now):
                    closed.append(_interrupted(game))
            return closed

    def start(
        self,
        guild_id: int,
        channel_id: int,
        *,
        starter_id: int,
        n_questions: int,
        topic: str | None,
        now: float,
        question_seconds: float | None = None,
    ) -> QuizSession:
        """Start a quiz; fewer questions than asked if the topic has fewer.

        `question_seconds` overrides the engine's time per question for this game (a
        server's own setting); None keeps the engine's.
        """
        seconds = _checked_request(
            n_questions, self.question_seconds if question_seconds is None else question_seconds
        )
        key = (guild_id, channel_id)
        with self._lock:
            if key in self._games:
                raise QuizAlreadyRunning(
                    "A quiz is already running in this channel; answer along or wait for it to end."
                )
            topic = topic.strip().lower() if topic and topic.strip() else None
            questions = tuple(self.bank.pick(n_questions, topic, self._rng))
            game_id = self.store.create_game(
                guild_id, channel_id, starter_id, topic, [q.id for q in questions], now
            )
            game = _new_game(game_id, key, starter_id, topic, questions, now, seconds)
            game.speed_bonus = self.speed_bonus  # the engine's rule, for every game
            self._games[key] = game
            return game.session()

    def stop(
        self, guild_id: int, channel_id: int, *, user_id: int, is_moderator: bool, now: float
    ) -> GameResult:
        """End the quiz now (starter or moderator only). Answers to an open question are
        discarded; points from closed questions are kept."""
        with self._lock:
            game = self._game(guild_id, channel_id)
            if not game.may_stop(user_id=user_id, is_moderator=is_moderator):
                raise NotAllowedToStop(
                    "Only the person who started this quiz or a moderator can stop it."
                )
            return self._end(game, "stopped", now)

    # -- reading --------------------------------------------------------------------------

    def is_running(self, guild_id: int, channel_id: int) -> bool:
        with self._lock:
            return (guild_id, channel_id) in self._games

    def channels(self) -> list[ChannelKey]:
        with self._lock:
            return list(self._games)

    def session(self, guild_id: int, channel_id: int) -> QuizSession:
        with self._lock:
            return self._game(guild_id, channel_id).session()

    def current(self, guild_id: int, channel_id: int) -> QuestionState:
        with self._lock:
            return self._game(guild_id, channel_id).state()

    # -- playing --------------------------------------------------------------------------

    def answer(
        self,
        guild_id: int,
        channel_id: int,
        *,
        user_id: int,
        user_name: str,
        choice_index: int,
        question_number: int,
        now: float,
        game_id: int | None = None,
    ) -> AnswerOutcome:
        """Register one press. Never raises for ordinary player mistakes.

        Pass `game_id` (e.g. from the button's custom id) so a press on a message from an
        earlier game in the same channel counts as closed.
        """
        with self._lock:
            game = self._games.get((guild_id, channel_id))
            if game is None:
                return AnswerOutcome(AnswerStatus.NO_QUIZ, "There is no quiz running here.")
            return game.answer(
                user_id=user_id,
                user_name=user_name,
                choice_index=choice_index,
                question_number=question_number,
                now=now,
                game_id=game_id,
            )

    def should_close_early(self, guild_id: int, channel_id: int) -> bool:
        """True once everyone who answered an earlier question has answered this one.

        The first question always runs its full time: nobody has joined yet.
        """
        with self._lock:
            game = self._games.get((guild_id, channel_id))
            return game is not None and game.should_close_early()

    def points_for(self, seconds: float, *, question_seconds: float | None = None) -> int:
        """Points for a correct answer given `seconds` after the question appeared
        (out of `question_seconds`, by default the engine's time per question)."""
        return points_for(seconds, question_seconds or self.question_seconds, self.speed_bonus)

    def close_question(self, guild_id: int, channel_id: int, *, now: float) -> QuestionResult:
        """Close the current question and store its points in one transaction.

        Idempotent: closing an already closed question returns the same result.
        """
        with self._lock:
            game = self._game(guild_id, channel_id)
            if game.result is not None:
                return game.result
            players = game.verdicts()
            # Store first: if it fails, nothing in memory has changed and close can be retried.
            self.store.record_question_result(
                game.game_id,
                game.guild_id,
                [Award(p.user_id, p.user_name, p.points, p.correct) for p in players],
            )
            return game.close(players, now=now)

    def advance(self, guild_id: int, channel_id: int, *, now: float) -> QuestionState | GameResult:
        """Show the next question (started at `now`), or end the game after the last one."""
        with self._lock:
            game = self._game(guild_id, channel_id)
            if game.result is None:
                raise QuestionStillOpen("The current question is still open.")
            if game.is_last:
                return self._end(game, "finished", now)
            self.store.update_game_progress(game.game_id, game.index + 1, now)
            game.next_question(now=now)
            return game.state()

    # -- internals ------------------------------------------------------------------------

    def _game(self, guild_id: int, channel_id: int) -> Game:
        game = self._games.get((guild_id, channel_id))
        if game is None:
            raise NoQuizRunning("There is no quiz running in this channel.")
        return game

    def _end(self, game: Game, state: GameState, now: float) -> GameResult:
        self.store.finish_game(game.game_id, state, now)
        del self._games[game.key]
        return _ended(game, state)
