"""bot.backend: the registry that turns model.backend into a backend."""

from __future__ import annotations

import pytest

from bot import backend as backend_module
from bot.backend import BACKENDS, LlamaCppBackend, make_backend
from bot.config import BACKEND_NAMES, GenerationConfig, ModelConfig, load_config
from bot.errors import ConfigError
from bot.openai_backend import OpenAIBackend


def test_the_registry_names_the_documented_backends() -> None:
    assert set(BACKENDS) == {"llama_cpp", "openai"} == set(BACKEND_NAMES)


def test_llama_cpp_is_built_with_the_generation_seed() -> None:
    backend = make_backend(ModelConfig(), GenerationConfig(seed=11))
    assert isinstance(backend, LlamaCppBackend)
    assert backend.seed == 11 and backend.llm is None  # built, not loaded


def test_openai_is_built_with_its_server_and_limits() -> None:
    model = ModelConfig(backend="openai", base_url="http://127.0.0.1:9/v1/", max_concurrency=3)
    backend = make_backend(model, GenerationConfig())
    try:
        assert isinstance(backend, OpenAIBackend)
        assert backend.base_url == "http://127.0.0.1:9/v1" and backend.max_concurrency == 3
    finally:
        backend.close()


def test_an_unknown_backend_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"'vllm'.*known backends: llama_cpp, openai"):
        make_backend(ModelConfig(backend="vllm"), GenerationConfig())


def test_a_registered_factory_is_used_but_the_config_lists_the_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    built = []

    def factory(model: ModelConfig, generation: GenerationConfig) -> object:
        built.append((model.name, generation.max_tokens))
        return "a backend"

    monkeypatch.setitem(backend_module.BACKENDS, "echo", factory)
    assert make_backend(ModelConfig(backend="echo", name="e"), GenerationConfig()) == "a backend"
    assert built == [("e", GenerationConfig().max_tokens)]
    path = tmp_path / "config.yaml"
    path.write_text("model:\n  backend: echo\n")
    with pytest.raises(ConfigError, match=r"model\.backend must be one of llama_cpp, openai"):
        load_config(path, env={})  # a new backend is also named in bot.config.BACKEND_NAMES
