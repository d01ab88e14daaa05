"""/quiz start|stop|leaderboard and the answer buttons: a thin adapter over bot.quiz.

The engine holds every rule; this cog only drives its clock (one timer task per
channel), draws questions and results, and routes button presses to `engine.answer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.delivery import NO_MENTIONS
from bot.formatting import LABEL_LIMIT, defuse_mentions, trim
from bot.quiz import GameResult, QuestionResult, QuestionState, QuizEngine, ScoreStore
from bot.quiz.bank import QuizError

if TYPE_CHECKING:
    from bot.discord_app.client import InferenceBotMixin

log = logging.getLogger(__name__)
LETTERS = "ABCDEFGH"
CLOSE_POLL_S = 0.25
PAUSE_BETWEEN_S = 2.0


def _name(user: discord.abc.User) -> str:
    return defuse_mentions(getattr(user, "display_name", None) or user.name)[:64]


class QuizAnswerButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"quiz:(?P<game>\d+):(?P<number>\d+):(?P<choice>\d)",
):
    """One answer choice. Game, question and choice live in the custom_id."""

    def __init__(self, game_id: int, number: int, choice: int, label: str, disabled: bool = False):
        super().__init__(
            discord.ui.Button(
                label=trim(f"{LETTERS[choice]}. {label}", LABEL_LIMIT),
                style=discord.ButtonStyle.primary,
                custom_id=f"quiz:{game_id}:{number}:{choice}",
                disabled=disabled,
            )
        )
        self.game_id, self.number, self.choice = game_id, number, choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> QuizAnswerButton:
        return cls(int(match["game"]), int(match["number"]), int(match["choice"]), item.label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        cog: QuizCog | None = interaction.client.get_cog("Quiz")
        if cog is not None:
            await cog.on_answer(interaction, self.game_id, self.number, self.choice)


def question_view(state: QuestionState, disabled: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for i, choice in enumerate(state.question.choices):
        view.add_item(QuizAnswerButton(state.game_id, state.number, i, choice, disabled))
    return view


def question_embed(state: QuestionState) -> discord.Embed:
    q = state.question
    seconds = state.deadline - state.started_at
    lines = [q.question, ""] + [f"**{LETTERS[i]}.** {c}" for i, c in enumerate(q.choices)]
    embed = discord.Embed(
        title=f"Quiz question {state.number}/{state.total}",
        description=trim("\n".join(lines), 4096),
        colour=discord.Colour.gold(),
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
        description=trim(defuse_mentions(text), 4096),
        colour=discord.Colour.green(),
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
        description=trim(defuse_mentions("\n".join(lines)), 4096),
        colour=discord.Colour.gold(),
    )
    embed.set_footer(
        text=f"{game.questions_asked}/{game.questions_total} questions · /quiz leaderboard for all-time scores"
    )
    return embed


class QuizCog(commands.GroupCog, group_name="quiz", name="Quiz"):
    """Quizzes about inference, played in a channel with buttons."""

    def __init__(self, bot: InferenceBotMixin, engine: QuizEngine, store: ScoreStore) -> None:
        self.bot = bot
        self.engine = engine
        self.store = store
        self._timers: dict[tuple[int, int], asyncio.Task] = {}
        self._answered: dict[tuple[int, int], asyncio.Event] = {}
        self._interrupted: list[GameResult] = engine.recover(time.time())
        super().__init__()

    async def cog_load(self) -> None:
        if self._interrupted:
            asyncio.get_running_loop().create_task(self._announce_interrupted())

    async def cog_unload(self) -> None:
        for task in self._timers.values():
            task.cancel()

    async def _announce_interrupted(self) -> None:
        await self.bot.wait_until_ready()
        for game in self._interrupted:
            channel = self.bot.get_channel(game.channel_id)
            if isinstance(channel, discord.abc.Messageable):
                embed = scores_embed(game, "The quiz was interrupted by a restart")
                embed.description = "Points earned before the restart are kept.\n\n" + (
                    embed.description or ""
                )
                try:
                    await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
                except discord.HTTPException:
                    log.warning("could not announce interrupted quiz %s", game.game_id)

    # -- commands ------------------------------------------------------------------------------
    @app_commands.command(name="start")
    @app_commands.describe(
        questions="How many questions (1-20)", topic="Only questions on this topic"
    )
    async def start(
        self,
        interaction: discord.Interaction,
        questions: app_commands.Range[int, 1, 20] = 5,
        topic: str | None = None,
    ) -> None:
        """Start a quiz in this channel: everyone can answer with the buttons."""
        if interaction.guild_id is None or interaction.channel_id is None:
            await interaction.response.send_message(
                "Quizzes run in server channels.", ephemeral=True
            )
            return
        key = (interaction.guild_id, interaction.channel_id)
        settings = self.bot.guild_settings.get(interaction.guild_id)
        seconds = settings.question_seconds(self.engine.question_seconds)
        session = self.engine.start(
            *key, interaction.user.id, questions, topic, time.time(), question_seconds=seconds
        )
        state = session.current
        await interaction.response.send_message(
            embed=question_embed(state),
            view=question_view(state),
            allowed_mentions=NO_MENTIONS,
        )
        message = await interaction.original_response()
        self._answered[key] = asyncio.Event()
        self._timers[key] = asyncio.create_task(self._run_game(interaction, key, state, message))

    @start.autocomplete("topic")
    async def topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=t, value=t)
            for t in self.engine.bank.topics()
            if current.lower() in t
        ][:25]

    @app_commands.command(name="stop")
    async def stop(self, interaction: discord.Interaction) -> None:
        """Stop the quiz in this channel (the starter or a moderator)."""
        if interaction.guild_id is None or interaction.channel_id is None:
            await interaction.response.send_message(
                "Quizzes run in server channels.", ephemeral=True
            )
            return
        key = (interaction.guild_id, interaction.channel_id)
        perms = getattr(interaction.user, "guild_permissions", None)
        is_mod = bool(perms and (perms.manage_messages or perms.manage_guild))
        game = self.engine.stop(*key, interaction.user.id, is_mod, time.time())
        task = self._timers.pop(key, None)
        if task is not None:
            task.cancel()
        await interaction.response.send_message(
            embed=scores_embed(game, "Quiz stopped"), allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="leaderboard")
    async def leaderboard(self, interaction: discord.Interaction) -> None:
        """This server's all-time top quiz players."""
        if interaction.guild_id is None:
            await interaction.response.send_message("Leaderboards are per server.", ephemeral=True)
            return
        rows = await asyncio.to_thread(self.store.leaderboard, interaction.guild_id, 10)
        lines = [
            f"{r.rank}. {r.user_name}: {r.points} points "
            f"({r.correct}/{r.answered} correct, {r.games_played} games)"
            for r in rows
        ] or ["No scores yet: start one with /quiz start."]
        embed = discord.Embed(
            title="Quiz leaderboard",
            description=trim(defuse_mentions("\n".join(lines)), 4096),
            colour=discord.Colour.gold(),
        )
        await interaction.response.send_message(embed=embed, allowed_mentions=NO_MENTIONS)

    # -- buttons and the game clock ------------------------------------------------------------
    async def on_answer(
        self, interaction: discord.Interaction, game_id: int, number: int, choice: int
    ) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            return
        key = (interaction.guild_id, interaction.channel_id)
        outcome = self.engine.answer(
            *key,
            interaction.user.id,
            _name(interaction.user),
            choice,
            number,
            time.time(),
            game_id=game_id,
        )
        await interaction.response.send_message(outcome.message, ephemeral=True)
        if outcome.accepted and key in self._answered:
            self._answered[key].set()

    async def _wait_for_close(self, key: tuple[int, int], deadline: float) -> None:
        event = self._answered[key]
        while time.time() < deadline:
            if self.engine.should_close_early(*key):
                return
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    event.wait(), min(CLOSE_POLL_S * 4, max(0.0, deadline - time.time()))
                )

    async def _run_game(
        self,
        interaction: discord.Interaction,
        key: tuple[int, int],
        state: QuestionState,
        message: discord.Message,
    ) -> None:
        try:
            while True:
                await self._wait_for_close(key, state.deadline)
                result = self.engine.close_question(*key, time.time())
                await message.edit(view=question_view(state, disabled=True))
                await interaction.followup.send(
                    embed=result_embed(result), allowed_mentions=NO_MENTIONS
                )
                if not result.is_last:
                    await asyncio.sleep(PAUSE_BETWEEN_S)
                nxt = self.engine.advance(*key, time.time())
                if isinstance(nxt, GameResult):
                    await interaction.followup.send(
                        embed=scores_embed(nxt, "Quiz over: this round's scores"),
                        allowed_mentions=NO_MENTIONS,
                    )
                    return
                state = nxt
                message = await interaction.followup.send(
                    embed=question_embed(state),
                    view=question_view(state),
                    allowed_mentions=NO_MENTIONS,
                    wait=True,
                )
        except asyncio.CancelledError:
            raise
        except QuizError as exc:
            log.info("quiz in %s ended: %s", key, exc)
        except Exception:
            log.exception("quiz timer in %s failed", key)
            if self.engine.is_running(*key):  # end it cleanly; points already earned stay
                self.engine.stop(*key, 0, True, time.time())
        finally:
            self._timers.pop(key, None)
            self._answered.pop(key, None)


async def setup(bot: InferenceBotMixin) -> None:
    engine: QuizEngine = bot.services["quiz_engine"]
    bot.add_dynamic_items(QuizAnswerButton)
    await bot.add_cog(QuizCog(bot, engine, bot.services["score_store"]))
