"""Large deployments: the same bot as an AutoShardedClient (discord.sharded: true)."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_helpers import BotProcess, write_config
from fakediscord.server import FakeDiscord

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


async def test_sharded_bot_connects_syncs_and_answers(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        config = write_config(tmp_path, discord={"sharded": True})
        env = {**fake.bot_env(), "BOT_DATA_DIR": str(tmp_path / "data")}
        bot = await BotProcess(env, config, tmp_path / "bot.log").start()
        try:
            await fake.wait_ready(timeout=60)
            await fake.wait_for_sync(["ask", "define", "analogy", "quiz"], timeout=30)
            # AutoShardedClient asks REST for the gateway URL and shard count first.
            await fake.wait_for_request("GET", r"^/gateway/bot")
            interaction = await fake.slash_command("ask", {"question": "what is a token?"})
            message = await fake.wait_for_final(
                interaction,
                lambda m: "total "
                in (m.get("embeds") or [{}])[0].get("footer", {}).get("text", ""),
                timeout=60,
            )
            assert "token" in message["embeds"][0]["description"].lower()
        finally:
            code, _ = await bot.stop(timeout=10)
        assert code == 0, bot.log[-2000:]
        assert fake.problems() == []
