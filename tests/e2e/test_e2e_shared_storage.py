"""Two bot processes on one PostgreSQL database (BOT_DATABASE_URL): a quiz game played in
each, through two fake Discords that both hold the same guild, lands in one leaderboard
that either process shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_helpers import PROJECT, BotProcess, write_config
from fakediscord.server import FakeDiscord
from sqlalchemy.engine import make_url
from test_e2e_quiz import buttons, correct_custom_id, leaderboard_text

from bot.quiz import load_bank

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
PASSWORD = "never-in-a-log-7f3a"


def is_over(message: dict) -> bool:
    return (message.get("embeds") or [{}])[0].get("title", "").startswith("Quiz over")


async def play_one_question(fake: FakeDiscord, bank, user: str) -> None:  # type: ignore[no-untyped-def]
    start = await fake.slash_command("quiz", {"questions": 1}, subcommand="start", user=user)
    question = await fake.wait_for_final(start, lambda m: bool(buttons(m)), timeout=15)
    right, _ = correct_custom_id(bank, question)
    press = await fake.press_button(question["id"], right, user=user)
    assert (await fake.wait_for_callback(press)).accepted
    over = await fake.wait_for_message(is_over, timeout=20)
    assert over["embeds"][0]["description"].lower().startswith(f"1. {user}")


async def test_two_processes_share_one_leaderboard(tmp_path: Path, postgres_url: str) -> None:
    bank = load_bank(PROJECT / "knowledge" / "quiz")
    config = write_config(tmp_path, quiz={"question_seconds": 4})
    # The test server trusts 127.0.0.1, so a password is accepted and must never be logged.
    url = make_url(postgres_url).set(password=PASSWORD).render_as_string(hide_password=False)
    async with FakeDiscord() as first, FakeDiscord() as second:
        assert first.guild_id == second.guild_id  # the same server, seen by both processes
        bots = []
        for n, fake in enumerate((first, second)):
            env = {
                **fake.bot_env(),
                "BOT_DATA_DIR": str(tmp_path / f"data-{n}"),
                "BOT_DATABASE_URL": url,
            }
            bots.append(await BotProcess(env, config, tmp_path / f"bot-{n}.log").start())
        try:
            for fake in (first, second):
                await fake.wait_ready(timeout=180)  # two model loads on 2 cores
                await fake.wait_for_sync(["quiz"], timeout=30)
            await play_one_question(first, bank, "alice")
            await play_one_question(second, bank, "bob")
            boards = [(await leaderboard_text(fake)).lower() for fake in (first, second)]
        finally:
            codes = [(await bot.stop(timeout=15))[0] for bot in bots]
        problems = first.problems() + second.problems()
    logs = [bot.log for bot in bots]
    assert codes == [0, 0], [log[-2000:] for log in logs]
    assert problems == []
    for board in boards:
        assert "alice" in board and "bob" in board, boards
    assert boards[0] == boards[1]
    for n in (0, 1):  # nothing of the quiz or the settings went to the SQLite files
        data = tmp_path / f"data-{n}"
        assert not (data / "quiz.sqlite3").exists() and not (data / "settings.sqlite3").exists()
    assert all(PASSWORD not in log and "bot:***@127.0.0.1" in log for log in logs)
