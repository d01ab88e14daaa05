"""Fixtures for the answers cog's tests: a fake client with the cog loaded on the core
fixtures (a real Tutor on ScriptedBackend)."""

from __future__ import annotations

import pytest

from bot.discord_app.cogs.answers import AnswersCog
from bot.discord_app.deps import BotDeps

from ...fakes import FakeClient


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
def cog(client: FakeClient, deps: BotDeps) -> AnswersCog:
    cog = AnswersCog(client, deps)  # type: ignore[arg-type]
    client.cogs["Answers"] = cog
    return cog
