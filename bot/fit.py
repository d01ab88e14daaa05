"""Memory and speed calculator: "can I run model X on hardware Y?"

Pure arithmetic over knowledge/models.yaml (architecture figures from each model's
config.json, bits per weight of llama.cpp's quantization types, bytes per KV cache element):

    weights_gb   = params x bits_per_weight / 8 / 1e9
    kv_cache_gb  = 2 (K and V) x layers x kv_heads x head_dim x ctx x bytes_per_element / 1e9
    total_gb     = weights_gb + kv_cache_gb + overhead (OVERHEAD_FIXED_GB + OVERHEAD_FRACTION)
    tokens/s    <= bandwidth_GBps / (active_params x bits_per_weight / 8 / 1e9)

`estimate` backs `python -m bot fit`; `parse_fit_question` and `answer_text` turn a chat
question ("can I run llama 3 8b on 8gb vram?") into a short, grounded answer. No discord, no
llama_cpp: everything here is a pure function of its inputs and the data file.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from bot.config import PROJECT_ROOT
from bot.datafile import (
    LineMap,
    PositiveInt,
    PositiveNumber,
    Record,
    Text,
    TextList,
    line_of,
    problem,
    read_yaml,
    validate,
    where,
)
from bot.errors import BotError, KnowledgeError
from bot.retrieval import is_yes_no
from bot.text import asked_part

DEFAULT_MODELS_PATH = PROJECT_ROOT / "knowledge" / "models.yaml"

GB = 1e9  # every "GB" here is 10^9 bytes; GiB (2^30) is shown next to it in explanations
GIB = 2**30

# The one place for the memory assumptions. Compute buffers, the CUDA/Metal context and
# scratch space come on top of weights and KV cache; 0.5 GB + 5% is a rule of thumb for
# llama.cpp with its default batch size (bigger batches need bigger compute buffers).
OVERHEAD_FIXED_GB = 0.5
OVERHEAD_FRACTION = 0.05

DEFAULT_QUANT = "Q4_K_M"
DEFAULT_CTX = 4096
DEFAULT_KV_TYPE = "f16"

# macOS lets the GPU wire only part of unified memory by default; llama.cpp logs it as
# recommendedMaxWorkingSetSize (about 2/3 of RAM on small Macs, about 3/4 on large ones).
MAC_GPU_SHARE_SMALL = 2 / 3
MAC_GPU_SHARE_LARGE = 3 / 4
MAC_SMALL_LIMIT_GB = 36

# The quantizations an answer suggests when the asked one does not fit (or a better one does).
SUGGESTED_QUANTS = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K")

MODEL_ID = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")


class FitError(BotError):
    """A fit request names an unknown model or type, or gives an impossible number."""


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    aliases: tuple[str, ...]
    params_b: float
    active_params_b: float
    layers: int
    n_heads: int
    kv_heads: int
    head_dim: int
    context: int
    source: str
    kv_values_per_token_layer: int | None = None
    note: str | None = None

    @property
    def is_moe(self) -> bool:
        return self.active_params_b < self.params_b

    @property
    def kv_values(self) -> int:
        """Values cached per token per layer: K and V for every KV head, unless overridden."""
        return self.kv_values_per_token_layer or 2 * self.kv_heads * self.head_dim


@dataclass(frozen=True)
class QuantType:
    name: str
    bits_per_weight: float
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class KvType:
    name: str
    bytes_per_element: float


@dataclass(frozen=True)
class Catalog:
    models: dict[str, ModelSpec]
    quants: dict[str, QuantType]
    kv_types: dict[str, KvType]
    quant_source: str
    kv_source: str
    path: Path
    _keys: dict[str, str] = field(repr=False, default_factory=dict)
    _phrases: tuple[tuple[re.Pattern[str], str, bool], ...] = field(repr=False, default=())

    def find_model(self, name: str) -> ModelSpec | None:
        """The model an id, name, alias or file name means; forgiving about case and
        separators ("Llama-3-8B", "llama3 8b", "llama3:8b-instruct-q4_K_M.gguf")."""
        for candidate in (_key(name), _key(_strip_suffixes(name))):
            if candidate in self._keys:
                return self.models[self._keys[candidate]]
        return None

    def model(self, name: str) -> ModelSpec:
        spec = self.find_model(name)
        if spec is not None:
            return spec
        close = difflib.get_close_matches(_key(name), list(self._keys), n=8, cutoff=0.6)
        ids = list(dict.fromkeys(self._keys[k] for k in close))[:4]
        hint = f"; close matches: {', '.join(ids)}" if ids else ""
        raise FitError(
            f"unknown model '{name}'{hint}. For a model not in {self.path.name}, "
            "give its size with --params N (billions)"
        )

    def find_quant(self, name: str) -> QuantType | None:
        wanted = re.sub(r"[\s-]", "", name.strip().lower()).removesuffix("s")
        for q in self.quants.values():
            if wanted == q.name.lower() or wanted in q.aliases:
                return q
        return None

    def quant(self, name: str) -> QuantType:
        q = self.find_quant(name)
        if q is None:
            raise FitError(f"unknown quantization '{name}'; known: {', '.join(self.quants)}")
        return q

    def kv_type(self, name: str) -> KvType:
        kv = self.kv_types.get(name.strip().lower())
        if kv is None:
            raise FitError(f"unknown KV cache type '{name}'; known: {', '.join(self.kv_types)}")
        return kv

    def nearest_dense(self, params_b: float) -> ModelSpec:
        """The dense model closest in size: a typical shape for a model we do not know."""
        dense = [m for m in self.models.values() if not m.is_moe]
        return min(dense, key=lambda m: (abs(math.log(m.params_b / params_b)), m.id))


def _key(name: str) -> str:
    """Lookup key: lowercase letters and digits only ("Llama-3.1 8B" -> "llama318b")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


_SUFFIX_TOKENS = frozenset({"instruct", "chat", "it", "base", "hf", "gguf", "latest", "model"})
_QUANT_TOKEN = re.compile(r"^(i?q\d(_[0-9a-z]+)*|f16|bf16|f32|fp16|fp32)$")


def _strip_suffixes(name: str) -> str:
    """Drop what is not part of a model's name: -instruct, :latest, q4_k_m, .gguf."""
    text = re.sub(r"\.gguf$", "", name.strip().lower())
    tokens = [t for t in re.split(r"[\s:/-]+", text) if t]
    kept = [t for t in tokens if t not in _SUFFIX_TOKENS and not _QUANT_TOKEN.match(t)]
    return " ".join(kept)


def _spaced(text: str) -> str:
    """Free text normalized for phrase search: lowercase, separators as spaces, a name and
    its version apart ("Llama3.1:8B" -> "llama 3.1 8b", "qwen2.5-coder" -> "qwen 2.5 coder")."""
    text = re.sub(r"[_:/\\,;()\[\]{}!?\"'`*-]+", " ", text.lower())
    text = re.sub(r"([a-z]{2,})(\d)", r"\1 \2", text)
    return " ".join(text.split())


_SIZE_IN_ALIAS = re.compile(r"\d+(\.\d+)?[bm]\b|\d+x\d+b")


def _phrase(alias: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9.])" + re.escape(_spaced(alias)) + r"(?![a-z0-9]|\.\d)")


# --- models.yaml as typed records ----------------------------------------------------------


class ModelRecord(Record):
    """One entry of `models`: architecture figures from the model's config.json."""

    id: Text
    name: Text
    aliases: TextList
    params_b: PositiveNumber
    active_params_b: PositiveNumber
    layers: PositiveInt
    n_heads: PositiveInt
    kv_heads: PositiveInt
    head_dim: PositiveInt
    context: PositiveInt
    source: Text
    kv_values_per_token_layer: PositiveInt | None = None
    note: Text | None = None


class QuantRecord(Record):
    name: Text
    bits_per_weight: PositiveNumber
    aliases: TextList = ()


class KvRecord(Record):
    name: Text
    bytes_per_element: PositiveNumber


def _types(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise problem("must be a non-empty list")
    return tuple(value)


class QuantSection(Record):
    source: Text
    types: Annotated[tuple[QuantRecord, ...], BeforeValidator(_types)]


class KvSection(Record):
    source: Text
    types: Annotated[tuple[KvRecord, ...], BeforeValidator(_types)]


class CatalogRecord(Record):
    quantizations: QuantSection
    kv_cache: KvSection
    models: Annotated[tuple[Any, ...], BeforeValidator(_types)]  # each checked as ModelRecord


def _label(index: int, data: Any) -> str:
    name = data.get("id") if isinstance(data, dict) else None
    return f"models[{index}]" + (f" ({name})" if isinstance(name, str) else "")


def _parse_model(data: Any, path: Path, index: int) -> ModelSpec:
    label = _label(index, data)
    start = data.line if isinstance(data, LineMap) else None
    values = validate(ModelRecord, data, path, label=label, line=start).model_dump()

    def bad(field: str, message: str) -> KnowledgeError:
        return KnowledgeError(f"{where(path, line_of(data, (field,)))}: {label}: {message}")

    if not MODEL_ID.match(values["id"]):
        raise bad("id", "field 'id' must be lowercase letters, digits, - and .")
    if values["active_params_b"] > values["params_b"]:
        raise bad("active_params_b", "field 'active_params_b' is larger than 'params_b'")
    if values["n_heads"] % values["kv_heads"]:
        raise bad("kv_heads", "field 'kv_heads' must divide 'n_heads'")
    return ModelSpec(**values)


def _parse_quants(section: QuantSection, data: Any, path: Path) -> dict[str, QuantType]:
    quants: dict[str, QuantType] = {}
    seen: dict[str, str] = {}
    for i, item in enumerate(section.types):
        aliases = tuple(a.lower() for a in item.aliases)
        for spelling in (item.name.lower(), *aliases):
            if spelling in seen:
                line = line_of(data, ("quantizations", "types", i))
                raise KnowledgeError(
                    f"{where(path, line)}: quantizations.types[{i}]: '{spelling}' is already "
                    f"used by {seen[spelling]}"
                )
            seen[spelling] = item.name
        quants[item.name] = QuantType(item.name, item.bits_per_weight, aliases)
    return quants


def _parse_kv_types(section: KvSection, data: Any, path: Path) -> dict[str, KvType]:
    kv_types: dict[str, KvType] = {}
    for i, item in enumerate(section.types):
        name = item.name.lower()
        if name in kv_types:
            line = line_of(data, ("kv_cache", "types", i))
            raise KnowledgeError(
                f"{where(path, line)}: kv_cache.types[{i}]: duplicate name '{name}'"
            )
        kv_types[name] = KvType(name, item.bytes_per_element)
    return kv_types


def load_catalog(path: Path = DEFAULT_MODELS_PATH) -> Catalog:
    """Load and validate models.yaml; a KnowledgeError names the file and the field."""
    data = read_yaml(path)
    record: CatalogRecord = validate(CatalogRecord, data, path)
    quant_source, quants = (
        record.quantizations.source,
        _parse_quants(record.quantizations, data, path),
    )
    kv_source, kv_types = record.kv_cache.source, _parse_kv_types(record.kv_cache, data, path)
    for needed in (DEFAULT_QUANT, *SUGGESTED_QUANTS):
        if needed not in quants:
            raise KnowledgeError(f"{path}: field 'quantizations.types' lacks {needed}")
    if DEFAULT_KV_TYPE not in kv_types:
        raise KnowledgeError(f"{path}: field 'kv_cache.types' lacks {DEFAULT_KV_TYPE}")
    items = record.models
    models: dict[str, ModelSpec] = {}
    keys: dict[str, str] = {}
    phrases: list[tuple[int, re.Pattern[str], str, bool]] = []
    for i, item in enumerate(items):
        spec = _parse_model(item, path, i)
        if spec.id in models:
            line = line_of(data, ("models", i))
            raise KnowledgeError(f"{where(path, line)}: {_label(i, item)}: duplicate id")
        models[spec.id] = spec
        for spelling in dict.fromkeys((spec.id, spec.name, *spec.aliases)):
            k = _key(spelling)
            if keys.get(k, spec.id) != spec.id:
                line = line_of(data, ("models", i, "aliases"))
                raise KnowledgeError(
                    f"{where(path, line)}: {_label(i, item)}: field 'aliases': '{spelling}' "
                    f"also names {keys[k]}"
                )
            keys[k] = spec.id
            spaced = _spaced(spelling)
            phrases.append(
                (len(spaced), _phrase(spelling), spec.id, bool(_SIZE_IN_ALIAS.search(spaced)))
            )
    phrases.sort(key=lambda p: -p[0])
    return Catalog(
        models,
        quants,
        kv_types,
        quant_source,
        kv_source,
        path,
        keys,
        tuple((pattern, model_id, sized) for _, pattern, model_id, sized in phrases),
    )


@lru_cache(maxsize=4)
def default_catalog(path: Path = DEFAULT_MODELS_PATH) -> Catalog:
    """The project's catalogue, loaded once (call `default_catalog.cache_clear()` to reload)."""
    return load_catalog(path)


# --- the calculation ----------------------------------------------------------------------


def _gb(value: float) -> str:
    return f"{value:.2f} GB" if value < 10 else f"{value:.1f} GB"


def _gib(value_gb: float) -> str:
    return f"{value_gb * GB / GIB:.2f} GiB"


def _num(value: float) -> str:
    return f"{value:g}"


def _a(spoken: str) -> str:
    """The article for a number as written: "an 8,192-token", "an 11B", "a 4,096-token"."""
    lead = spoken.split(",")[0].split(".")[0]
    return "an" if spoken.startswith("8") or re.match(r"1[18]\D*$", lead) else "a"


@dataclass(frozen=True)
class FitResult:
    """One estimate: inputs, the architecture used, the figures and every assumption."""

    model_id: str | None
    model_name: str
    params_b: float
    active_params_b: float
    quant: str
    bits_per_weight: float
    ctx: int
    kv_type: str
    kv_bytes_per_element: float
    layers: int
    kv_heads: int
    head_dim: int
    kv_values_per_token_layer: int
    shape_source: str
    model_context: int | None
    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    total_gb: float
    vram_gb: float | None
    fits: bool | None
    bandwidth_gbps: float | None
    max_tokens_per_s: float | None
    assumptions: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def gb_read_per_token(self) -> float:
        return self.active_params_b * 1e9 * self.bits_per_weight / 8 / GB

    def kv_formula(self) -> str:
        if self.kv_values_per_token_layer != 2 * self.kv_heads * self.head_dim:
            return (
                f"{self.layers} layers x {self.kv_values_per_token_layer} values x "
                f"{self.ctx:,} tokens x {_num(self.kv_bytes_per_element)} bytes"
            )
        return (
            f"2 x {self.layers} layers x {self.kv_heads} KV heads x {self.head_dim} head_dim x "
            f"{self.ctx:,} tokens x {_num(self.kv_bytes_per_element)} bytes"
        )

    def to_json(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "inputs": {
                "model": self.model_id or self.model_name,
                "params_b": self.params_b,
                "active_params_b": self.active_params_b,
                "quant": self.quant,
                "ctx": self.ctx,
                "kv_type": self.kv_type,
                "vram_gb": self.vram_gb,
                "bandwidth_gbps": self.bandwidth_gbps,
            },
            "model": {
                "id": self.model_id,
                "name": self.model_name,
                "layers": self.layers,
                "kv_heads": self.kv_heads,
                "head_dim": self.head_dim,
                "kv_values_per_token_layer": self.kv_values_per_token_layer,
                "context": self.model_context,
                "shape_source": self.shape_source,
            },
            "bits_per_weight": self.bits_per_weight,
            "kv_bytes_per_element": self.kv_bytes_per_element,
            "weights_gb": r(self.weights_gb),
            "kv_cache_gb": r(self.kv_cache_gb),
            "kv_cache_gib": r(self.kv_cache_gb * GB / GIB),
            "overhead_gb": r(self.overhead_gb),
            "total_gb": r(self.total_gb),
            "total_gib": r(self.total_gb * GB / GIB),
            "fits": self.fits,
            "max_tokens_per_s": r(self.max_tokens_per_s),
            "formulas": {
                "weights_gb": "params x bits_per_weight / 8 / 1e9",
                "kv_cache_gb": "2 x layers x kv_heads x head_dim x ctx x bytes_per_element / 1e9",
                "overhead_gb": f"{_num(OVERHEAD_FIXED_GB)} + {_num(OVERHEAD_FRACTION)} x "
                "(weights_gb + kv_cache_gb)",
                "total_gb": "weights_gb + kv_cache_gb + overhead_gb",
                "max_tokens_per_s": "bandwidth_gbps / (active_params x bits_per_weight / 8 / 1e9)",
            },
            "assumptions": list(self.assumptions),
            "notes": list(self.notes),
        }

    def verdict(self) -> str:
        if self.fits is None:
            return f"needs about {_gb(self.total_gb)}"
        word = "yes" if self.fits else "no"
        return f"fits in {_num(self.vram_gb or 0)} GB: {word} (needs about {_gb(self.total_gb)})"

    def explain(self) -> str:
        label = f"{self.model_name} ({self.model_id})" if self.model_id else self.model_name
        lines = [
            f"{label} at {self.quant}, {self.ctx:,}-token context, {self.kv_type} KV cache: "
            f"{self.verdict()}.",
            "",
            f"  weights   {_num(self.params_b)}B params x {_num(self.bits_per_weight)} bits / 8"
            f" = {_gb(self.weights_gb)} ({_gib(self.weights_gb)})",
            f"  KV cache  {self.kv_formula()} = {_gb(self.kv_cache_gb)} ({_gib(self.kv_cache_gb)})",
            f"  overhead  {_num(OVERHEAD_FIXED_GB)} GB + {OVERHEAD_FRACTION:.0%} of weights and KV"
            f" = {_gb(self.overhead_gb)}",
            f"  total     {_gb(self.total_gb)} ({_gib(self.total_gb)})"
            + (f" of {_num(self.vram_gb)} GB" if self.vram_gb is not None else ""),
        ]
        if self.max_tokens_per_s is not None:
            lines.append(
                f"  speed     at most {self.max_tokens_per_s:.1f} tokens/s: "
                f"{_num(self.bandwidth_gbps or 0)} GB/s / {_gb(self.gb_read_per_token)} read per token"
                f" ({_num(self.active_params_b)}B active params x {_num(self.bits_per_weight)} bits / 8)"
            )
        else:
            lines.append("  speed     give --bandwidth GBps for an upper bound on tokens/s")
        lines += ["", "Assumptions:", *(f"- {a}" for a in self.assumptions)]
        if self.notes:
            lines += ["", "Notes:", *(f"- {n}" for n in self.notes)]
        return "\n".join(lines)


def _positive(value: float | None, what: str, whole: bool = False) -> None:
    if value is None:
        return
    bad = isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
    if not bad and not math.isfinite(value):
        bad = True
    if not bad and whole and int(value) != value:
        bad = True
    if bad:
        kind = "a positive whole number" if whole else "a positive number"
        raise FitError(f"{what} must be {kind}, got {value!r}")


def _check_inputs(
    params_b: float | None,
    active_params_b: float | None,
    vram_gb: float | None,
    bandwidth_gbps: float | None,
    ctx: int,
    layers: int | None,
    kv_heads: int | None,
    head_dim: int | None,
) -> None:
    """Refuse any given number that is not positive (or, for counts, not whole)."""
    for value, what in ((params_b, "--params"), (active_params_b, "--active-params")):
        _positive(value, what)
    _positive(vram_gb, "--vram")
    _positive(bandwidth_gbps, "--bandwidth")
    for value, what in ((ctx, "--ctx"), (layers, "--layers"), (kv_heads, "--kv-heads")):
        _positive(value, what, whole=True)
    _positive(head_dim, "--head-dim", whole=True)


@dataclass
class _Subject:
    """The model an estimate is about: its catalogue entry if any (`spec`), the entry whose
    shape is used (`base`), its sizes and names, and the assumptions made in choosing it."""

    spec: ModelSpec | None
    base: ModelSpec
    total_b: float
    active_b: float
    shape_source: str
    model_id: str | None
    name: str
    assumptions: list[str] = field(default_factory=list)


def _catalogue_subject(
    catalog: Catalog, model: str | None, active_params_b: float | None
) -> _Subject:
    """A model from the catalogue, by name, with its own sizes and shape."""
    if model is None:
        raise FitError("give a model (--model NAME) or its size (--params N, in billions)")
    if active_params_b is not None:
        raise FitError("--active-params goes with --params, for a model not in the catalogue")
    base = catalog.model(model)
    return _Subject(
        spec=base,
        base=base,
        total_b=base.params_b,
        active_b=base.active_params_b,
        shape_source=f"{catalog.path.name}: {base.source}",
        model_id=base.id,
        name=base.name,
    )


def _sized_subject(
    catalog: Catalog,
    model: str | None,
    params_b: float,
    active_params_b: float | None,
    given: list[str],
) -> _Subject:
    """A model given by its size; its shape from the catalogue model of that name, else
    from the dense one closest in size, except the parts named in `given`."""
    spec = catalog.find_model(model) if model else None
    if active_params_b is not None and active_params_b > params_b:
        raise FitError("--active-params cannot be larger than --params")
    base = spec or catalog.nearest_dense(params_b)
    size = f"{_num(params_b)}B"
    subject = _Subject(
        spec=spec,
        base=base,
        total_b=params_b,
        active_b=active_params_b or params_b,
        shape_source=_shape_source(catalog, spec, base, given),
        model_id=spec.id if spec else None,
        name=spec.name if spec else (model or f"{_a(size)} {size} model"),
    )
    if active_params_b is None:
        subject.assumptions.append(
            "active params = total params (a dense model; give --active-params for MoE)"
        )
    if len(given) < 3 and not spec:
        subject.assumptions.append(
            f"KV cache shape estimated from {base.name} ({base.layers} layers, "
            f"{base.kv_heads} KV heads, head_dim {base.head_dim}): models of one size "
            "differ several-fold (grouped-query attention or not)"
        )
    return subject


def _shape_source(
    catalog: Catalog, spec: ModelSpec | None, base: ModelSpec, given: list[str]
) -> str:
    """Where the KV cache shape of a model given by its size comes from, in words."""
    if len(given) == 3:
        return "given on the command line"
    origin = (
        f"{spec.name} in {catalog.path.name}"
        if spec
        else f"{base.name}, the dense model in {catalog.path.name} closest in size "
        "(give --layers, --kv-heads and --head-dim for the real shape)"
    )
    verb = "from" if spec else "estimated from"
    return f"{', '.join(given)} given; the rest {verb} {origin}" if given else f"{verb} {origin}"


def _kv_shape(
    base: ModelSpec, layers: int | None, kv_heads: int | None, head_dim: int | None
) -> tuple[int, int, int, int]:
    """Layers, KV heads, head_dim and KV values per token and layer: given, else `base`'s."""
    n_layers = layers or base.layers
    n_kv_heads = kv_heads or base.kv_heads
    n_head_dim = head_dim or base.head_dim
    if kv_heads or head_dim or base.kv_values_per_token_layer is None:
        kv_values = 2 * n_kv_heads * n_head_dim
    else:
        kv_values = base.kv_values_per_token_layer
    return n_layers, n_kv_heads, n_head_dim, kv_values


def _method_assumptions(catalog: Catalog, q: QuantType, kv: KvType) -> list[str]:
    """The assumptions behind every estimate: weights, KV cache, overhead, units."""
    return [
        f"weights = params x bits per weight / 8; {q.name} averages "
        f"{_num(q.bits_per_weight)} bits per weight (source: {catalog.quant_source.split('. ')[0]}); "
        "real GGUF files differ by a few percent from model to model",
        "KV cache = 2 (K and V) x layers x KV heads x head_dim x context x bytes per value, "
        f"for one sequence with the whole context allocated up front, as llama.cpp does; "
        f"{kv.name} stores {_num(kv.bytes_per_element)} bytes per value",
        f"overhead = {_num(OVERHEAD_FIXED_GB)} GB + {OVERHEAD_FRACTION:.0%} of weights and KV "
        "cache, for compute buffers, the CUDA/Metal context and scratch space (a rule of thumb "
        "at the default batch size)",
        "GB = 10^9 bytes, GiB = 2^30 bytes; a card sold as 8 GB has 8 GiB (8.59 GB), part of "
        "which the driver, the desktop and other programs use, so --vram is compared as given",
    ]


def _speed_assumptions(subject: _Subject, has_speed: bool, sized: bool) -> list[str]:
    """What the speed bound assumes, and, for a catalogue MoE model, why it is faster."""
    found = []
    if has_speed:
        found.append(
            "speed is an upper bound: generating one token reads every active weight from memory "
            "once; KV cache reads, compute limits and software overhead make real decoding slower"
        )
    if subject.base.is_moe and not sized:
        found.append(
            f"mixture of experts: all {_num(subject.total_b)}B parameters must be in memory, but "
            f"each token reads only the {_num(subject.active_b)}B active ones, which sets the speed"
        )
    return found


def _notes(subject: _Subject, ctx: int) -> list[str]:
    """A context longer than the model was trained for, and the catalogue's own note."""
    spec, notes = subject.spec, []
    context = spec.context if spec else None
    if context is not None and ctx > context:
        notes.append(
            f"{ctx:,} tokens is more than the {context:,} tokens {subject.name} was trained for"
        )
    if spec and spec.note and subject.base is spec:
        notes.append(spec.note)
    return notes


def estimate(
    catalog: Catalog,
    *,
    model: str | None = None,
    params_b: float | None = None,
    active_params_b: float | None = None,
    quant: str = DEFAULT_QUANT,
    ctx: int = DEFAULT_CTX,
    kv_type: str = DEFAULT_KV_TYPE,
    vram_gb: float | None = None,
    bandwidth_gbps: float | None = None,
    layers: int | None = None,
    kv_heads: int | None = None,
    head_dim: int | None = None,
) -> FitResult:
    """Memory (and, with a bandwidth, a speed bound) for one model, quantization and context.

    `model` is looked up in the catalogue; with `params_b` (billions) it may be any name,
    and the KV cache shape comes from `layers`/`kv_heads`/`head_dim`, else from the
    catalogue model of that name, else from the dense catalogue model closest in size.
    """
    _check_inputs(
        params_b, active_params_b, vram_gb, bandwidth_gbps, ctx, layers, kv_heads, head_dim
    )
    q = catalog.quant(quant)
    kv = catalog.kv_type(kv_type)
    if params_b is None:
        subject = _catalogue_subject(catalog, model, active_params_b)
    else:
        shape = (("layers", layers), ("kv_heads", kv_heads), ("head_dim", head_dim))
        given = [n for n, v in shape if v]
        subject = _sized_subject(catalog, model, params_b, active_params_b, given)
    subject.assumptions += _method_assumptions(catalog, q, kv)
    subject.assumptions += _speed_assumptions(
        subject, bandwidth_gbps is not None, params_b is not None
    )
    shape_used = _kv_shape(subject.base, layers, kv_heads, head_dim)
    return _result(subject, q, kv, ctx, shape_used, vram_gb, bandwidth_gbps)


def _result(
    subject: _Subject,
    q: QuantType,
    kv: KvType,
    ctx: int,
    shape: tuple[int, int, int, int],
    vram_gb: float | None,
    bandwidth_gbps: float | None,
) -> FitResult:
    """The arithmetic: weights, KV cache, overhead, total and the speed bound."""
    n_layers, n_kv_heads, n_head_dim, kv_values = shape
    weights = subject.total_b * 1e9 * q.bits_per_weight / 8 / GB
    kv_cache = n_layers * kv_values * ctx * kv.bytes_per_element / GB
    overhead = OVERHEAD_FIXED_GB + OVERHEAD_FRACTION * (weights + kv_cache)
    total = weights + kv_cache + overhead
    per_token = subject.active_b * 1e9 * q.bits_per_weight / 8 / GB
    speed = None if bandwidth_gbps is None else bandwidth_gbps / per_token
    return FitResult(
        model_id=subject.model_id,
        model_name=subject.name,
        params_b=subject.total_b,
        active_params_b=subject.active_b,
        quant=q.name,
        bits_per_weight=q.bits_per_weight,
        ctx=int(ctx),
        kv_type=kv.name,
        kv_bytes_per_element=kv.bytes_per_element,
        layers=n_layers,
        kv_heads=n_kv_heads,
        head_dim=n_head_dim,
        kv_values_per_token_layer=kv_values,
        shape_source=subject.shape_source,
        model_context=subject.spec.context if subject.spec else None,
        weights_gb=weights,
        kv_cache_gb=kv_cache,
        overhead_gb=overhead,
        total_gb=total,
        vram_gb=vram_gb,
        fits=None if vram_gb is None else total <= vram_gb,
        bandwidth_gbps=bandwidth_gbps,
        max_tokens_per_s=speed,
        assumptions=tuple(subject.assumptions),
        notes=tuple(_notes(subject, ctx)),
    )


# --- questions in chat --------------------------------------------------------------------


@dataclass(frozen=True)
class FitQuery:
    """What a fit question asks. `model` is a catalogue id; `params_b` a bare size ("a 70b
    model"); neither, with `list_models`, asks which catalogue models fit in `memory_gb`."""

    model: str | None = None
    params_b: float | None = None
    memory_gb: float | None = None
    memory_kind: str = "memory"  # vram, ram, unified (a Mac) or memory (not said)
    quant: str = DEFAULT_QUANT
    ctx: int = DEFAULT_CTX
    kv_type: str = DEFAULT_KV_TYPE
    bandwidth_gbps: float | None = None
    list_models: bool = False
    yes_no: bool = False  # asked as yes or no ("will my 8gb card work?"): the list says yes
    assumed: tuple[str, ...] = ()  # which of "quant" and "ctx" the question did not give
    # more bare sizes asked about at once ("16gb mac, 13b? 30b?"): one verdict each
    other_sizes_b: tuple[float, ...] = ()


_NUMBER = r"(\d+(?:\.\d+)?)"
_BANDWIDTH = re.compile(
    _NUMBER + r"\s*(gb|tb)\s*(?:/\s*s(?:ec)?\b|ps\b|per\s+second\b|a\s+second\b)", re.I
)
_MEMORY = re.compile(
    r"(?<![\w.])" + _NUMBER + r"\s*(?:gb|gib|gigs?|gigabytes?|g(?=\s*(?:of\s+)?(?:vram|ram|"
    r"memory|unified|card|gpu|mac)))(?![a-z/])(?!\s*/\s*s)(?!\s*per\s+second)",
    re.I,
)
_SIZE = re.compile(r"(?<![\w.])" + _NUMBER + r"\s*(?:b|bn|billion)\b(?!\s*/)", re.I)
_QUANT_TEXT = re.compile(
    r"(?<![a-z0-9])(i?q[2-8](?:_[0-9a-z]{1,2}){0,2}|f16|fp16|bf16|f32|fp32|int4|int8|"
    r"(?:2|3|4|5|6|8|16)\s?-?\s?bits?)(?![a-z0-9])",
    re.I,
)
_CONTEXT = (
    re.compile(_NUMBER + r"\s*(k)?\s*(?:tokens?\s+)?(?:of\s+)?(?:context|ctx)\b", re.I),
    re.compile(
        r"\b(?:context|ctx)(?:\s+(?:length|window|size))?(?:\s+(?:of|=|:))?\s*"
        + _NUMBER
        + r"\s*(k)?\b",
        re.I,
    ),
)
_MAC = re.compile(
    r"\b(mac|macs|macbook|macbooks|imac|mac\s?mini|mac\s?studio|apple\s+silicon|unified|"
    r"m[1-4](?:\s+(?:pro|max|ultra))?)\b",
    re.I,
)
_VRAM_WORDS = re.compile(
    r"\b(vram|gpu|gpus|card|graphics|rtx|gtx|radeon|geforce|cuda|"
    r"(?:[1-5]0[5-9]0|[67]\d00)(?:\s?(?:ti|xt|xtx|super))?)\b",
    re.I,
)
_RAM_WORDS = re.compile(r"\b(ram|system memory|cpu|ddr\d?)\b", re.I)
# an amount labelled as memory or RAM ("256G memory", "Memory: 256G", "64GB RAM"): a GPU
# named elsewhere ("8 * 4090, 256G memory") does not make that amount its VRAM
_LABELLED_BEFORE = re.compile(r"\b(ram|memory)\s*[:=]\s*$", re.I)
_LABELLED_AFTER = re.compile(r"^\s*(?:of\s+)?(?:system\s+)?(ram|memory)\b", re.I)
_NEAR_VRAM = re.compile(r"^\s*(?:of\s+)?(?:vram|gpu|card|graphics)", re.I)
# "just cpu no gpu", "without a GPU", "CPU-only": the memory is system RAM, whatever else
_NO_GPU = re.compile(
    r"\b(?:no|without(?:\s+an?)?|don'?t\s+have\s+an?)\s+(?:dedicated\s+|discrete\s+)?gpu\b|"
    r"\b(?:just|only)\s+(?:the\s+|my\s+|a\s+)?cpu\b|\bcpu[- ]only\b",
    re.I,
)
# how many cards of that memory: "two 24gb gpus", "2x 24 GB", "dual 16gb cards"
_COUNTS = {"two": 2, "dual": 2, "three": 3, "four": 4, "quad": 4, "six": 6, "eight": 8}
_COUNT_WORD = r"\b(two|dual|three|four|quad|six|eight|[2-8])\s*(?:x\s*)?"
_COUNT_BEFORE = re.compile(_COUNT_WORD + "$", re.I)
# ... or "two graphics cards with 24 GB VRAM each": a count of cards anywhere, and "each"
# (or "per card") after the amount
_CARD_COUNT = re.compile(_COUNT_WORD + r"(?:[a-z0-9]+\s+){0,2}?(?:gpus|cards)\b", re.I)
_EACH_AFTER = re.compile(
    r"^\s*(?:of\s+)?(?:v?ram|memory|gpu\s+memory)?\s*(?:each|apiece|per\s+(?:card|gpu))\b", re.I
)
# GPUs pooled for one model ("combine a 3060 and a 3070", "split it across both cards"):
# the notes on multi-GPU answer that, not a list of what fits in the sum
_COMBINE = re.compile(
    r"\b(?:combin\w*|pool\w*|together|both\s+(?:cards|gpus)|split\w*\s+(?:\w+\s+)?(?:across|"
    r"between|over)|(?:two|2|multiple|several)\s+(?:different\s+)?(?:gpus|cards))\b",
    re.I,
)
# an amount that is the size of the model itself, not memory to fit it in: "a model of
# 140 gb", "the 40GB gguf", "weights are ~26 GB"
_MODEL_WORDS = r"(?:models?|gguf|files?|weights|checkpoints?)"
_MODEL_SIZE_BEFORE = re.compile(
    rf"\b{_MODEL_WORDS}(?:\s+size)?\s+(?:of|is|are|at|takes|weighs|=)?\s*"
    r"(?:about|around|roughly|~)?\s*$",
    re.I,
)
# memory the question reports as used ("it's using 19gb", "eating up 57gb", "should take
# about 16GB"), not memory to fit a model in
_USED_BEFORE = re.compile(
    r"\b(?:(?:is|are|it'?s|it\s+is)\s+using|uses|used|use\s+up|eat(?:s|ing)|tak(?:e|es|ing)|"
    r"consum\w*|occup\w*|jump\w*|spik\w*|increas\w*|grow\w*|grew|(?:go|goes|went)\s+up|"
    r"an?\s+extra|another|additional)(?:\s+up)?(?:\s+(?:by|to))?\s*(?:only\s+|just\s+|"
    r"about\s+|around\s+|almost\s+|nearly\s+|roughly\s+|like\s+|~\s*)*$",
    re.I,
)
# several models at once ("keep two models loaded on an 8gb card"): the calculator sizes one
_SEVERAL_MODELS = re.compile(
    r"\b(?:two|2|three|3|both|multiple|several)\s+(?:\w+\s+)?models\b"
    r"(?!\s+of\s+(?:gpus?|cards?|graphics))",
    re.I,
)
_MODEL_SIZE_AFTER = re.compile(rf"^\s*(?:large\s+|big\s+)?(?:{_MODEL_WORDS}|download)\b", re.I)
# Speed complaints and error reports are not capacity questions, even with a size in them.
# the calculator answers "does inference fit in this memory?": not slowness, errors,
# training, or memory the question reports and wants explained
_REJECT = re.compile(
    r"\b(slow|slowly|slower|speed up|crash\w*|error|bug|fine-?tun\w*|training|to train|explain|"
    r"allocat\w*|used up|utili[sz]\w*|reduc\w*|decreas\w*|ttft|latency|first[- ]token)\b",
    re.I,
)
# words of a sentence that asks whether (or which) models fit: "can I run", "is 8 GB enough"
_FIT_INTENT = re.compile(
    r"\b(fit|fits|run|runs|running|load|host|enough|which|best|biggest|largest|recommend\w*|"
    r"need|handle|possible|able|work|works|usable|manage|squeeze|or nah)\b",
    re.I,
)
_NEED_INTENT = re.compile(
    r"\bhow\s+much\s+(?:v?ram|memory|gpu\s+memory|space)\b|\b(?:v?ram|memory)\s+(?:do\s+i\s+|"
    r"does\s+it\s+|would\s+i\s+)?(?:need|needed|required?)\b|\b(?:need|needs|require|requires)"
    r"\b.*\b(?:v?ram|memory)\b",
    re.I,
)


def _find_model_in_text(text: str, catalog: Catalog) -> tuple[str | None, float | None]:
    """(catalogue id, None) for a model named in the text, or (None, size) for a bare size."""
    spaced = _spaced(text)
    sizes = [(m.span(), float(m.group(1))) for m in _SIZE.finditer(spaced) if float(m.group(1)) > 0]
    for pattern, model_id, sized in catalog._phrases:
        match = pattern.search(spaced)
        if match is None:
            continue
        if not sized:  # a family name ("mixtral", "llama 3"): a size elsewhere decides
            start, end = match.span()
            others = [size for span, size in sizes if span[1] <= start or span[0] >= end]
            if others:
                family = match.group(0)
                spec = catalog.find_model(f"{family} {_num(others[0])}b")
                return (spec.id, None) if spec else (None, others[0])
        return model_id, None
    if sizes:
        return None, sizes[0][1]
    return None, None


def _not_capacity(before: str, after: str) -> bool:
    """Whether the amount between `before` and `after` is the model's own size or memory
    reported as used, not memory to fit a model in."""
    return bool(_MODEL_SIZE_BEFORE.search(before) or _USED_BEFORE.search(before)) or bool(
        _MODEL_SIZE_AFTER.match(after)
    )


def _memory_in_text(text: str) -> tuple[float | None, str]:
    bandwidth_spans = [m.span() for m in _BANDWIDTH.finditer(text)]
    amounts = [
        m
        for m in _MEMORY.finditer(text)
        if not any(a <= m.start() < b for a, b in bandwidth_spans)
        and not _not_capacity(text[max(0, m.start() - 30) : m.start()], text[m.end() :])
    ]
    if not amounts:
        return None, "memory"
    chosen = next((m for m in amounts if _NEAR_VRAM.match(text[m.end() :])), amounts[0])
    amount = float(chosen.group(1))
    before, after = text[max(0, chosen.start() - 12) : chosen.start()], text[chosen.end() :]
    count = _COUNT_BEFORE.search(before)
    if count is None and _EACH_AFTER.match(after):
        count = _CARD_COUNT.search(text)
    if count:  # "two 24gb gpus", "2x 24 GB": the memory of all of them
        amount *= _COUNTS.get(count.group(1).lower()) or int(count.group(1))
    label = _LABELLED_AFTER.match(after) or _LABELLED_BEFORE.search(before)
    if _MAC.search(text):
        kind = "unified"
    elif _NO_GPU.search(text):
        kind = "ram"
    elif _NEAR_VRAM.match(after):
        kind = "vram"
    elif label:
        kind = label.group(1).lower()  # "ram" or "memory": not said which
    elif _VRAM_WORDS.search(text):
        kind = "vram"
    elif _RAM_WORDS.search(text):
        kind = "ram"
    else:
        kind = "memory"
    return amount, kind


def _quant_and_context(text: str, catalog: Catalog) -> tuple[str, int, list[str]]:
    """The quantization and context length a question names, defaults for the others
    (and which of "quant" and "ctx" were assumed)."""
    assumed: list[str] = []
    quant = next(
        (q.name for m in _QUANT_TEXT.finditer(text) if (q := catalog.find_quant(m.group(1)))),
        None,
    )
    if quant is None:
        quant = DEFAULT_QUANT
        assumed.append("quant")
    ctx = None
    for pattern in _CONTEXT:
        found = pattern.search(text)
        if found:
            value = float(found.group(1)) * (1024 if found.group(2) else 1)
            if value >= 1:
                ctx = int(value)
                break
    if ctx is None:
        ctx = DEFAULT_CTX
        assumed.append("ctx")
    return quant, ctx, assumed


def parse_fit_question(text: str, catalog: Catalog | None = None) -> FitQuery | None:
    """A FitQuery when `text` asks whether a model fits in an amount of memory (or which
    models fit, or how much memory a named model needs); None for any other question."""
    if not text or len(text) > 500 or _REJECT.search(text):
        return None
    catalog = catalog or default_catalog()
    memory, kind = _memory_in_text(text)
    model_id, size = _find_model_in_text(text, catalog)
    asked = asked_part(text)
    if memory is None:
        if model_id is None or not _NEED_INTENT.search(asked):
            return None
    elif not (
        _FIT_INTENT.search(asked)
        or _NEED_INTENT.search(asked)
        or ("?" in asked and _memory_in_text(asked)[0] is not None)  # "llama3:70b on 48GB?"
    ):
        return None  # "30B runs in 6 GB now ... what do I need to do?" asks something else
    if model_id is None and size is None and _COMBINE.search(text):
        return None
    if _SEVERAL_MODELS.search(asked):
        return None  # "two models loaded at once": not what one model needs

    quant, ctx, assumed = _quant_and_context(text, catalog)
    bandwidth = None
    bw = _BANDWIDTH.search(text)
    if bw:
        bandwidth = float(bw.group(1)) * (1000 if bw.group(2).lower() == "tb" else 1)
    others: tuple[float, ...] = ()
    if model_id is None and size is not None and memory is not None:
        named = (float(m.group(1)) for m in _SIZE.finditer(_spaced(text)))
        others = tuple(dict.fromkeys(b for b in named if b > 0 and b != size))
    return FitQuery(
        model=model_id,
        params_b=None if model_id else size,
        other_sizes_b=others,
        memory_gb=memory if memory and memory > 0 else None,
        memory_kind=kind,
        quant=quant,
        ctx=ctx,
        bandwidth_gbps=bandwidth if bandwidth and bandwidth > 0 else None,
        list_models=model_id is None and size is None,
        yes_no=is_yes_no(asked),
        assumed=tuple(assumed),
    )


def usable_memory_gb(query: FitQuery) -> float | None:
    """The memory a model may use: on a Mac, the GPU's default share of unified memory."""
    if query.memory_gb is None:
        return None
    if query.memory_kind == "unified":
        share = (
            MAC_GPU_SHARE_SMALL if query.memory_gb <= MAC_SMALL_LIMIT_GB else MAC_GPU_SHARE_LARGE
        )
        return query.memory_gb * share
    return query.memory_gb


def _where_phrase(query: FitQuery) -> str:
    amount = f"{_num(query.memory_gb or 0)} GB"
    return {
        "vram": f"{amount} of VRAM",
        "ram": f"{amount} of RAM",
        "unified": f"{_a(amount)} {amount} Mac",
    }.get(query.memory_kind, amount)


def _settings(query: FitQuery) -> str:
    ctx = f"{query.ctx:,}"
    cache = "" if query.kv_type == DEFAULT_KV_TYPE else f" and a {query.kv_type} KV cache"
    return f"at {query.quant} with {_a(ctx)} {ctx}-token context{cache}"


def _mac_sentence(query: FitQuery, usable: float) -> str:
    share = "two thirds" if (query.memory_gb or 0) <= MAC_SMALL_LIMIT_GB else "three quarters"
    amount = f"{_num(query.memory_gb or 0)} GB"
    return (
        f"By default macOS lets the GPU use about {share} of a Mac's memory "
        f"(llama.cpp logs it as recommendedMaxWorkingSetSize), about {_gb(usable)} on "
        f"{_a(amount)} {amount} Mac."
    )


def _formula_sentence(r: FitResult) -> str:
    return (
        f"Weights: {_num(r.params_b)}B params x {_num(r.bits_per_weight)} bits / 8 = "
        f"{_gb(r.weights_gb)}; KV cache: {r.kv_formula()} = {_gb(r.kv_cache_gb)}; "
        f"overhead {_gb(r.overhead_gb)} ({_num(OVERHEAD_FIXED_GB)} GB + "
        f"{OVERHEAD_FRACTION:.0%}), total {_gb(r.total_gb)}."
    )


def _estimate_query(catalog: Catalog, query: FitQuery, quant: str | None = None) -> FitResult:
    return estimate(
        catalog,
        model=query.model,
        params_b=None if query.model else query.params_b,
        quant=quant or query.quant,
        ctx=query.ctx,
        kv_type=query.kv_type,
        vram_gb=usable_memory_gb(query),
        bandwidth_gbps=query.bandwidth_gbps,
    )


def _other_quant_sentence(catalog: Catalog, query: FitQuery, r: FitResult) -> str | None:
    usable = usable_memory_gb(query)
    if usable is None:
        return None
    order = [q for q in SUGGESTED_QUANTS if q in catalog.quants]
    bpw = catalog.quants[r.quant].bits_per_weight
    if r.fits:
        better = [q for q in order if catalog.quants[q].bits_per_weight > bpw]
        for q in better:
            alt = _estimate_query(catalog, query, q)
            if alt.fits:
                return f"{q} (about {_gb(alt.total_gb)}) fits too and loses less quality."
        return None
    smaller = [q for q in order if catalog.quants[q].bits_per_weight < bpw]
    for q in smaller:
        alt = _estimate_query(catalog, query, q)
        if alt.fits:
            return f"At {q} it would fit (about {_gb(alt.total_gb)}), at some cost in quality."
    smallest = _estimate_query(catalog, query, order[-1]) if smaller else r
    return (
        f"Even at {smallest.quant} it needs about {_gb(smallest.total_gb)}; llama.cpp can keep "
        "some layers in system RAM instead (fewer --n-gpu-layers), at a large cost in speed."
    )


def _list_answer(catalog: Catalog, query: FitQuery) -> str:
    usable = usable_memory_gb(query)
    results = [
        estimate(
            catalog,
            model=m.id,
            quant=query.quant,
            ctx=query.ctx,
            kv_type=query.kv_type,
            vram_gb=usable,
        )
        for m in catalog.models.values()
    ]
    results.sort(key=lambda r: (-r.total_gb, r.model_name))
    fitting = [r for r in results if r.fits]
    too_big = [r for r in results if not r.fits]
    where = _where_phrase(query)
    if not fitting:
        smallest = results[-1]
        first = (
            f"None of the {len(results)} models I know fit in {where} {_settings(query)}; "
            f"the smallest, {smallest.model_name}, needs about {_gb(smallest.total_gb)}."
        )
        parts = [first]
    else:
        shown = fitting[:6]
        names = ", ".join(f"{r.model_name} ({_gb(r.total_gb)})" for r in shown)
        rest = len(fitting) - len(shown)
        tail = f", and {rest} smaller ones" if rest else ""
        opening = "Yes, these" if query.yes_no else "These"
        parts = [f"{opening} fit in {where} {_settings(query)}: {names}{tail}."]
        if too_big:
            nxt = too_big[-1]
            parts.append(f"The next one up, {nxt.model_name}, needs about {_gb(nxt.total_gb)}.")
    if query.memory_kind == "unified" and usable is not None:
        parts.append(_mac_sentence(query, usable))
    kv_bytes = _num(catalog.kv_type(query.kv_type).bytes_per_element)
    parts.append(
        "Each figure is weights (params x bits per weight / 8) + KV cache (2 x layers x KV heads "
        f"x head_dim x context x {kv_bytes} bytes) + {_num(OVERHEAD_FIXED_GB)} GB + "
        f"{OVERHEAD_FRACTION:.0%} overhead."
    )
    return " ".join(parts)


def _other_size_sentence(catalog: Catalog, query: FitQuery, params_b: float) -> str:
    """One more size's verdict at the same settings ("A 30B model ... too much for it.")."""
    r = _estimate_query(catalog, replace(query, params_b=params_b, other_sizes_b=()))
    verdict = {None: "", True: ", which fits", False: ", too much for it"}[r.fits]
    size = f"{_num(params_b)}B"
    return f"{_a(size).capitalize()} {size} model at the same settings needs about {_gb(r.total_gb)}{verdict}."


def answer_text(query: FitQuery, catalog: Catalog | None = None) -> str:
    """A short answer whose first sentence says yes, no or which, then numbers and formula.

    Raises FitError for a query naming a model or type the catalogue does not have."""
    catalog = catalog or default_catalog()
    if query.list_models or (query.model is None and query.params_b is None):
        return _list_answer(catalog, query)
    r = _estimate_query(catalog, query)
    usable = usable_memory_gb(query)
    subject = f"{r.model_name} {_settings(query)}"
    if r.fits is None:
        first = f"{subject} needs about {_gb(r.total_gb)} of memory."
    elif r.fits:
        first = (
            f"Yes: {subject} needs about {_gb(r.total_gb)}, which fits in {_where_phrase(query)}."
        )
    else:
        budget = (
            f"more than {_where_phrase(query)} lets its GPU use"
            if query.memory_kind == "unified"
            else f"more than {_where_phrase(query)}"
        )
        first = f"No: {subject} needs about {_gb(r.total_gb)}, {budget}."
    parts = [first[0].upper() + first[1:]]
    parts.extend(_other_size_sentence(catalog, query, size) for size in query.other_sizes_b)
    if query.memory_kind == "unified" and usable is not None and r.fits is not None:
        parts.append(_mac_sentence(query, usable))
    parts.append(_formula_sentence(r))
    if r.model_id is None:
        parts.append(
            f"The KV cache is estimated from the shape of {catalog.nearest_dense(r.params_b).name}."
        )
    if r.max_tokens_per_s is not None:
        parts.append(
            f"At {_num(r.bandwidth_gbps or 0)} GB/s it generates at most "
            f"{r.max_tokens_per_s:.0f} tokens/s ({_gb(r.gb_read_per_token)} of weights read per "
            "token); real speed is lower."
        )
    other = _other_quant_sentence(catalog, query, r)
    if other:
        parts.append(other)
    parts.extend(n if n.endswith(".") else n + "." for n in r.notes)
    return " ".join(parts)
