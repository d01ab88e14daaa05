"""A real OpenAI-compatible server for the tests in this folder: `python -m llama_cpp.server`
on the default GGUF, started once per session on a free port of 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from remote_helpers import LlamaServer

from bot.config import load_config


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    config = load_config()
    assert config.model.path.is_file(), "default model missing: run `make install`"
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = LlamaServer(config.model.path, config.model.name, log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
