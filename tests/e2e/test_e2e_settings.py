"""/settings through the fake Discord: who may use it, its effect on answers, mentions and
quizzes, and the values still there after the bot process restarts on the same data dir."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import BotProcess, write_config
from fakediscord.server import FakeDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.model, pytest.mark.asyncio]

QUIET_ID = 1300000000000000050  # the same id in both fakes, as a real channel keeps its id
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6


def is_final(message: dict[str, Any]) -> bool:
    embeds = message.get("embeds") or [{}]
    return "total " in embeds[0].get("footer", {}).get("text", "")


def new_fake() -> FakeDiscord:
    fake = FakeDiscord()
    fake.add_text_channel("quiet", channel_id=QUIET_ID)  # before the bot connects
    fake.add_user("carol")
    return fake


async def start_bot(fake: FakeDiscord, tmp: Path, data: Path, name: str) -> BotProcess:
    env = {**fake.bot_env(), "BOT_DATA_DIR": str(data)}
    bot = await BotProcess(env, write_config(tmp), tmp / f"{name}.log").start()
    await fake.wait_ready(timeout=60)
    await fake.wait_for_sync(["settings", "ask", "quiz"], timeout=30)
    return bot


async def settings(
    fake: FakeDiscord, subcommand: str, options: dict[str, Any] | None = None, **kwargs: Any
) -> str:
    """Run a /settings subcommand (as the guild owner unless `user=`); the private reply."""
    kwargs.setdefault("user", "owner")
    interaction = await fake.slash_command("settings", options, subcommand=subcommand, **kwargs)
    callback = await fake.wait_for_callback(interaction)
    assert callback.accepted and callback.elapsed < 3.0, callback
    assert callback.type == 4 and callback.data["flags"] & EPHEMERAL, callback.data
    return callback.data["content"]


async def check_who_may_use_it(fake: FakeDiscord) -> None:
    command = fake.commands["settings"]
    assert int(command["default_member_permissions"]) == MANAGE_GUILD
    names = {o["name"] for o in command["options"]}
    assert names == {"show", "quiz-seconds", "answers", "channels"}
    for user in ("alice", "bob"):  # a member, and a moderator without Manage Server
        refused = await settings(fake, "answers", {"visibility": "private"}, user=user)
        assert "Manage Server permission" in refused
    in_dm = await settings(fake, "show", guild=False)
    assert "in a server" in in_dm
    shown = await settings(fake, "show")
    assert "Answers: public" in shown and "in every channel" in shown
    assert "20 s per question (the default)" in shown


async def check_private_answers(fake: FakeDiscord) -> None:
    saved = await settings(fake, "answers", {"visibility": "private"})
    assert saved.startswith("Saved: answers to slash commands are private.")
    assert "Answers to mentions are always public" in saved
    ask = await fake.slash_command("ask", {"question": "what is a token?"}, user="alice")
    answer = await fake.wait_for_final(ask, is_final, timeout=90)
    assert ask.response_type == 5 and ask.response.data["flags"] & EPHEMERAL
    assert answer.get("flags", 0) & EPHEMERAL  # only the asker sees it


async def check_channel_list(fake: FakeDiscord) -> None:
    saved = await settings(fake, "channels add", {"channel": "quiet"})
    assert f"only in <#{QUIET_ID}>" in saved
    ignored = await fake.user_message("what is latency?", user="carol", mention_bot=True)
    heard = await fake.user_message(
        "what is latency?", user="carol", mention_bot=True, channel_id=QUIET_ID
    )

    def answers(message: dict[str, Any], to: dict[str, Any]) -> bool:
        return (message.get("message_reference") or {}).get("message_id") == to["id"]

    reply = await fake.wait_for_message(lambda m: answers(m, heard) and is_final(m), timeout=90)
    assert reply["channel_id"] == str(QUIET_ID)
    await asyncio.sleep(1.0)
    assert not [m for m in fake.messages.values() if answers(m, ignored)]


async def check_quiz_seconds(fake: FakeDiscord) -> None:
    saved = await settings(fake, "quiz-seconds", {"seconds": 35})
    assert "35 s per question (the default is 20 s)" in saved
    start = await fake.slash_command("quiz", {"questions": 1}, subcommand="start", user="alice")
    question = await fake.wait_for_final(start, timeout=10)
    assert "35 s to answer" in question["embeds"][0]["footer"]["text"]
    stop = await fake.slash_command("quiz", subcommand="stop", user="alice")
    await fake.wait_for_final(stop, timeout=10)


async def test_settings_apply_and_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with new_fake() as fake:
        bot = await start_bot(fake, tmp_path, data, "first")
        try:
            await check_who_may_use_it(fake)
            await check_private_answers(fake)
            await check_channel_list(fake)
            await check_quiz_seconds(fake)
            before = await settings(fake, "show")
        finally:
            code, seconds = await bot.stop(timeout=10)
        assert code == 0 and seconds < 10, (code, seconds, bot.log[-2000:])
        assert fake.problems() == []
    assert "Answers: private" in before and f"only in <#{QUIET_ID}>" in before
    assert "35 s per question" in before

    async with new_fake() as fake:
        bot = await start_bot(fake, tmp_path, data, "second")
        try:
            after = await settings(fake, "show")
            cleared = await settings(fake, "channels clear")
        finally:
            await bot.stop(timeout=10)
        assert fake.problems() == []
    assert after == before
    assert "in every channel" in cleared
    for log in ("first", "second"):
        text = (tmp_path / f"{log}.log").read_text()
        assert "Traceback" not in text and fake.token not in text, text[-3000:]
