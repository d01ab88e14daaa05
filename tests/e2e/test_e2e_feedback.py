"""Feedback buttons through the fake Discord: a vote, a restart, a changed vote, the report."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import PROJECT, BotProcess, write_config
from fakediscord.server import FakeDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.model, pytest.mark.asyncio]

QUESTION = "What is inference?"


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row["components"]]


def is_final(message: dict[str, Any]) -> bool:
    embeds = message.get("embeds") or [{}]
    return "total " in embeds[0].get("footer", {}).get("text", "")


async def start_bot(fake: FakeDiscord, config: Path, data: Path, log: Path) -> BotProcess:
    before = fake.ready_sessions
    bot = await BotProcess({**fake.bot_env(), "BOT_DATA_DIR": str(data)}, config, log).start()
    await fake.wait_until(lambda: fake.ready_sessions > before, timeout=90, what="READY")
    await fake.wait_for_sync(["ask", "gaps"], timeout=30)
    return bot


async def gaps_json(config: Path, data: Path) -> dict[str, Any]:
    """`python -m bot gaps --json` as a curator runs it (async: the fake shares this loop)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        "gaps",
        "--json",
        cwd=PROJECT,
        env={**os.environ, "BOT_DATA_DIR": str(data)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


def group_of(report: dict[str, Any], question: str) -> dict[str, Any] | None:
    return next((g for g in report["groups"] if question in g["examples"]), None)


async def press(fake: FakeDiscord, message: dict[str, Any], custom_id: str) -> str:
    interaction = await fake.press_button(message["id"], custom_id, user="alice")
    callback = await fake.wait_for_callback(interaction, timeout=10)
    assert callback.accepted and callback.elapsed < 3.0
    assert callback.type == 4 and callback.data["flags"] & 64  # private to the voter
    return callback.data["content"]


async def test_votes_survive_a_restart_and_reach_the_gaps_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path)
    async with FakeDiscord() as fake:
        fake.add_user("mallory")
        alice_id = next(u["id"] for u in fake.users.values() if u["username"] == "alice")
        bot = await start_bot(fake, config, data, tmp_path / "first.log")
        try:
            interaction = await fake.slash_command("ask", {"question": QUESTION}, user="alice")
            answer = await fake.wait_for_final(interaction, is_final, timeout=90)
            by_label = {b["label"]: b["custom_id"] for b in buttons(answer)}
            assert by_label["Helpful"].startswith("feedback:")
            assert by_label["Not helpful"].startswith("feedback:")
            # The related-entry buttons share the view, on their own row.
            assert any(cid.startswith("related:") for cid in by_label.values())
            assert len(answer["components"]) == 2
            assert await press(fake, answer, by_label["Not helpful"]) == "Thanks — noted."
        finally:
            code, _ = await bot.stop(timeout=15)
        assert code == 0, bot.log[-2000:]

        report = await gaps_json(config, data)
        assert group_of(report, QUESTION)["reasons"]["not_helpful"] == 1

        bot = await start_bot(fake, config, data, tmp_path / "second.log")
        try:
            changed = await press(fake, answer, by_label["Helpful"])
            assert changed == "Changed your vote to helpful."
            assert await press(fake, answer, by_label["Helpful"]) == "Thanks — noted."
            refused = await fake.slash_command("gaps", user="mallory")
            callback = await fake.wait_for_callback(refused)
            assert callback.data["flags"] & 64 and "owner" in callback.data["content"]
            owner = await fake.slash_command("gaps", user="owner")
            message = await fake.wait_for_final(owner, timeout=20)
            assert message.get("flags", 0) & 64 and len(message["content"]) <= 2000
        finally:
            code, _ = await bot.stop(timeout=15)
        assert code == 0, bot.log[-2000:]
        assert fake.problems() == []
        for log in (tmp_path / "first.log", tmp_path / "second.log"):
            assert "Traceback" not in log.read_text(errors="replace")

    db = data / "feedback.sqlite3"
    raw = sqlite3.connect(db)
    votes = raw.execute("SELECT answer_id, helpful FROM votes").fetchall()
    raw.close()
    answer_id = int(by_label["Helpful"].split(":")[1])
    assert votes == [(answer_id, 1)]  # one vote, changed, for alice
    stored = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith(db.name))
    assert alice_id.encode() not in stored
    report = await gaps_json(config, data)
    group = group_of(report, QUESTION)
    assert group is None or group["reasons"]["not_helpful"] == 0
