"""Slash commands, mentions and DMs through the real discord.py client and the real model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from e2e_helpers import BotProcess, write_config
from fakediscord.server import FakeDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

FINAL = "tokens used"  # the figures footer appears only on a finished answer


def embed_of(message: dict[str, Any]) -> dict[str, Any]:
    embeds = message.get("embeds") or []
    return embeds[0] if embeds else {}


def is_final(message: dict[str, Any]) -> bool:
    footer = embed_of(message).get("footer", {}).get("text", "")
    return "total " in footer


def text_of(message: dict[str, Any]) -> str:
    embed = embed_of(message)
    parts = [message.get("content") or "", embed.get("title", ""), embed.get("description", "")]
    parts += [f.get("value", "") for f in embed.get("fields", [])]
    return "\n".join(parts)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[FakeDiscord, BotProcess]]:
    tmp: Path = tmp_path_factory.mktemp("e2e-answers")
    async with FakeDiscord() as fake:
        for i in range(8):
            fake.add_user(f"user{i}")
        for name in ("carol", "dave", "erin", "frank", "grace", "heidi"):
            fake.add_user(name)
        config = write_config(tmp)
        bot = BotProcess(
            {**fake.bot_env(), "BOT_DATA_DIR": str(tmp / "data")}, config, tmp / "bot.log"
        )
        await bot.start()
        try:
            await fake.wait_ready(timeout=60)
            await fake.wait_for_sync(["ask", "define", "analogy", "quiz"], timeout=30)
            yield fake, bot
        finally:
            await bot.stop()
            log = bot.log
            assert fake.token not in log, "the token leaked into the log"
            assert "Traceback" not in log, log[-3000:]


async def final_reply(fake: FakeDiscord, message: dict[str, Any]) -> dict[str, Any]:
    """The bot's finished answer to a user's message (a reply referencing it)."""

    def answers(m: dict[str, Any]) -> bool:
        reference = m.get("message_reference") or {}
        return reference.get("message_id") == message["id"] and is_final(m)

    return await fake.wait_for_message(answers, timeout=60)


async def ask(fake: FakeDiscord, name: str, options: dict[str, Any], user: str = "alice") -> dict:
    interaction = await fake.slash_command(name, options, user=user)
    message = await fake.wait_for_final(interaction, is_final, timeout=60)
    assert interaction.ack_elapsed is not None and interaction.ack_elapsed < 3.0
    return {"interaction": interaction, "message": message}


async def test_commands_are_synced_with_descriptions(env) -> None:
    fake, _ = env
    commands = fake.commands
    for name in ("ask", "define", "analogy", "quiz", "reload"):
        assert name in commands, sorted(commands)
        assert commands[name]["description"]
    ask_option = commands["ask"]["options"][0]
    assert ask_option["name"] == "question" and ask_option["description"]
    assert {o["name"] for o in commands["quiz"]["options"]} == {"start", "stop", "leaderboard"}


async def test_ask_is_grounded_with_sources_and_figures(env) -> None:
    fake, _ = env
    got = await ask(fake, "ask", {"question": "What is inference?"})
    assert got["interaction"].response_type == 5  # deferred: "thinking" first
    embed = embed_of(got["message"])
    assert "trained model" in embed["description"]
    sources = next(f for f in embed["fields"] if f["name"] == "Sources")
    assert "inference" in sources["value"]
    assert "first token" in embed["footer"]["text"] and "tokens/s" in embed["footer"]["text"]
    buttons = [c for row in got["message"].get("components", []) for c in row["components"]]
    related = [b for b in buttons if b["custom_id"].startswith("related:")]
    assert 1 <= len(related) <= 3
    votes = [b["label"] for b in buttons if b["custom_id"].startswith("feedback:")]
    assert votes == ["Helpful", "Not helpful"]
    assert len(buttons) == len(related) + 2


async def test_related_button_explains_that_entry_to_the_presser(env) -> None:
    fake, _ = env
    got = await ask(fake, "ask", {"question": "what does the kv cache store?"}, user="carol")
    button = got["message"]["components"][0]["components"][0]
    press = await fake.press_button(got["message"]["id"], button["custom_id"], user="bob")
    callback = await fake.wait_for_callback(press)
    assert callback.elapsed < 3.0
    # After a "thinking" defer, the first followup replaces the loading message.
    answer = await fake.wait_for_final(
        press, lambda m: bool(embed_of(m).get("description")), timeout=30
    )
    assert answer.get("flags", 0) & 64  # ephemeral: only the presser sees it
    entry_id = button["custom_id"].removeprefix("related:")
    assert entry_id in embed_of(answer)["fields"][0]["value"]


async def test_define_autocomplete_and_answer(env) -> None:
    fake, _ = env
    choices = await fake.autocomplete("define", "term", "quant")
    assert choices and all("quant" in c["name"].lower() for c in choices)
    assert len(choices) <= 25
    got = await ask(fake, "define", {"term": "GGUF"}, user="dave")
    assert "llama.cpp" in embed_of(got["message"])["description"]


async def test_analogy(env) -> None:
    fake, _ = env
    got = await ask(fake, "analogy", {"concept": "memory bandwidth"}, user="dave")
    description = embed_of(got["message"])["description"]
    assert description.split()[0] in ("Think", "Imagine", "It")


async def test_eight_at_once_are_all_acknowledged_and_answered(env) -> None:
    fake, _ = env
    questions = [
        "what is a token?",
        "why is a gpu faster than a cpu?",
        "what is quantization?",
        "what is batching?",
        "what is latency?",
        "what is prefill?",
        "what is llama.cpp?",
        "what is a context window?",
    ]
    interactions = await asyncio.gather(
        *(
            fake.slash_command("ask", {"question": q}, user=f"user{i}")
            for i, q in enumerate(questions)
        )
    )
    finals = await asyncio.gather(
        *(fake.wait_for_final(i, is_final, timeout=120) for i in interactions)
    )
    for interaction in interactions:
        assert interaction.ack_elapsed is not None and interaction.ack_elapsed < 3.0
    for message in finals:
        assert any(f["name"] == "Sources" for f in embed_of(message)["fields"])
    # While the model worked through the others, later askers saw their place in line.
    footers = [
        embed_of(version).get("footer", {}).get("text", "")
        for message in finals
        for version in fake.message_versions(message["id"])
    ]
    assert any("in line" in text for text in footers), footers


async def test_mention_and_dm_are_answered_as_replies(env) -> None:
    fake, _ = env
    mention = await fake.user_message("what is the kv cache?", user="alice", mention_bot=True)
    reply = await final_reply(fake, mention)
    assert "key" in embed_of(reply)["description"].lower()
    dm = await fake.user_message("what is quantization?", user="bob", dm=True)
    dm_reply = await fake.wait_for_message(
        lambda m: m["channel_id"] == dm["channel_id"] and is_final(m), timeout=60
    )
    assert "bits" in embed_of(dm_reply)["description"].lower()


async def test_reply_follow_up_keeps_the_topic(env) -> None:
    fake, _ = env
    first = await fake.user_message("what is quantization?", user="user3", mention_bot=True)
    answer = await final_reply(fake, first)
    follow = await fake.user_message(
        "give me an example", user="user3", reference_message_id=answer["id"]
    )
    reply = await final_reply(fake, follow)
    assert "Quantization" in text_of(reply)


@pytest.mark.parametrize(
    "question, needle",
    [("x" * 5000, "too long"), ("🤖🔥💯", "couldn't find a question"), ("", "Ask me something")],
)
async def test_odd_input_gets_a_short_clear_answer(env, question: str, needle: str) -> None:
    fake, _ = env
    got = await ask(
        fake, "ask", {"question": question} if question else {"question": " "}, user="erin"
    )
    description = embed_of(got["message"])["description"]
    assert needle in description
    assert len(description) < 400


async def test_no_ping_is_possible(env) -> None:
    fake, _ = env
    await ask(
        fake, "ask", {"question": "@everyone what is inference? <@&1300000000000000009>"}, "frank"
    )
    mention = await fake.user_message(
        "@here what is a token? @everyone", user="frank", mention_bot=True
    )
    await final_reply(fake, mention)
    for event in fake.events:
        body = getattr(event, "json", None)
        sends = event.kind == "http" and event.method in ("POST", "PATCH")
        if sends and isinstance(body, dict) and ("content" in body or "embeds" in body):
            allowed = body.get("allowed_mentions")
            assert allowed is not None and allowed.get("parse") == [], (event.path, allowed)


async def test_the_connection_stayed_healthy(env) -> None:
    fake, _ = env
    gaps = fake.heartbeat_gaps()
    assert len(gaps) >= 5
    assert max(gaps) < 3.0, gaps
    assert fake.problems() == []


async def test_rate_limit_answers_privately_and_politely(env) -> None:
    fake, _ = env
    for _ in range(6):  # the configured limit: 6 questions per 60 s
        await ask(fake, "ask", {"question": "what is a token?"}, user="grace")
    over = await fake.slash_command("ask", {"question": "what is a token?"}, user="grace")
    callback = await fake.wait_for_callback(over)
    assert callback.accepted and callback.elapsed < 3.0
    assert callback.type == 4 and callback.data["flags"] & 64  # a private first response
    assert "wait" in callback.data["content"].lower()


async def test_reload_is_for_the_owner_only(env) -> None:
    fake, _ = env
    refused = await fake.slash_command("reload", user="heidi")
    callback = await fake.wait_for_callback(refused)
    assert callback.accepted and callback.data["flags"] & 64
    assert "owner" in callback.data["content"]
    reload = await fake.slash_command("reload", user="owner")
    message = await fake.wait_for_final(reload, lambda m: "Reloaded" in (m.get("content") or ""))
    assert "knowledge entries" in message["content"]
    assert message.get("flags", 0) & 64
