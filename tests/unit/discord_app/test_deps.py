"""bot.discord_app.deps: a bot without its BotDeps is refused."""

from __future__ import annotations

import pytest

from bot.discord_app.deps import deps_of

from .fakes import FakeClient


def test_a_bot_without_deps_is_refused() -> None:
    with pytest.raises(TypeError, match="carries no BotDeps"):
        deps_of(FakeClient())
