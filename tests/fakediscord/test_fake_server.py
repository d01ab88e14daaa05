"""Self-test of the fake Discord: a real discord.py 2.7.1 bot connected over 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from .server import FakeDiscord, FakeDiscordTimeout, run_bot

pytestmark = pytest.mark.e2e

TOPICS = ["quantization", "kv cache", "batching"]


class PingView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.button(label="Again", custom_id="ping:again", style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="pressed", view=None)


class AnswerModal(discord.ui.Modal, title="Your answer"):
    answer: discord.ui.TextInput = discord.ui.TextInput(label="Answer", custom_id="answer")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.answer.value}", ephemeral=True)


class PanelView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.select(
        custom_id="panel:pick",
        options=[
            discord.SelectOption(label="A", value="a"),
            discord.SelectOption(label="B", value="b"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"picked {select.values[0]}")

    @discord.ui.button(label="Answer", custom_id="panel:answer")
    async def answer(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(AnswerModal())


class SelfTestBot(commands.Bot):
    def __init__(self, fake: FakeDiscord) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            guild_ready_timeout=0.05,
            help_command=None,
        )
        self.fake = fake
        self.errors: list[Exception] = []
        self.seen_channels: list[str] = []
        self._add_commands()

    async def setup_hook(self) -> None:
        await self.tree.sync()
        await self.tree.sync(guild=discord.Object(self.fake.guild_id))

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        is_dm = isinstance(message.channel, discord.DMChannel)
        if is_dm or (self.user is not None and self.user in message.mentions):
            self.seen_channels.append(type(message.channel).__name__)
            await message.reply(
                f"echo: {message.content}", allowed_mentions=discord.AllowedMentions.none()
            )

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command(name="ping", description="Ping with a button")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.2)
            await interaction.edit_original_response(content="pong", view=PingView())

        @tree.command(name="slow", description="Acknowledges too late")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(3.5)
            try:
                await interaction.response.defer(thinking=True)
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(name="long", description="Sends a message over 2000 characters")
        async def long(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("x" * 2001)
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(name="spam", description="Edits its answer seven times at once")
        async def spam(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            for i in range(7):
                await interaction.edit_original_response(content=f"edit {i}")

        @tree.command(name="shout", description="Pings everyone (unsafe)")
        async def shout(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("@everyone look")

        @tree.command(
            name="guildping",
            description="Guild-only ping",
            guild=discord.Object(self.fake.guild_id),
        )
        async def guildping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"guild {interaction.guild_id}")

        @tree.command(name="follow", description="Thinks, then answers with followups")
        async def follow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True, ephemeral=True)
            await interaction.followup.send("first")  # replaces the "thinking" message
            await interaction.followup.send("second", file=discord.File(__file__))

        @tree.command(name="panel", description="Posts a panel with a select and a modal")
        async def panel(interaction: discord.Interaction) -> None:
            assert interaction.channel is not None
            await interaction.channel.send("panel", view=PanelView())  # type: ignore[union-attr]
            await interaction.response.send_message("posted", ephemeral=True)

        @tree.command(name="ignore", description="Never answers")
        async def ignore(interaction: discord.Interaction) -> None:
            return

        quiz = app_commands.Group(name="quiz", description="Quiz commands")
        admin = app_commands.Group(name="admin", description="Quiz admin", parent=quiz)

        @quiz.command(name="start", description="Start a quiz")
        @app_commands.describe(topic="Topic", rounds="Number of rounds")
        async def start(
            interaction: discord.Interaction,
            topic: str,
            rounds: app_commands.Range[int, 1, 10] = 3,
        ) -> None:
            assert isinstance(rounds, int)
            await interaction.response.send_message(f"quiz {topic} x{rounds}", ephemeral=True)

        @start.autocomplete("topic")
        async def topic_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=t, value=t) for t in TOPICS if current in t]

        @admin.command(name="reset", description="Reset a user's score")
        async def reset(interaction: discord.Interaction, user: discord.User) -> None:
            await interaction.response.send_message(f"reset {user.name}")

        tree.add_command(quiz)


@pytest_asyncio.fixture
async def env() -> AsyncIterator[tuple[FakeDiscord, SelfTestBot]]:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        bot = SelfTestBot(fake)
        async with run_bot(fake, bot):
            yield fake, bot
    assert base == discord.http.Route.BASE
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


@pytest.mark.asyncio
async def test_login_ready_and_sync(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, bot = env
    assert bot.user is not None and bot.user.id == fake.bot_user_id
    assert bot.application_id == fake.app_id
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None and guild.me is not None
    assert guild.member_count == 4  # bot, owner, alice, bob (only the bot is cached)
    assert isinstance(guild.get_channel(fake.channel_id), discord.TextChannel)
    paths = [(e.method, e.path.removeprefix("/api/v10")) for e in fake.events if e.kind == "http"]
    assert ("GET", "/users/@me") in paths
    assert ("GET", "/oauth2/applications/@me") in paths
    assert fake.identifies[0]["intents"] & (1 << 15)  # message_content requested
    synced = await fake.wait_for_sync(["ping", "slow", "quiz"])
    assert all(cmd["application_id"] == str(fake.app_id) for cmd in synced.values())
    assert "guildping" in fake.guild_commands[fake.guild_id]
    quiz = synced["quiz"]
    assert sorted((o["name"], o["type"]) for o in quiz["options"]) == [("admin", 2), ("start", 1)]
    fake.assert_clean()


@pytest.mark.asyncio
async def test_slash_command_deferred_edited_and_button(
    env: tuple[FakeDiscord, SelfTestBot],
) -> None:
    fake, _ = env
    rec = await fake.slash_command("ping")
    callback = await fake.wait_for_callback(rec, timeout=3.5)
    assert callback.type == 5 and callback.accepted
    assert callback.elapsed < 3.0
    final = await fake.wait_for_final(rec, lambda m: m["content"] == "pong", timeout=5)
    assert final["flags"] & 128 == 0  # no longer "thinking"
    buttons = [c for row in final["components"] for c in row["components"]]
    assert [b["custom_id"] for b in buttons] == ["ping:again"]
    assert len(fake.message_versions(final["id"])) == 2  # loading message, then the edit

    press = await fake.press_button(final["id"], "ping:again")
    assert (await fake.wait_for_callback(press)).type == 7
    pressed = await fake.wait_for_message(lambda m: m["content"] == "pressed")
    assert pressed["id"] == final["id"] and pressed["components"] == []
    fake.assert_clean()


@pytest.mark.asyncio
async def test_mention_and_dm_are_answered(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, bot = env
    msg = await fake.user_message("hello @everyone", mention_bot=True)
    reply = await fake.wait_for_reply(msg)
    assert reply["message_reference"]["message_id"] == msg["id"]
    assert reply["content"].startswith("echo: ")
    assert fake.allowed_mentions[-1]["allowed_mentions"]["parse"] == []

    dm = await fake.user_message("hi in private", dm=True)
    assert "guild_id" not in dm
    dm_reply = await fake.wait_for_reply(dm)
    assert dm_reply["channel_id"] == str(fake.dm_channel_id)
    assert dm_reply["content"] == "echo: hi in private"
    assert bot.seen_channels == ["TextChannel", "DMChannel"]

    # a guild message that does not mention the bot gets no answer
    await fake.user_message("just chatting")
    with pytest.raises(FakeDiscordTimeout):
        await fake.wait_for_message(lambda m: "just chatting" in m["content"], timeout=0.3)
    fake.assert_clean()


@pytest.mark.asyncio
async def test_heartbeats_are_recorded(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, _ = env
    await asyncio.sleep(2.2)
    gaps = fake.heartbeat_gaps()
    assert len(gaps) >= 2
    assert max(gaps) < 1.5
    assert max(fake.heartbeat_gaps(include_pending=True)) < 1.5


@pytest.mark.asyncio
async def test_late_callback_is_a_violation(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, bot = env
    rec = await fake.slash_command("slow")
    callback = await fake.wait_for_callback(rec, timeout=5)
    assert callback.elapsed > 3.0 and not callback.accepted and callback.status == 404
    assert rec.late and rec.original_message_id is None
    assert any("3-second deadline" in v for v in fake.violations)
    await fake.wait_until(lambda: bot.errors, 2, "the bot to see the error")
    assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10062


@pytest.mark.asyncio
async def test_overlong_content_is_rejected(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, bot = env
    rec = await fake.slash_command("long")
    callback = await fake.wait_for_callback(rec)
    assert callback.status == 400 and not callback.accepted
    assert any("content" in v and "2000" in v for v in fake.violations)
    await fake.wait_until(lambda: bot.errors, 2, "the bot to see the error")
    assert isinstance(bot.errors[0], discord.HTTPException) and bot.errors[0].code == 50035


@pytest.mark.asyncio
async def test_unsafe_mentions_are_violations(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, _ = env
    rec = await fake.slash_command("shout")
    await fake.wait_for_final(rec)
    violation = await fake.wait_for_violation("@everyone")
    assert "allowed_mentions (absent)" in violation


async def _spam(fake: FakeDiscord) -> dict[str, Any]:
    bot = SelfTestBot(fake)
    async with run_bot(fake, bot):
        rec = await fake.slash_command("spam")
        return await fake.wait_for_final(rec, lambda m: m["content"] == "edit 6", timeout=8)


@pytest.mark.asyncio
async def test_rapid_edits_trigger_a_429_without_rate_limit_headers() -> None:
    async with FakeDiscord(rate_limit=(5, 1.0), rate_limit_headers=False) as fake:
        await _spam(fake)
        assert fake.rate_limited, "7 edits within 1 s should exceed 5 per second"
        hit = fake.rate_limited[0]
        assert "/messages/@original" in hit["path"] and 0 < hit["retry_after"] <= 1.0
        assert fake.violations == []


@pytest.mark.asyncio
async def test_rapid_edits_are_paced_by_discord_py_with_headers() -> None:
    async with FakeDiscord(rate_limit=(5, 1.0)) as fake:
        await _spam(fake)
        assert fake.rate_limited == []  # discord.py read X-RateLimit-* and waited
        assert fake.rate_limit_exhausted  # ... but the bucket was used up
        fake.assert_clean()


@pytest.mark.asyncio
async def test_options_subcommands_and_autocomplete(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, _ = env
    choices = await fake.autocomplete("quiz", "topic", "ca", subcommand="start")
    assert choices == [{"name": "kv cache", "value": "kv cache"}]

    rec = await fake.slash_command("quiz", {"topic": "batching", "rounds": 5}, subcommand="start")
    final = await fake.wait_for_final(rec)
    assert final["content"] == "quiz batching x5" and final["flags"] & 64  # ephemeral
    options = rec.payload["data"]["options"]
    assert options[0]["type"] == 1 and options[0]["options"][1] == {
        "name": "rounds",
        "type": 4,
        "value": 5,
    }

    rec = await fake.slash_command("quiz", {"user": "bob"}, subcommand="admin reset")
    assert rec.payload["data"]["options"][0]["type"] == 2
    assert (await fake.wait_for_final(rec))["content"] == "reset bob"

    rec = await fake.slash_command("guildping")
    assert rec.payload["data"]["guild_id"] == str(fake.guild_id)
    assert (await fake.wait_for_final(rec))["content"] == f"guild {fake.guild_id}"

    with pytest.raises(AssertionError, match="not synced"):
        await fake.slash_command("nope")
    with pytest.raises(AssertionError, match="integer"):
        await fake.slash_command("quiz", {"topic": "x", "rounds": "many"}, subcommand="start")
    with pytest.raises(AssertionError, match="missing required"):
        await fake.slash_command("quiz", {"rounds": 2}, subcommand="start")
    fake.assert_clean()


@pytest.mark.asyncio
async def test_followups_selects_and_modals(env: tuple[FakeDiscord, SelfTestBot]) -> None:
    fake, _ = env
    rec = await fake.slash_command("follow")
    first = await fake.wait_for_final(rec, lambda m: m["content"] == "first")
    assert first["flags"] & 64  # the ephemeral choice made when deferring sticks
    await fake.wait_until(lambda: len(rec.followup_ids) == 1, 2, "the second followup")
    second = fake.messages[rec.followup_ids[0]]
    assert second["content"] == "second" and second["attachments"][0]["filename"].endswith(".py")

    await fake.slash_command("panel")
    panel = await fake.wait_for_message(lambda m: m["content"] == "panel")
    await fake.select(panel["id"], "panel:pick", ["b"])
    await fake.wait_for_message(lambda m: m["id"] == panel["id"] and m["content"] == "picked b")
    press = await fake.press_button(panel["id"], "panel:answer")
    await fake.wait_for_callback(press)
    assert press.modal is not None and press.modal["title"] == "Your answer"
    submitted = await fake.submit_modal(press, {"answer": "42"})
    assert (await fake.wait_for_final(submitted))["content"] == "got 42"
    fake.assert_clean()

    fake.ack_deadline_s = 0.2
    await fake.slash_command("ignore")
    await asyncio.sleep(0.3)
    assert fake.problems() == ["interaction 'ignore': never answered"]


@pytest.mark.asyncio
async def test_reconnect_resumes_and_unknown_routes_are_recorded(
    env: tuple[FakeDiscord, SelfTestBot],
) -> None:
    fake, bot = env
    await fake.reconnect()
    await fake.wait_for_event(lambda e: e.path.startswith("op 6"), what="a RESUME")
    assert fake.resumes and fake.resumes[0]["session_id"]
    rec = await fake.slash_command("guildping")
    await fake.wait_for_final(rec)

    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/no/such/route"))
    assert fake.unknown_routes[-1]["path"] == "/api/v10/no/such/route"


@pytest.mark.asyncio
async def test_wrong_token_fails_login() -> None:
    async with FakeDiscord() as fake:
        client = discord.Client(intents=discord.Intents.default())
        with fake.patch_discord(), pytest.raises(discord.LoginFailure):
            await client.login("wrong-token")
        await client.close()


class ShardProcessBot(discord.AutoShardedClient):
    """What one of several bot processes is: some of the shards, here one of two."""

    def __init__(self, shard_id: int) -> None:
        super().__init__(
            intents=discord.Intents.default(),
            shard_count=2,
            shard_ids=[shard_id],
            guild_ready_timeout=0.05,
        )
        self.tree = app_commands.CommandTree(self)
        self.mentions_seen: list[int | None] = []

        @self.tree.command(name="where", description="Which shard answers")
        async def where(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"shard {shard_id}")

    async def setup_hook(self) -> None:
        if self.shard_ids == [0]:
            await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        if not message.author.bot:
            self.mentions_seen.append(message.guild.id if message.guild else None)


@pytest.mark.asyncio
async def test_two_guilds_on_two_shards_in_two_clients() -> None:
    fake = FakeDiscord(shard_count=2)
    second_id = fake.guild_id + (1 << 22)  # (id >> 22) % 2: the main guild 0, this one 1
    channel = fake.add_guild(second_id, name="Second Guild")
    assert fake.guild_ids == [fake.guild_id, second_id]
    async with fake:
        first, second = ShardProcessBot(0), ShardProcessBot(1)
        async with run_bot(fake, first), run_bot(fake, second):
            await fake.wait_ready(all_shards=True)
            assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
            assert [g.id for g in first.guilds] == [fake.guild_id]
            assert [g.id for g in second.guilds] == [second_id]
            assert second.get_guild(second_id).get_channel(int(channel["id"])) is not None
            await fake.wait_for_sync(["where"])

            here = await fake.slash_command("where")
            there = await fake.slash_command("where", channel_id=channel["id"])
            assert (await fake.wait_for_final(here))["content"] == "shard 0"
            assert (await fake.wait_for_final(there))["content"] == "shard 1"
            assert (here.shard, there.shard) == (0, 1)
            assert here.session_id != there.session_id
            assert there.guild_id == str(second_id)

            await fake.user_message("hi", mention_bot=True, channel_id=channel["id"])
            await fake.wait_until(lambda: second.mentions_seen, what="the mention on shard 1")
            assert second.mentions_seen == [second_id] and first.mentions_seen == []
    assert fake.problems() == []
    created = [d for _, event, d in fake.dispatched if event == "GUILD_CREATE"]
    assert sorted(d["id"] for d in created) == sorted([str(fake.guild_id), str(second_id)])
