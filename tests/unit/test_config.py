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
    assert config.model.n_ctx == ModelConfig().n_ctx
    assert config.generation.max_tokens == 140
    assert config.limits.max_question_chars == 1500
    assert config.discord.dev_guild_ids == ()
    assert config.discord.api_base_url is None


def test_top_level_default_path_is_resolved_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, ""), env={})
    assert config.data_dir == tmp_path.resolve() / "data"


def test_default_path_in_a_given_section_is_resolved(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "knowledge:\n  max_sources: 2\n"), env={})
    assert config.knowledge.dir == tmp_path.resolve() / "knowledge"
    assert config.knowledge.prompts_dir == tmp_path.resolve() / "prompts"


# A section left out of the file still has its default paths resolved against the file's folder.
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


# --- shards across processes (discord.shard_count / shard_ids, BOT_SHARD_COUNT / _IDS)


def test_shards_default_to_unset(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, ""), env={})
    assert config.discord.shard_count is None
    assert config.discord.shard_ids is None


def test_shards_from_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "discord:\n  shard_count: 4\n  shard_ids: [1, 3]\n")
    config = load_config(path, env={})
    assert config.discord.shard_count == 4
    assert config.discord.shard_ids == (1, 3)


@pytest.mark.parametrize(("raw", "ids"), [("0", (0,)), ("1,3", (1, 3)), (" 2 , 0 ", (2, 0))])
def test_env_overrides_shards(tmp_path: Path, raw: str, ids: tuple[int, ...]) -> None:
    path = write_config(tmp_path, "discord:\n  shard_count: 2\n  shard_ids: [1]\n")
    config = load_config(path, env={"BOT_SHARD_COUNT": "4", "BOT_SHARD_IDS": raw})
    assert config.discord.shard_count == 4
    assert config.discord.shard_ids == ids


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"BOT_SHARD_COUNT": "two"},
            r"BOT_SHARD_COUNT: expected a shard count such as 2, got 'two'",
        ),
        ({"BOT_SHARD_COUNT": "1,2"}, r"BOT_SHARD_COUNT: expected a shard count"),
        ({"BOT_SHARD_COUNT": "-2"}, r"BOT_SHARD_COUNT: expected a shard count"),
        ({"BOT_SHARD_COUNT": "0"}, r"BOT_SHARD_COUNT must be at least 1"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "0;1"}, r"BOT_SHARD_IDS: expected comma-sep"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "1,"}, r"BOT_SHARD_IDS: expected comma-sep"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "2"}, r"BOT_SHARD_IDS: shard 2 does not exist"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "1,1"}, r"BOT_SHARD_IDS lists a shard twice"),
        ({"BOT_SHARD_IDS": "0"}, r"BOT_SHARD_IDS needs a shard count"),
    ],
)
def test_bad_shard_env_names_the_variable(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, ""), env=env)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shard_ids: [0]", r"discord\.shard_ids needs a shard count"),
        ("shard_count: 2\n  shard_ids: [0, 2]", r"shard 2 does not exist.*ids are 0\.\.1"),
        ("shard_count: 2\n  shard_ids: [-1]", r"discord\.shard_ids: shard -1 does not exist"),
        ("shard_count: 2\n  shard_ids: []", r"discord\.shard_ids is empty"),
        ("shard_count: 0", r"discord\.shard_count must be at least 1"),
        ("shard_count: two", r"discord\.shard_count: expected an integer"),
        ("shard_count: 2\n  shard_ids: 1", r"discord\.shard_ids: expected a list"),
    ],
)
def test_bad_shard_settings_in_the_file_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, f"discord:\n  {text}\n"), env={})


def test_env_count_checks_the_ids_from_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "discord:\n  shard_count: 4\n  shard_ids: [3]\n")
    with pytest.raises(ConfigError, match=r"discord\.shard_ids: shard 3 .*\(BOT_SHARD_COUNT\)"):
        load_config(path, env={"BOT_SHARD_COUNT": "2"})
