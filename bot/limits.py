"""Limits that several parts of the bot share, defined once.

The quiz's number of questions is checked by config.yaml's validation (quiz.default_questions),
the quiz engine, the Discord /quiz start option and the terminal quiz; all import it from here.
"""

from __future__ import annotations

QUIZ_MIN_QUESTIONS = 1
QUIZ_MAX_QUESTIONS = 20
QUIZ_DEFAULT_QUESTIONS = 5
QUIZ_QUESTIONS_RANGE = f"{QUIZ_MIN_QUESTIONS}-{QUIZ_MAX_QUESTIONS}"  # for help texts
