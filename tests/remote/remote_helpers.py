"""Helpers for the tests against a real OpenAI-compatible server (fixtures: conftest.py)."""

from __future__ import annotations

from bot.config import Config, load_config
from bot.local_server import LlamaServer, free_port

__all__ = ["GENERATION", "LlamaServer", "free_port", "remote_config"]

# The shared 2 cores are slow: more time than usual per answer (max_tokens stays 100: fewer
# tokens cut the first sentence and leave nothing that passes the check).
GENERATION = {"timeout_s": 120.0}


def remote_config(base_url: str, max_concurrency: int = 1) -> Config:
    """The project's config with model.backend openai at `base_url`."""
    config = load_config()
    model = config.model.model_copy(
        update={"backend": "openai", "base_url": base_url, "max_concurrency": max_concurrency}
    )
    generation = config.generation.model_copy(update=GENERATION)
    return config.model_copy(update={"model": model, "generation": generation})
