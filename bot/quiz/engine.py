"""Quiz rules: one game per channel, one answer per user per question, points on close.

Pure logic: no timers, no Discord. Time comes in as `now` (seconds; pass time.time() so
stored timestamps mean something), so tests are deterministic. The only I/O goes through
the ScoreStore: points are written when a question closes, progress when a question starts.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import TypeAlias

from bot.quiz.bank import InvalidQuizRequest, QuizBank, QuizError, QuizQuestion
from bot.quiz.store import Award, GameState, RoundScore, ScoreStore

log = logging.getLogger(__name__)

ChannelKey: TypeAlias = tuple[int, int]
MIN_QUESTIONS = 1
MAX_QUESTIONS = 20
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


@dataclass
class _Answer:
    user_name: str
    choice_index: int
    at: float


@dataclass
class _Game:
    game_id: int
    guild_id: int
    channel_id: int
    starter_id: int
    topic: str | None
    questions: tuple[QuizQuestion, ...]
    started_at: float
    question_started_at: float
    seconds: float  # time per question in this game
    index: int = 0
    answers: dict[int, _Answer] = field(default_factory=dict)
    result: QuestionResult | None = None  # set once the current question is closed
    joined: set[int] = field(default_factory=set)  # answered an earlier question
    scores: dict[int, RoundScore] = field(default_factory=dict)


class QuizEngine:
    """Runs one quiz per (guild_id, channel_id). Thread-safe; every method returns quickly."""

    def __init__(
        self,
        bank: QuizBank,
        store: ScoreStore,
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
        self._games: dict[ChannelKey, _Game] = {}
        self._lock = threading.RLock()

    # -- lifecycle ------------------------------------------------------------------------

    def recover(self, now: float) -> list[GameResult]:
        """Close every stored game left 'running' by a previous process; points stay.

        Call once at start-up; returns the closed games so each channel can be told.
        """
        with self._lock:
            active = {g.game_id for g in self._games.values()}
            closed: list[GameResult] = []
            for game in self.store.running_games():
                if game.id in active:
                    continue
                if not self.store.finish_game(game.id, "interrupted", now):
                    continue
                closed.append(
                    GameResult(
                        game_id=game.id,
                        guild_id=game.guild_id,
                        channel_id=game.channel_id,
                        topic=game.topic,
                        state="interrupted",
                        questions_total=len(game.question_ids),
                        questions_asked=min(game.current_index + 1, len(game.question_ids)),
                        scores=game.scores,
                    )
                )
                log.info(
                    "quiz game %d in %s/%s interrupted by restart",
                    game.id,
                    game.guild_id,
                    game.channel_id,
                )
            return closed

    def start(
        self,
        guild_id: int,
        channel_id: int,
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
        if not MIN_QUESTIONS <= n_questions <= MAX_QUESTIONS:
            raise InvalidQuizRequest(f"Pick between {MIN_QUESTIONS} and {MAX_QUESTIONS} questions.")
        seconds = self.question_seconds if question_seconds is None else float(question_seconds)
        if seconds <= 0:
            raise ValueError("question_seconds must be positive")
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
            game = _Game(
                game_id, guild_id, channel_id, starter_id, topic, questions, now, now, seconds
            )
            self._games[key] = game
            log.info(
                "quiz game %d started in %s/%s: %d questions, topic %s",
                game_id,
                guild_id,
                channel_id,
                len(questions),
                topic or "any",
            )
            return self._session(game)

    def stop(
        self, guild_id: int, channel_id: int, user_id: int, is_moderator: bool, now: float
    ) -> GameResult:
        """End the quiz now (starter or moderator only). Answers to an open question are
        discarded; points from closed questions are kept."""
        with self._lock:
            game = self._game(guild_id, channel_id)
            if user_id != game.starter_id and not is_moderator:
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
            return self._session(self._game(guild_id, channel_id))

    def current(self, guild_id: int, channel_id: int) -> QuestionState:
        with self._lock:
            return self._state(self._game(guild_id, channel_id))

    # -- playing --------------------------------------------------------------------------

    def answer(
        self,
        guild_id: int,
        channel_id: int,
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
            number = game.index + 1
            if (
                question_number != number
                or (game_id is not None and game_id != game.game_id)
                or game.result is not None
                or now >= game.question_started_at + game.seconds
            ):
                return AnswerOutcome(
                    AnswerStatus.QUESTION_CLOSED,
                    "Too late - that question has closed.",
                    question_number,
                )
            question = game.questions[game.index]
            previous = game.answers.get(user_id)
            if previous is not None:
                return AnswerOutcome(
                    AnswerStatus.ALREADY_ANSWERED,
                    "You already answered this one "
                    f"({question.choices[previous.choice_index]}) - one answer per question.",
                    number,
                    previous.choice_index,
                )
            if not 0 <= choice_index < len(question.choices):
                return AnswerOutcome(
                    AnswerStatus.INVALID_CHOICE, "That is not one of the choices.", number
                )
            game.answers[user_id] = _Answer(user_name, choice_index, now)
            return AnswerOutcome(
                AnswerStatus.ACCEPTED,
                f"Locked in: {question.choices[choice_index]}. "
                "The answer is revealed when the question closes.",
                number,
                choice_index,
            )

    def should_close_early(self, guild_id: int, channel_id: int) -> bool:
        """True once everyone who answered an earlier question has answered this one.

        The first question always runs its full time: nobody has joined yet.
        """
        with self._lock:
            game = self._games.get((guild_id, channel_id))
            if game is None or game.result is not None or not game.joined:
                return False
            return game.joined <= game.answers.keys()

    def points_for(self, seconds: float, question_seconds: float | None = None) -> int:
        """Points for a correct answer given `seconds` after the question appeared
        (out of `question_seconds`, by default the engine's time per question)."""
        if not self.speed_bonus:
            return POINTS_CORRECT
        limit = question_seconds or self.question_seconds
        fraction = max(0.0, 1.0 - max(0.0, seconds) / limit)
        return POINTS_CORRECT + int(SPEED_BONUS_MAX * fraction + 0.5)

    def close_question(self, guild_id: int, channel_id: int, now: float) -> QuestionResult:
        """Close the current question and store its points in one transaction.

        Idempotent: closing an already closed question returns the same result.
        """
        with self._lock:
            game = self._game(guild_id, channel_id)
            if game.result is not None:
                return game.result
            question = game.questions[game.index]
            players = []
            for user_id, a in game.answers.items():
                seconds = a.at - game.question_started_at
                correct = a.choice_index == question.answer_index
                points = self.points_for(seconds, game.seconds) if correct else 0
                players.append(
                    PlayerResult(user_id, a.user_name, a.choice_index, correct, points, seconds)
                )
            players.sort(key=lambda p: (-p.points, p.seconds))
            # Store first: if it fails, nothing in memory has changed and close can be retried.
            self.store.record_question_result(
                game.game_id,
                game.guild_id,
                [Award(p.user_id, p.user_name, p.points, p.correct) for p in players],
            )
            for p in players:
                old = game.scores.get(p.user_id)
                game.scores[p.user_id] = RoundScore(
                    p.user_id,
                    p.user_name,
                    (old.points if old else 0) + p.points,
                    (old.correct if old else 0) + int(p.correct),
                    (old.answered if old else 0) + 1,
                )
                game.joined.add(p.user_id)
            game.result = QuestionResult(
                game.game_id, game.index + 1, len(game.questions), question, tuple(players), now
            )
            return game.result

    def advance(self, guild_id: int, channel_id: int, now: float) -> QuestionState | GameResult:
        """Show the next question (started at `now`), or end the game after the last one."""
        with self._lock:
            game = self._game(guild_id, channel_id)
            if game.result is None:
                raise QuestionStillOpen("The current question is still open.")
            if game.index + 1 >= len(game.questions):
                return self._end(game, "finished", now)
            self.store.update_game_progress(game.game_id, game.index + 1, now)
            game.index += 1
            game.question_started_at = now
            game.answers = {}
            game.result = None
            return self._state(game)

    # -- internals ------------------------------------------------------------------------

    def _game(self, guild_id: int, channel_id: int) -> _Game:
        game = self._games.get((guild_id, channel_id))
        if game is None:
            raise NoQuizRunning("There is no quiz running in this channel.")
        return game

    def _end(self, game: _Game, state: GameState, now: float) -> GameResult:
        self.store.finish_game(game.game_id, state, now)
        del self._games[(game.guild_id, game.channel_id)]
        scores = sorted(
            game.scores.values(),
            key=lambda s: (-s.points, -s.correct, s.user_name.casefold(), s.user_id),
        )
        log.info(
            "quiz game %d %s after %d/%d questions",
            game.game_id,
            state,
            game.index + 1,
            len(game.questions),
        )
        return GameResult(
            game_id=game.game_id,
            guild_id=game.guild_id,
            channel_id=game.channel_id,
            topic=game.topic,
            state=state,
            questions_total=len(game.questions),
            questions_asked=game.index + 1,
            scores=tuple(scores),
        )

    def _state(self, game: _Game) -> QuestionState:
        return QuestionState(
            game_id=game.game_id,
            guild_id=game.guild_id,
            channel_id=game.channel_id,
            number=game.index + 1,
            total=len(game.questions),
            question=game.questions[game.index],
            started_at=game.question_started_at,
            deadline=game.question_started_at + game.seconds,
            is_open=game.result is None,
            answered=len(game.answers),
        )

    def _session(self, game: _Game) -> QuizSession:
        return QuizSession(
            game_id=game.game_id,
            guild_id=game.guild_id,
            channel_id=game.channel_id,
            starter_id=game.starter_id,
            topic=game.topic,
            questions=game.questions,
            started_at=game.started_at,
            current=self._state(game),
        )
