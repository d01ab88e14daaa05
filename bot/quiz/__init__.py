"""The quiz core: question bank, game rules, score storage, terminal play. No Discord here."""

from bot.quiz.bank import (
    InvalidQuizRequest,
    QuizBank,
    QuizBankError,
    QuizError,
    QuizQuestion,
    load_bank,
)
from bot.quiz.engine import (
    AnswerOutcome,
    AnswerStatus,
    Game,
    GameResult,
    NoQuizRunning,
    NotAllowedToStop,
    PlayerResult,
    QuestionResult,
    QuestionState,
    QuestionStillOpen,
    QuizAlreadyRunning,
    QuizEngine,
    QuizSession,
)
from bot.quiz.store import Award, LeaderboardRow, RoundScore, ScoreStore, StoredGame

__all__ = [
    "AnswerOutcome",
    "AnswerStatus",
    "Award",
    "Game",
    "GameResult",
    "InvalidQuizRequest",
    "LeaderboardRow",
    "NoQuizRunning",
    "NotAllowedToStop",
    "PlayerResult",
    "QuestionResult",
    "QuestionState",
    "QuestionStillOpen",
    "QuizAlreadyRunning",
    "QuizBank",
    "QuizBankError",
    "QuizEngine",
    "QuizError",
    "QuizQuestion",
    "QuizSession",
    "RoundScore",
    "ScoreStore",
    "StoredGame",
    "load_bank",
]
