"""Fixtures that run the real default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Config, load_config
from bot.pipeline import Tutor


@pytest.fixture
def project_config() -> Config:
    config = load_config()
    assert config.model.path.is_file(), "default model missing: run `make install`"
    return config


@pytest.fixture
async def tutor(project_config: Config) -> AsyncIterator[Tutor]:
    t = Tutor.from_config(project_config)
    await t.start()
    yield t
    t.close()
