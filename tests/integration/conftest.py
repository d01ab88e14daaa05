"""Fixtures that run the real default model (models/SmolLM2-135M-Instruct.Q4_1.gguf)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.pipeline import Tutor


@pytest.fixture
def project_config() -> Config:
    config = load_config()
    assert config.model.path.is_file(), "default model missing: run `make install`"
    return config


def with_prompts(config: Config, prompts_dir: Path, temperature: float | None = None) -> Config:
    knowledge = dataclasses.replace(config.knowledge, prompts_dir=prompts_dir)
    generation = config.generation
    if temperature is not None:
        generation = dataclasses.replace(generation, temperature=temperature)
    return dataclasses.replace(config, knowledge=knowledge, generation=generation)


@pytest.fixture
async def tutor(project_config: Config) -> AsyncIterator[Tutor]:
    t = Tutor.from_config(project_config)
    await t.start()
    yield t
    t.close()
