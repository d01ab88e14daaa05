"""The one reader for the project's YAML files, and the one format for their errors.

Every data file (config.yaml, knowledge entries, synonyms, domain terms, models.yaml, prompt
replies, the quiz bank, eval questions) is read by `read_yaml` and checked against a typed
record (`Record`, a frozen pydantic model that rejects unknown keys). A problem is one line:

    <file> (line N): field 'faq[0].a' must be non-empty text

`read_yaml` remembers the line of every mapping key, so a validation error can name the
line of the field it is about (`line_of`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from bot.errors import BotError, KnowledgeError

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built


class LineMap(dict):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self) -> None:
        super().__init__()
        self.line: int | None = None
        self.lines: dict[Any, int] = {}


class _Loader(_BaseLoader):
    pass


def _construct_map(loader: Any, node: yaml.MappingNode) -> Any:
    data = LineMap()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, _ in node.value:
        with contextlib.suppress(TypeError):  # an unhashable key: construct_mapping refused it
            data.lines.setdefault(loader.construct_object(key_node), key_node.start_mark.line + 1)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def where(path: Path | str, line: int | None = None) -> str:
    """How a message names a place in a file: `path` or `path (line N)`."""
    return f"{path} (line {line})" if line else str(path)


def read_yaml(path: Path, error: type[BotError] = KnowledgeError, what: str = "file") -> Any:
    """A file's YAML (mappings as LineMap), or `error` naming the file (and line) that is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise error(f"{path}: cannot be read ({reason})") from None
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        detail = f": {problem}" if problem else ""
        raise error(
            f"{where(path, mark.line + 1 if mark else None)}: not valid YAML{detail}"
        ) from None


def line_of(data: Any, loc: Sequence[str | int]) -> int | None:
    """The line of the deepest key on `loc` that the file has (None: not known, or the top)."""
    line = None
    for key in loc:
        if isinstance(data, LineMap) and key in data.lines:
            line, data = data.lines[key], data[key]
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
            line = data.line if isinstance(data, LineMap) and data.line else line
        else:
            break
    return line


def dotted(loc: Sequence[str | int]) -> str:
    """('faq', 0, 'a') -> 'faq[0].a'."""
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


# --- typed records ------------------------------------------------------------------------


class Record(BaseModel):
    """A data file's record: typed, frozen, unknown keys rejected, no silent coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def problem(message: str) -> PydanticCustomError:
    """A validation problem whose message is shown as is after the field's name."""
    return PydanticCustomError("data", message)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem("must be non-empty text")
    return _clean(value)


def _text_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise problem("must be a list of non-empty texts")
    return tuple(_clean(v) for v in value)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise problem("must be a positive whole number")
    return value


def _positive_number(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value < float("inf")
    ):
        raise problem("must be a positive number")
    return float(value)


def items_of(message: str) -> Callable[[Any], Any]:
    """A before-validator: a YAML list (None: empty) as a tuple, else `message`."""

    def check(value: Any) -> Any:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise problem(message)
        return tuple(value)

    return check


Text = Annotated[str, BeforeValidator(_text)]  # non-empty, whitespace collapsed
TextList = Annotated[tuple[str, ...], BeforeValidator(_text_list)]
PositiveInt = Annotated[int, BeforeValidator(_positive_int)]
PositiveNumber = Annotated[float, BeforeValidator(_positive_number)]


def describe(error: Any) -> str:
    """One pydantic error as this project words a data file's problem."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown field '{dotted(loc[-1:])}'"
    if not loc:
        if kind in ("model_type", "dict_type"):
            return f"expected a mapping of fields, got {type(error['input']).__name__}"
        return error["msg"]
    name = f"field '{dotted(loc)}'"
    if kind == "missing":
        return f"{name} is missing"
    if kind == "data":
        return f"{name} {error['msg']}"
    if kind == "literal_error":
        expected = error["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        return f"{name} must be one of {expected}"
    if kind in ("model_type", "dict_type"):
        return f"{name} must be a mapping"
    if kind in ("tuple_type", "list_type"):
        return f"{name} must be a list"
    return f"{name}: {error['msg']}"


def validate(
    record: type[BaseModel],
    data: Any,
    path: Path | str,
    *,
    label: str = "",
    context: dict[str, Any] | None = None,
    error: type[BotError] = KnowledgeError,
    line: int | None = None,
) -> Any:
    """`data` (read by read_yaml) as a `record`, or `error` naming file, line and field.

    `label` goes between the file and the problem (e.g. "models[3] (llama-3-8b)"); `line`
    is shown when the problem's own line is not known (a record's first line).
    """
    try:
        return record.model_validate(data, context=context)
    except ValidationError as exc:
        # An unknown field first: it is usually a typo, and explains the "missing" one
        # ("definitoin" for "definition").
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        line = line_of(data, first["loc"]) or line
        prefix = f"{label}: " if label else ""
        raise error(f"{where(path, line)}: {prefix}{describe(first)}") from None
