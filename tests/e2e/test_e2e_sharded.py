"""Large deployments: the same bot as an AutoShardedClient (discord.sharded: true), and
shards spread over processes (BOT_SHARD_COUNT, BOT_SHARD_IDS)."""

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


def footer_has_total(message: dict) -> bool:
    return "total " in (message.get("embeds") or [{}])[0].get("footer", {}).get("text", "")


async def test_two_processes_each_answer_the_guild_on_their_shard(tmp_path: Path) -> None:
    fake = FakeDiscord(shard_count=2)
    second_id = fake.guild_id + (1 << 22)  # (id >> 22) % 2: the main guild 0, this one 1
    second_channel = fake.add_guild(second_id, name="Second Guild")
    async with fake:
        config = write_config(tmp_path)  # sharding comes from the environment only
        bots = []
        for shard in (0, 1):
            env = {
                **fake.bot_env(),
                "BOT_SHARD_COUNT": "2",
                "BOT_SHARD_IDS": str(shard),
                "BOT_DATA_DIR": str(tmp_path / f"data-{shard}"),  # no shared storage yet
            }
            log_path = tmp_path / f"bot-{shard}.log"
            bots.append(await BotProcess(env, config, log_path).start())
        try:
            await fake.wait_ready(timeout=180, all_shards=True)  # two model loads, 2 cores
            await fake.wait_for_sync(["ask", "define", "analogy", "quiz"], timeout=30)
            asks = [
                await fake.slash_command("ask", {"question": "what is a token?"}),
                await fake.slash_command(
                    "ask", {"question": "what is latency?"}, channel_id=second_channel["id"]
                ),
            ]
            answers = [await fake.wait_for_final(a, footer_has_total, timeout=120) for a in asks]
        finally:
            codes = [(await bot.stop(timeout=15))[0] for bot in bots]
        logs = [bot.log for bot in bots]
    assert codes == [0, 0], [log[-2000:] for log in logs]
    assert "token" in answers[0]["embeds"][0]["description"].lower()
    assert "latency" in answers[1]["embeds"][0]["description"].lower()
    assert [a.guild_id for a in asks] == [str(fake.guild_id), str(second_id)]
    assert [a.shard for a in asks] == [0, 1]
    for shard, (log, ask, other) in enumerate(zip(logs, asks, reversed(asks), strict=True)):
        assert f"this process runs sharded: shard {shard} of 2" in log
        assert f"shards [{shard}] of 2 connected" in log
        # discord.py logs its own gateway session: the /ask went to this process's.
        assert f"Session ID: {ask.session_id})" in log
        assert other.session_id not in log
    assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
    # Only shard 0's process syncs; with a shard count nobody asks for /gateway/bot.
    assert len(fake.syncs) == 1
    assert "not syncing commands" in logs[1] and "not syncing commands" not in logs[0]
    assert not [e for e in fake.events if e.path.endswith("/gateway/bot")]
    assert fake.problems() == []
