"""How a quiz looks: the question, its result, a round's scores, the leaderboard."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord_app.cogs.quiz.buttons import LETTERS
from bot.discord_app.ui import DESCRIPTION_LIMIT, QUIZ_COLOUR, RESULT_COLOUR
from bot.formatting import defuse_mentions, trim
from bot.quiz import GameResult, LeaderboardRow, QuestionResult, QuestionState


def question_embed(state: QuestionState) -> discord.Embed:
    q = state.question
    seconds = state.deadline - state.started_at
    lines = [q.question, ""] + [f"**{LETTERS[i]}.** {c}" for i, c in enumerate(q.choices)]
    embed = discord.Embed(
        title=f"Quiz question {state.number}/{state.total}",
        description=trim("\n".join(lines), DESCRIPTION_LIMIT),
        colour=QUIZ_COLOUR,
    )
    embed.set_footer(text=f"Topic: {q.topic} · {seconds:.0f} s to answer · one answer each")
    return embed


def result_embed(result: QuestionResult) -> discord.Embed:
    q = result.question
    winners = ", ".join(f"{p.user_name} (+{p.points})" for p in result.winners) or "nobody"
    text = (
        f"**Answer: {LETTERS[result.correct_index]}. {q.answer}**\n{q.explanation}\n\n"
        f"Got it right: {winners}"
    )
    embed = discord.Embed(
        title=f"Question {result.number}/{result.total} closed",
        description=trim(defuse_mentions(text), DESCRIPTION_LIMIT),
        colour=RESULT_COLOUR,
    )
    embed.set_footer(text=f"Source: knowledge entry '{q.entry}'")
    return embed


def scores_embed(game: GameResult, title: str) -> discord.Embed:
    lines = [
        f"{i}. {s.user_name}: {s.points} points ({s.correct}/{s.answered} correct)"
        for i, s in enumerate(game.scores, start=1)
    ] or ["No answers this round."]
    embed = discord.Embed(
        title=title,
        description=trim(defuse_mentions("\n".join(lines)), DESCRIPTION_LIMIT),
        colour=QUIZ_COLOUR,
    )
    embed.set_footer(
        text=f"{game.questions_asked}/{game.questions_total} questions · /quiz leaderboard for all-time scores"
    )
    return embed


def interrupted_embed(game: GameResult) -> discord.Embed:
    embed = scores_embed(game, "The quiz was interrupted by a restart")
    embed.description = "Points earned before the restart are kept.\n\n" + (embed.description or "")
    return embed


def leaderboard_embed(rows: Sequence[LeaderboardRow]) -> discord.Embed:
    lines = [
        f"{r.rank}. {r.user_name}: {r.points} points "
        f"({r.correct}/{r.answered} correct, {r.games_played} games)"
        for r in rows
    ] or ["No scores yet: start one with /quiz start."]
    return discord.Embed(
        title="Quiz leaderboard",
        description=trim(defuse_mentions("\n".join(lines)), DESCRIPTION_LIMIT),
        colour=QUIZ_COLOUR,
    )
