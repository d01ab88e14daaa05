"""bot.config: defaults, environment overrides, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG, ModelConfig, load_config
from bot.errors import ConfigError


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_config_loads_with_its_values() -> None:
    config = load_config(env={})
    assert config.source == DEFAULT_CONFIG
    assert config.model.backend == "llama_cpp"
    assert config.model.path.name.endswith(".gguf")
    assert config.knowledge.dir == DEFAULT_CONFIG.parent / "knowledge"


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, ""), env={})
    assert config.model.n_ctx == ModelConfig.n_ctx
    assert config.generation.max_tokens == 100
    assert config.limits.max_question_chars == 500
    assert config.discord.dev_guild_ids == ()
    assert config.discord.api_base_url is None


def test_top_level_default_path_is_resolved_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, ""), env={})
    assert config.data_dir == tmp_path.resolve() / "data"


def test_default_path_in_a_given_section_is_resolved(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "knowledge:\n  max_sources: 2\n"), env={})
    assert config.knowledge.dir == tmp_path.resolve() / "knowledge"
    assert config.knowledge.prompts_dir == tmp_path.resolve() / "prompts"


# BUG (bot/config.py, _build, lines 148-152): when a whole section is left out of the file,
# its dataclass default_factory() is used as is, so the section's default paths stay relative
# to the current directory (Path("knowledge"), Path("models/...gguf")) instead of being
# resolved against the config file's folder as the other defaults are.
def test_default_paths_of_an_omitted_section_are_resolved(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "data_dir: data\n"), env={})
    assert config.knowledge.dir == tmp_path.resolve() / "knowledge"
    assert config.model.path.is_absolute()


def test_relative_paths_are_resolved_against_the_config_folder(tmp_path: Path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    path = sub / "bot.yaml"
    path.write_text("model:\n  path: weights/m.gguf\nknowledge:\n  dir: ../kb\n", encoding="utf-8")
    config = load_config(path, env={})
    assert config.model.path == sub.resolve() / "weights" / "m.gguf"
    assert config.knowledge.dir == sub.resolve() / ".." / "kb"


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "m.gguf"
    config = load_config(write_config(tmp_path, f"model:\n  path: {target}\n"), env={})
    assert config.model.path == target


def test_file_values_override_defaults(tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path, "model:\n  n_ctx: 4096\ngeneration:\n  temperature: 1\n"), env={}
    )
    assert config.model.n_ctx == 4096
    assert config.generation.temperature == 1.0
    assert isinstance(config.generation.temperature, float)


def test_env_overrides_discord_api_base_url(tmp_path: Path) -> None:
    path = write_config(tmp_path, "discord:\n  api_base_url: http://file.example/api\n")
    config = load_config(path, env={"DISCORD_API_BASE_URL": "http://127.0.0.1:8080/api/v10"})
    assert config.discord.api_base_url == "http://127.0.0.1:8080/api/v10"


def test_env_overrides_discord_gateway_url(tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path, ""), env={"DISCORD_GATEWAY_URL": "ws://127.0.0.1:8080"}
    )
    assert config.discord.gateway_url == "ws://127.0.0.1:8080"


def test_env_overrides_data_dir(tmp_path: Path) -> None:
    target = tmp_path / "state"
    config = load_config(
        write_config(tmp_path, "data_dir: from-file\n"), env={"BOT_DATA_DIR": str(target)}
    )
    assert config.data_dir == target.resolve()


def test_without_env_the_file_values_stay(tmp_path: Path) -> None:
    path = write_config(tmp_path, "discord:\n  api_base_url: http://file.example/api\n")
    config = load_config(path, env={})
    assert config.discord.api_base_url == "http://file.example/api"
    assert config.discord.gateway_url is None


def test_unknown_nested_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model: unknown setting 'n_cxt'"):
        load_config(write_config(tmp_path, "model:\n  n_cxt: 4096\n"), env={})


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'modle'"):
        load_config(write_config(tmp_path, "modle:\n  n_ctx: 4096\n"), env={})


def test_wrong_type_names_the_field_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.n_ctx: expected an integer"):
        load_config(write_config(tmp_path, "model:\n  n_ctx: big\n"), env={})


def test_boolean_is_not_accepted_as_an_integer(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.n_ctx"):
        load_config(write_config(tmp_path, "model:\n  n_ctx: true\n"), env={})


def test_wrong_type_in_a_list_names_the_index(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"discord\.owner_ids\[1\]"):
        load_config(write_config(tmp_path, "discord:\n  owner_ids: [1, two]\n"), env={})


def test_section_that_is_not_a_mapping_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"generation: expected a mapping"):
        load_config(write_config(tmp_path, "generation: 5\n"), env={})


def test_out_of_range_value_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.n_ctx must be at least 256"):
        load_config(write_config(tmp_path, "model:\n  n_ctx: 16\n"), env={})


def test_unknown_backend_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"model\.backend"):
        load_config(write_config(tmp_path, "model:\n  backend: pytorch\n"), env={})


def test_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"config file not found") as info:
        load_config(missing, env={})
    assert str(missing) in str(info.value)


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "model:\n  n_ctx: 2048\n  path: [unclosed\n")
    with pytest.raises(ConfigError, match=r"not valid YAML") as info:
        load_config(path, env={})
    assert str(path) in str(info.value)
    assert "line" in str(info.value)
