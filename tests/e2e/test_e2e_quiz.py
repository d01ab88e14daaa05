"""A quiz through the fake Discord: two players, buttons, the end, and a restart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import PROJECT, BotProcess, write_config
from fakediscord.server import FakeDiscord

from bot.quiz import QuizBank, load_bank

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row["components"]]


def correct_custom_id(bank: QuizBank, message: dict[str, Any]) -> tuple[str, str]:
    """(right, wrong) custom ids for the question shown in `message`."""
    text = message["embeds"][0]["description"].split("\n")[0]
    question = next(q for q in bank.questions if q.question == text)
    right = wrong = None
    for button in buttons(message):
        label = button["label"].split(". ", 1)[1].rstrip("…")
        if question.answer.startswith(label):
            right = button["custom_id"]
        else:
            wrong = button["custom_id"]
    assert right and wrong, (question.answer, [b["label"] for b in buttons(message)])
    return right, wrong


async def leaderboard_text(fake: FakeDiscord) -> str:
    interaction = await fake.slash_command("quiz", subcommand="leaderboard", user="alice")
    message = await fake.wait_for_final(interaction, timeout=10)
    assert interaction.ack_elapsed is not None and interaction.ack_elapsed < 3.0
    return message["embeds"][0]["description"]


async def start_bot(fake: FakeDiscord, tmp: Path, data: Path, name: str) -> BotProcess:
    config = write_config(tmp, quiz={"question_seconds": 4})
    env = {**fake.bot_env(), "BOT_DATA_DIR": str(data)}
    bot = await BotProcess(env, config, tmp / f"{name}.log").start()
    await fake.wait_ready(timeout=60)
    await fake.wait_for_sync(["quiz"], timeout=30)
    return bot


async def test_quiz_game_scores_and_leaderboard_survive_a_restart(tmp_path: Path) -> None:
    bank = load_bank(PROJECT / "knowledge" / "quiz")
    data = tmp_path / "data"
    async with FakeDiscord() as fake:
        bot = await start_bot(fake, tmp_path, data, "first")
        try:
            start = await fake.slash_command(
                "quiz", {"questions": 2}, subcommand="start", user="alice"
            )
            question = await fake.wait_for_final(start, lambda m: bool(buttons(m)), timeout=10)
            assert start.ack_elapsed is not None and start.ack_elapsed < 3.0
            for number in (1, 2):
                right, wrong = correct_custom_id(bank, question)
                press_a = await fake.press_button(question["id"], right, user="alice")
                press_b = await fake.press_button(question["id"], wrong, user="bob")
                again = await fake.press_button(question["id"], wrong, user="alice")
                for press in (press_a, press_b, again):
                    callback = await fake.wait_for_callback(press)
                    assert callback.accepted and callback.elapsed < 3.0
                assert "already" in again.response.data["content"].lower()
                closed = await fake.wait_for_message(
                    lambda m, n=number: (m.get("embeds") or [{}])[0].get("title")
                    == f"Question {n}/2 closed",
                    timeout=15,
                )
                assert "alice" in closed["embeds"][0]["description"].lower()
                # the question's buttons are disabled once it closes
                await fake.wait_until(
                    lambda q=question: all(
                        b.get("disabled") for b in buttons(fake.messages[q["id"]])
                    ),
                    timeout=10,
                    what="disabled buttons",
                )
                if number == 1:
                    question = await fake.wait_for_message(
                        lambda m: (m.get("embeds") or [{}])[0].get("title") == "Quiz question 2/2"
                        and bool(buttons(m)),
                        timeout=15,
                    )
            over = await fake.wait_for_message(
                lambda m: (m.get("embeds") or [{}])[0].get("title", "").startswith("Quiz over"),
                timeout=15,
            )
            assert over["embeds"][0]["description"].lower().startswith("1. alice")
            before = await leaderboard_text(fake)
            assert before.lower().startswith("1. alice") and "bob" in before.lower()
        finally:
            code, seconds = await bot.stop(timeout=10)
        assert code == 0 and seconds < 10, (code, seconds, bot.log[-2000:])
        assert fake.problems() == []

    async with FakeDiscord() as fake:
        bot = await start_bot(fake, tmp_path, data, "second")
        try:
            after = await leaderboard_text(fake)
        finally:
            await bot.stop(timeout=10)
    assert after == before


async def test_quiz_stop_by_someone_else_is_refused_politely(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        fake.add_user("carol")  # a plain member: neither the starter nor a moderator
        bot = await start_bot(fake, tmp_path, tmp_path / "data", "stop")
        try:
            start = await fake.slash_command(
                "quiz", {"questions": 3}, subcommand="start", user="alice"
            )
            await fake.wait_for_final(start, lambda m: bool(buttons(m)), timeout=10)
            refused = await fake.slash_command("quiz", subcommand="stop", user="carol")
            callback = await fake.wait_for_callback(refused)
            assert callback.accepted and callback.data["flags"] & 64
            assert "started this quiz" in callback.data["content"]
            t0 = time.monotonic()
            stopped = await fake.slash_command("quiz", subcommand="stop", user="alice")
            message = await fake.wait_for_final(stopped, timeout=10)
            assert message["embeds"][0]["title"] == "Quiz stopped"
            assert time.monotonic() - t0 < 10
        finally:
            await bot.stop(timeout=10)
        assert fake.problems() == []
