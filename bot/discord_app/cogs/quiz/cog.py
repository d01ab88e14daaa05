"""/quiz start|stop|leaderboard and the answer buttons: a thin adapter over bot.quiz.

The engine holds every rule; this cog only drives its clock (one timer task per
channel), draws questions and results, and routes button presses to `engine.answer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs.quiz.buttons import question_view
from bot.discord_app.cogs.quiz.embeds import (
    interrupted_embed,
    leaderboard_embed,
    question_embed,
    result_embed,
    scores_embed,
)
from bot.discord_app.deps import AnyBot, BotDeps
from bot.discord_app.ui import CHOICES_LIMIT, NO_MENTIONS
from bot.formatting import defuse_mentions
from bot.limits import (
    QUIZ_DEFAULT_QUESTIONS,
    QUIZ_MAX_QUESTIONS,
    QUIZ_MIN_QUESTIONS,
    QUIZ_QUESTIONS_RANGE,
)
from bot.quiz import GameResult, QuestionState, QuizError

log = logging.getLogger(__name__)
CLOSE_POLL_S = 0.25
PAUSE_BETWEEN_S = 2.0
NOT_IN_A_SERVER = "Quizzes run in server channels."


def _name(user: discord.abc.User) -> str:
    return defuse_mentions(getattr(user, "display_name", None) or user.name)[:64]


class QuizCog(commands.GroupCog, group_name="quiz", name="Quiz"):
    """Quizzes about inference, played in a channel with buttons."""

    def __init__(self, bot: AnyBot, deps: BotDeps) -> None:
        self.bot = bot
        self.deps = deps
        self.engine = deps.quiz_engine
        self.store = deps.score_store
        self._timers: dict[tuple[int, int], asyncio.Task] = {}
        self._answered: dict[tuple[int, int], asyncio.Event] = {}
        self._interrupted: list[GameResult] = self.engine.recover(
            now=time.time(), owns=deps.config.discord.runs_guild
        )
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
                try:
                    await channel.send(embed=interrupted_embed(game), allowed_mentions=NO_MENTIONS)
                except discord.HTTPException:
                    log.warning("could not announce interrupted quiz %s", game.game_id)

    # -- commands ------------------------------------------------------------------------------
    @app_commands.command(name="start")
    @app_commands.describe(
        questions=f"How many questions ({QUIZ_QUESTIONS_RANGE})",
        topic="Only questions on this topic",
    )
    async def start(
        self,
        interaction: discord.Interaction,
        questions: app_commands.Range[
            int, QUIZ_MIN_QUESTIONS, QUIZ_MAX_QUESTIONS
        ] = QUIZ_DEFAULT_QUESTIONS,
        topic: str | None = None,
    ) -> None:
        """Start a quiz in this channel: everyone can answer with the buttons."""
        if interaction.guild_id is None or interaction.channel_id is None:
            await interaction.response.send_message(NOT_IN_A_SERVER, ephemeral=True)
            return
        key = (interaction.guild_id, interaction.channel_id)
        settings = self.deps.guild_settings.get(interaction.guild_id)
        seconds = settings.question_seconds(self.engine.question_seconds)
        session = self.engine.start(
            *key,
            starter_id=interaction.user.id,
            n_questions=questions,
            topic=topic,
            now=time.time(),
            question_seconds=seconds,
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
        ][:CHOICES_LIMIT]

    @app_commands.command(name="stop")
    async def stop(self, interaction: discord.Interaction) -> None:
        """Stop the quiz in this channel (the starter or a moderator)."""
        if interaction.guild_id is None or interaction.channel_id is None:
            await interaction.response.send_message(NOT_IN_A_SERVER, ephemeral=True)
            return
        key = (interaction.guild_id, interaction.channel_id)
        perms = getattr(interaction.user, "guild_permissions", None)
        is_mod = bool(perms and (perms.manage_messages or perms.manage_guild))
        game = self.engine.stop(
            *key, user_id=interaction.user.id, is_moderator=is_mod, now=time.time()
        )
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
        await interaction.response.send_message(
            embed=leaderboard_embed(rows), allowed_mentions=NO_MENTIONS
        )

    # -- buttons and the game clock ------------------------------------------------------------
    async def on_answer(
        self, interaction: discord.Interaction, game_id: int, number: int, choice: int
    ) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            return
        key = (interaction.guild_id, interaction.channel_id)
        outcome = self.engine.answer(
            *key,
            user_id=interaction.user.id,
            user_name=_name(interaction.user),
            choice_index=choice,
            question_number=number,
            now=time.time(),
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
                result = self.engine.close_question(*key, now=time.time())
                await message.edit(view=question_view(state, disabled=True))
                await interaction.followup.send(
                    embed=result_embed(result), allowed_mentions=NO_MENTIONS
                )
                if not result.is_last:
                    await asyncio.sleep(PAUSE_BETWEEN_S)
                nxt = self.engine.advance(*key, now=time.time())
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
                self.engine.stop(*key, user_id=0, is_moderator=True, now=time.time())
        finally:
            self._timers.pop(key, None)
            self._answered.pop(key, None)
