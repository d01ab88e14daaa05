"""Shards across processes: what build_bot hands discord.py, and who syncs commands.

No network and no model: the bots are built, never started.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from bot.config import load_config
from bot.discord_app.client import (
    InferenceBot,
    ShardedInferenceBot,
    build_bot,
    shard_plan,
    syncs_commands,
)
from bot.discord_app.deps import BotDeps
from bot.guild_settings import GuildSettingsService


def make_bot(env: dict[str, str]) -> Any:
    config = load_config(env=env)
    unused: Any = SimpleNamespace()  # the constructor only reads the config
    deps = BotDeps(
        config=config,
        tutor=unused,
        quiz_engine=unused,
        score_store=unused,
        guild_settings=GuildSettingsService.in_memory(),
    )
    return build_bot(deps)


def test_without_shard_settings_one_connection_that_syncs() -> None:
    bot = make_bot({})
    assert type(bot) is InferenceBot
    assert syncs_commands(bot.deps.config.discord)
    assert shard_plan(bot.deps.config.discord) == "one gateway connection (not sharded)"


def test_a_shard_count_makes_an_auto_sharded_bot_running_them_all() -> None:
    bot = make_bot({"BOT_SHARD_COUNT": "3"})
    assert type(bot) is ShardedInferenceBot
    assert bot.shard_count == 3
    assert bot.shard_ids is None  # discord.py then launches 0..2
    assert syncs_commands(bot.deps.config.discord)
    assert shard_plan(bot.deps.config.discord) == "sharded: all 3 shards"


@pytest.mark.parametrize(
    ("ids", "plan", "syncs"),
    [("0", "shard 0 of 4", True), ("1,3", "shards 1, 3 of 4", False), ("2", "shard 2 of 4", False)],
)
def test_shard_ids_go_to_discord_py_and_only_shard_0_syncs(
    ids: str, plan: str, syncs: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.discord_app.client"):
        bot = make_bot({"BOT_SHARD_COUNT": "4", "BOT_SHARD_IDS": ids})
    assert type(bot) is ShardedInferenceBot
    assert bot.shard_count == 4
    assert bot.shard_ids == [int(i) for i in ids.split(",")]
    assert syncs_commands(bot.deps.config.discord) is syncs
    assert f"this process runs sharded: {plan}" in caplog.text


async def test_a_process_without_shard_0_does_not_sync(caplog: pytest.LogCaptureFixture) -> None:
    bot = make_bot({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "1"})
    with caplog.at_level(logging.INFO, logger="bot.discord_app.client"):
        await bot.sync_commands()  # not logged in: a sync attempt would raise
    assert "not syncing commands" in caplog.text
