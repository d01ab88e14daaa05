"""The fair queue end to end: questions wait their turn instead of being dropped.

A bot with a tight rate limit (3 model answers per minute) and the default cap of three
open questions per user, driven through the fake Discord with the real model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from e2e_helpers import BotProcess, write_config
from fakediscord.server import FakeDiscord
from test_e2e_answers import embed_of, final_reply, is_final

pytestmark = [pytest.mark.e2e, pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FakeDiscord]:
    tmp: Path = tmp_path_factory.mktemp("e2e-queue")
    async with FakeDiscord() as fake:
        for name in ("pat", "ann", "bob", "dee"):
            fake.add_user(name)
        config = write_config(tmp, limits={"rate_limit_count": 3, "per_user_queued": 3})
        bot = BotProcess(
            {**fake.bot_env(), "BOT_DATA_DIR": str(tmp / "data")}, config, tmp / "bot.log"
        )
        await bot.start()
        try:
            await fake.wait_ready(timeout=60)
            await fake.wait_for_sync(["ask"], timeout=30)
            yield fake
        finally:
            await bot.stop()
            assert "Traceback" not in bot.log, bot.log[-3000:]


async def reply_text(fake: FakeDiscord, message: dict[str, Any]) -> str:
    """The text of the bot's reply to a message, final answer or plain refusal."""

    def answers(m: dict[str, Any]) -> bool:
        reference = m.get("message_reference") or {}
        return reference.get("message_id") == message["id"] and (
            is_final(m) or bool(m.get("content"))
        )

    reply = await fake.wait_for_message(answers, timeout=90)
    return reply.get("content") or embed_of(reply).get("description", "")


async def test_refused_inputs_do_not_count_against_the_rate_limit(env) -> None:
    fake = env
    for odd in ("x" * 5000, "🤖🔥💯", "y" * 4000, "🙂🙂"):
        got = await fake.slash_command("ask", {"question": odd}, user="pat")
        await fake.wait_for_final(got, is_final, timeout=30)
    asked = await fake.slash_command("ask", {"question": "what is a token?"}, user="pat")
    message = await fake.wait_for_final(asked, is_final, timeout=90)
    embed = embed_of(message)
    assert any(f["name"] == "Sources" for f in embed.get("fields", [])), embed
    assert "faster than I can answer" not in embed.get("description", "")


async def test_a_dm_sent_while_a_mention_is_answered_waits_its_turn(env) -> None:
    fake = env
    mention = await fake.user_message("what is the kv cache?", user="dee", mention_bot=True)
    dm = await fake.user_message("what is quantization?", user="dee", dm=True)
    first = await final_reply(fake, mention)
    second = await fake.wait_for_message(
        lambda m: m["channel_id"] == dm["channel_id"] and is_final(m), timeout=90
    )
    assert "key" in embed_of(first)["description"].lower()
    assert "in progress" not in embed_of(second)["description"]
    assert any(f["name"] == "Sources" for f in embed_of(second)["fields"])


async def test_users_take_turns_and_a_fourth_question_is_refused(env) -> None:
    fake = env
    loop = asyncio.get_running_loop()
    ann = [
        await fake.user_message(q, user="ann", mention_bot=True)
        for q in ("what is prefill?", "what is batching?", "what is latency?")
    ]
    fourth = await fake.user_message("what is a gpu?", user="ann", mention_bot=True)
    assert "3 questions waiting" in await reply_text(fake, fourth)
    bob = await fake.user_message("what is a token?", user="bob", mention_bot=True)

    async def finished(message: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        reply = await final_reply(fake, message)
        return loop.time(), reply

    done = await asyncio.gather(*(finished(m) for m in (*ann, bob)))
    ann_done, bob_done = [t for t, _ in done[:3]], done[3][0]
    # Round robin: bob's one question is served before ann's last, not after all of hers.
    # (Which of ann's is last is not fixed: each question's retrieval runs in a thread
    # before it is queued, so her second and third may reach the queue in either order.)
    assert bob_done < max(ann_done), (bob_done, ann_done)
    footers = [
        embed_of(version).get("footer", {}).get("text", "")
        for _, reply in done
        for version in fake.message_versions(reply["id"])
    ]
    assert any("in line" in text for text in footers), footers
