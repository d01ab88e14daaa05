"""Fixtures for the Discord layer's unit tests: the dependencies a bot is given, built on
the core fixtures (a real Tutor on ScriptedBackend and the small fixture knowledge)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Config
from bot.discord_app.deps import BotDeps
from bot.guild_settings import GuildSettingsService
from bot.pipeline import Tutor


@pytest.fixture
def guild_settings() -> Iterator[GuildSettingsService]:
    service = GuildSettingsService.in_memory()
    yield service
    service.close()


@pytest.fixture
def deps(config: Config, tutor: Tutor, guild_settings: GuildSettingsService) -> BotDeps:
    unused: Any = None  # the answers feature never touches the quiz
    return BotDeps(
        config=config,
        tutor=tutor,
        quiz_engine=unused,
        score_store=unused,
        guild_settings=guild_settings,
    )
