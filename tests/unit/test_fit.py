"""bot.fit: the memory and speed calculator, its data file, the chat-question parser and
`python -m bot fit`. The figures are checked against hand-computed values from the
models' config.json, so a wrong layer count or formula fails here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.errors import KnowledgeError
from bot.fit import (
    DEFAULT_MODELS_PATH,
    OVERHEAD_FIXED_GB,
    OVERHEAD_FRACTION,
    Catalog,
    FitError,
    FitQuery,
    answer_text,
    estimate,
    load_catalog,
    parse_fit_question,
)
from bot.text import sentences


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(DEFAULT_MODELS_PATH)


def raw_data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_MODELS_PATH.read_text(encoding="utf-8"))


def write_catalog(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- the data file ------------------------------------------------------------------------


def test_catalog_has_the_required_models(catalog: Catalog) -> None:
    required = {
        "llama-3-8b",
        "llama-3-70b",
        "llama-3.1-8b",
        "llama-3.1-70b",
        "llama-3.1-405b",
        "llama-3.2-1b",
        "llama-3.2-3b",
        "mistral-7b",
        "mixtral-8x7b",
        "mixtral-8x22b",
        "qwen2.5-0.5b",
        "qwen2.5-1.5b",
        "qwen2.5-7b",
        "qwen2.5-14b",
        "qwen2.5-32b",
        "qwen2.5-72b",
        "gemma-2-9b",
        "gemma-2-27b",
        "phi-3-mini",
        "deepseek-v2-lite",
        "qwen2.5-coder-0.5b",
    }
    assert required <= set(catalog.models)
    assert len(catalog.models) >= 18
    assert any(m.is_moe for m in catalog.models.values())
    for m in catalog.models.values():
        assert "config.json" in m.source, m.id
        assert m.active_params_b <= m.params_b


@pytest.mark.parametrize(
    ("model_id", "figures"),
    [
        ("llama-3-8b", (8.03, 8.03, 32, 32, 8, 128)),
        ("llama-3-70b", (70.6, 70.6, 80, 64, 8, 128)),
        ("mixtral-8x7b", (46.7, 12.9, 32, 32, 8, 128)),
        ("qwen2.5-7b", (7.61, 7.61, 28, 28, 4, 128)),
        ("gemma-2-9b", (9.24, 9.24, 42, 16, 8, 256)),
        ("phi-3-mini", (3.82, 3.82, 32, 32, 32, 96)),
    ],
)
def test_architecture_figures_match_config_json(
    catalog: Catalog, model_id: str, figures: tuple[float, ...]
) -> None:
    m = catalog.models[model_id]
    assert (m.params_b, m.active_params_b, m.layers, m.n_heads, m.kv_heads, m.head_dim) == figures


def test_quantization_and_kv_tables(catalog: Catalog) -> None:
    bpw = {name: q.bits_per_weight for name, q in catalog.quants.items()}
    assert bpw["F16"] == bpw["BF16"] == 16.0
    assert bpw["Q8_0"] == 8.5 and bpw["Q4_0"] == 4.5
    assert 4.8 <= bpw["Q4_K_M"] <= 4.9
    assert 6.5 <= bpw["Q6_K"] <= 6.6
    ordered = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "Q3_K_M", "Q2_K"]
    assert [bpw[n] for n in ordered] == sorted((bpw[n] for n in ordered), reverse=True)
    kv = {name: t.bytes_per_element for name, t in catalog.kv_types.items()}
    assert kv["f16"] == 2.0 and kv["q8_0"] == 1.0625 and kv["q4_0"] == 0.5625
    assert "quantize" in catalog.quant_source


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["models"][1].pop("layers"), "field 'layers' is missing"),
        (lambda d: d["models"][1].update(kv_heads="eight"), "field 'kv_heads'"),
        (lambda d: d["models"][1].update(colour="red"), "unknown field 'colour'"),
        (lambda d: d["models"][1].update(active_params_b=99.0), "active_params_b"),
        (lambda d: d["models"][2].update(aliases=["llama3"]), "also names llama-3-8b"),
        (lambda d: d["models"].append(dict(d["models"][1])), "duplicate id"),
        (lambda d: d["quantizations"]["types"][0].update(bits_per_weight=-1), "bits_per_weight"),
        (lambda d: d.pop("kv_cache"), "kv_cache"),
    ],
)
def test_broken_data_names_file_and_field(tmp_path: Path, change: Any, expected: str) -> None:
    data = raw_data()
    change(data)
    path = write_catalog(tmp_path, data)
    with pytest.raises(KnowledgeError) as info:
        load_catalog(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_missing_and_invalid_files_raise_knowledge_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="file not found"):
        load_catalog(tmp_path / "nope.yaml")
    bad = tmp_path / "models.yaml"
    bad.write_text("models: [oops\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        load_catalog(bad)


def test_broken_model_error_names_the_model(tmp_path: Path) -> None:
    data = raw_data()
    data["models"][1]["layers"] = 0
    with pytest.raises(KnowledgeError, match=r"models\[1\] \(llama-3-8b\): field 'layers'"):
        load_catalog(write_catalog(tmp_path, data))


# --- the bar figures ----------------------------------------------------------------------


def test_llama_3_8b_q4_k_m_8k_context(catalog: Catalog) -> None:
    r = estimate(catalog, model="llama-3-8b", quant="Q4_K_M", ctx=8192, kv_type="f16")
    assert 4.5 <= r.weights_gb <= 5.3
    assert 0.95 <= r.kv_cache_gb <= 1.15
    # 2 x 32 layers x 8 KV heads x 128 x 8192 tokens x 2 bytes, exactly
    assert r.kv_cache_gb == pytest.approx(2 * 32 * 8 * 128 * 8192 * 2 / 1e9)
    assert r.weights_gb == pytest.approx(8.03e9 * 4.84 / 8 / 1e9)
    overhead = OVERHEAD_FIXED_GB + OVERHEAD_FRACTION * (r.weights_gb + r.kv_cache_gb)
    assert r.total_gb == pytest.approx(r.weights_gb + r.kv_cache_gb + overhead)
    assert r.fits is None and r.max_tokens_per_s is None


def test_mixtral_weights_count_every_expert(catalog: Catalog) -> None:
    r = estimate(catalog, model="mixtral-8x7b", quant="Q4_K_M")
    assert 24 <= r.weights_gb <= 30
    assert r.active_params_b == 12.9


def test_speed_bound_at_100_gbps(catalog: Catalog) -> None:
    r = estimate(catalog, model="llama-3-8b", quant="Q4_K_M", ctx=8192, bandwidth_gbps=100)
    assert r.max_tokens_per_s is not None
    assert 15 <= r.max_tokens_per_s <= 23
    assert r.max_tokens_per_s == pytest.approx(100 / r.weights_gb)


def test_moe_speed_uses_active_params(catalog: Catalog) -> None:
    moe = estimate(catalog, model="mixtral-8x7b", bandwidth_gbps=100)
    assert moe.max_tokens_per_s == pytest.approx(100 / (12.9 * 4.84 / 8))
    assert moe.max_tokens_per_s > 100 / moe.weights_gb * 3


def test_fits_compares_total_with_vram(catalog: Catalog) -> None:
    small = estimate(catalog, model="llama-3-8b", ctx=8192, vram_gb=8)
    assert small.fits is True
    big = estimate(catalog, model="llama-3-70b", ctx=8192, vram_gb=24)
    assert big.fits is False
    edge = estimate(catalog, model="llama-3-8b", ctx=8192)
    assert estimate(catalog, model="llama-3-8b", ctx=8192, vram_gb=edge.total_gb).fits is True
    assert (
        estimate(catalog, model="llama-3-8b", ctx=8192, vram_gb=edge.total_gb - 0.01).fits is False
    )


@pytest.mark.parametrize(
    ("kv_type", "bytes_per"), [("f16", 2.0), ("q8_0", 1.0625), ("q4_0", 0.5625)]
)
def test_kv_cache_types(catalog: Catalog, kv_type: str, bytes_per: float) -> None:
    r = estimate(catalog, model="llama-3-8b", ctx=8192, kv_type=kv_type)
    assert r.kv_cache_gb == pytest.approx(2 * 32 * 8 * 128 * 8192 * bytes_per / 1e9)


def test_quantized_kv_is_smaller_and_scales_with_context(catalog: Catalog) -> None:
    f16 = estimate(catalog, model="qwen2.5-7b", ctx=32768)
    q8 = estimate(catalog, model="qwen2.5-7b", ctx=32768, kv_type="q8_0")
    assert q8.kv_cache_gb < f16.kv_cache_gb
    short = estimate(catalog, model="qwen2.5-7b", ctx=8192)
    assert f16.kv_cache_gb == pytest.approx(4 * short.kv_cache_gb)


def test_mla_model_uses_its_compressed_cache(catalog: Catalog) -> None:
    r = estimate(catalog, model="deepseek-v2-lite", ctx=4096)
    assert r.kv_cache_gb == pytest.approx(27 * 576 * 4096 * 2 / 1e9)
    assert any("latent" in n for n in r.notes)


def test_context_beyond_training_is_noted(catalog: Catalog) -> None:
    assert estimate(catalog, model="llama-3-8b", ctx=8192).notes == ()
    r = estimate(catalog, model="llama-3-8b", ctx=32768)
    assert any("8,192" in n for n in r.notes)


# --- lookup -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "llama-3-8b",
        "Llama 3 8B",
        "llama3:8b",
        "llama3 8b",
        "LLAMA3-8B",
        "meta-llama-3-8b",
        "Meta-Llama-3-8B-Instruct",
        "llama3:8b-instruct-q4_K_M",
        "Meta-Llama-3-8B-Instruct-Q4_K_M.gguf",
    ],
)
def test_alias_lookup_is_forgiving(catalog: Catalog, name: str) -> None:
    spec = catalog.find_model(name)
    assert spec is not None and spec.id == "llama-3-8b"


def test_lookup_keeps_close_models_apart(catalog: Catalog) -> None:
    assert catalog.model("llama 3.1 8b").id == "llama-3.1-8b"
    assert catalog.model("llama3:70b").id == "llama-3-70b"
    assert catalog.model("qwen2.5-coder-0.5b").id == "qwen2.5-coder-0.5b"
    assert catalog.model("qwen2.5 0.5b").id == "qwen2.5-0.5b"
    assert catalog.model("mixtral").id == "mixtral-8x7b"


def test_unknown_model_lists_close_matches(catalog: Catalog) -> None:
    with pytest.raises(FitError) as info:
        estimate(catalog, model="llama-4-8b")
    message = str(info.value)
    assert "unknown model 'llama-4-8b'" in message
    assert "llama-3-8b" in message
    assert "--params" in message
    assert "\n" not in message


def test_unknown_quant_and_kv_type(catalog: Catalog) -> None:
    with pytest.raises(FitError, match=r"unknown quantization 'Q9_X'.*Q4_K_M"):
        estimate(catalog, model="llama-3-8b", quant="Q9_X")
    with pytest.raises(FitError, match="unknown KV cache type 'q3_0'"):
        estimate(catalog, model="llama-3-8b", kv_type="q3_0")
    assert estimate(catalog, model="llama-3-8b", quant="q4_k_m").quant == "Q4_K_M"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "llama-3-8b", "ctx": 0},
        {"model": "llama-3-8b", "vram_gb": -8},
        {"model": "llama-3-8b", "bandwidth_gbps": 0},
        {"params_b": 0},
        {"params_b": 7, "active_params_b": 9},
        {},
    ],
)
def test_impossible_inputs_are_fit_errors(catalog: Catalog, kwargs: dict[str, Any]) -> None:
    with pytest.raises(FitError):
        estimate(catalog, **kwargs)


# --- --params for models the catalogue does not know ---------------------------------------


def test_params_path_estimates_kv_from_a_typical_shape(catalog: Catalog) -> None:
    r = estimate(catalog, model="my-finetune", params_b=13, ctx=4096, vram_gb=12)
    assert r.model_id is None and r.model_name == "my-finetune"
    assert r.weights_gb == pytest.approx(13 * 4.84 / 8)
    assert r.active_params_b == 13
    assert "estimated" in r.shape_source
    base = catalog.nearest_dense(13)
    assert r.kv_cache_gb == pytest.approx(
        2 * base.layers * base.kv_heads * base.head_dim * 4096 * 2 / 1e9
    )
    assert any("estimated" in a for a in r.assumptions)
    assert any("dense" in a for a in r.assumptions)


def test_params_path_with_a_given_shape(catalog: Catalog) -> None:
    r = estimate(catalog, params_b=13, layers=40, kv_heads=40, head_dim=128, ctx=4096)
    assert r.kv_cache_gb == pytest.approx(2 * 40 * 40 * 128 * 4096 * 2 / 1e9)
    assert r.shape_source == "given on the command line"
    assert not any("estimated" in a for a in r.assumptions)


def test_params_path_moe(catalog: Catalog) -> None:
    r = estimate(catalog, params_b=100, active_params_b=10, bandwidth_gbps=200)
    assert r.max_tokens_per_s == pytest.approx(200 / (10 * 4.84 / 8))


def test_to_json_and_explain(catalog: Catalog) -> None:
    r = estimate(catalog, model="llama3 8b", ctx=8192, vram_gb=8, bandwidth_gbps=100)
    data = json.loads(json.dumps(r.to_json()))
    for key in ("weights_gb", "kv_cache_gb", "total_gb", "fits", "max_tokens_per_s"):
        assert key in data
    assert data["fits"] is True
    assert data["inputs"]["model"] == "llama-3-8b" and data["inputs"]["ctx"] == 8192
    assert data["assumptions"]
    text = r.explain()
    assert "2 x 32 layers x 8 KV heads x 128 head_dim x 8,192 tokens x 2 bytes" in text
    assert "GiB" in text and "Assumptions" in text
    assert "20.6 tokens/s" in text
    with pytest.raises(AttributeError):
        r.weights_gb = 1.0  # type: ignore[misc]


# --- questions in chat --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("can I run llama 3 8b on 8gb vram?", {"model": "llama-3-8b", "memory_gb": 8.0}),
        ("will a 70b model fit in 24 GB?", {"model": None, "params_b": 70.0, "memory_gb": 24.0}),
        (
            "can my 16gb mac run mixtral q4?",
            {
                "model": "mixtral-8x7b",
                "memory_gb": 16.0,
                "memory_kind": "unified",
                "quant": "Q4_K_M",
            },
        ),
        ("what fits in 12GB of VRAM", {"list_models": True, "memory_gb": 12.0, "ctx": 4096}),
        (
            "Is 24 GB enough for Qwen2.5 32B at Q5_K_M with 8k context?",
            {"model": "qwen2.5-32b", "quant": "Q5_K_M", "ctx": 8192},
        ),
        ("llama3:70b on a 48GB card?", {"model": "llama-3-70b", "memory_kind": "vram"}),
        ("Can I load Mistral-7B-Instruct in 6 GB of VRAM?", {"model": "mistral-7b"}),
        ("will gemma2:9b run on my 8 gig gpu?", {"model": "gemma-2-9b", "memory_gb": 8.0}),
        (
            "Does Llama 3.1 405B fit in 256GB RAM at q2_k?",
            {"model": "llama-3.1-405b", "quant": "Q2_K", "memory_kind": "ram"},
        ),
        ("can I run a 13b model on a 12gb 3060?", {"params_b": 13.0, "memory_gb": 12.0}),
        ("which models can I run with 8GB VRAM?", {"list_models": True, "memory_gb": 8.0}),
        ("Can I run qwen2.5-coder 0.5b with 2GB?", {"model": "qwen2.5-coder-0.5b"}),
        (
            "can I run deepseek v2 lite on 16gb at 100 GB/s?",
            {"model": "deepseek-v2-lite", "memory_gb": 16.0, "bandwidth_gbps": 100.0},
        ),
        (
            "can i run llama 3.1 8b q8_0 with 32k context on a 12 GB card",
            {"model": "llama-3.1-8b", "quant": "Q8_0", "ctx": 32768, "assumed": ()},
        ),
        ("llama 3 with 70B params on 64gb?", {"model": "llama-3-70b"}),
        ("how much vram do I need for phi3 mini", {"model": "phi-3-mini", "memory_gb": None}),
        ("why won't mixtral load on my 24gb card?", {"model": "mixtral-8x7b", "memory_gb": 24.0}),
        # the model's own size is not the memory it must fit in
        ("can a 40GB gguf run on 24 GB vram?", {"memory_gb": 24.0, "memory_kind": "vram"}),
        # an amount the model is said to take is not the memory to fit it in
        ("can a 13b model that takes 8gb run on my 12gb card?", {"memory_gb": 12.0}),
        ("can the model size of 7gb load on an 8 GB gpu?", {"memory_gb": 8.0}),
        # memory labelled as such is not the VRAM of a GPU named beside it (dev hl030)
        (
            "How large can the Deepseek R1 model be deployed with 8 * 4090,256G memory?",
            {"memory_gb": 256.0, "memory_kind": "memory"},
        ),
        ("can I run a 70b on a 4090 with 64GB RAM?", {"memory_gb": 64.0, "memory_kind": "ram"}),
        ("will llama 3 70b fit on a 48GB card?", {"memory_gb": 48.0, "memory_kind": "vram"}),
        # the count of cards and "each" after the amount (dev hn002)
        (
            "Is it possible to load Llama 2 70B with two graphics cards with 24 GB VRAM each?",
            {"memory_gb": 48.0, "memory_kind": "vram"},
        ),
        ("can 4 gpus with 16gb each run a 70b?", {"memory_gb": 64.0}),
    ],
)
def test_parser_recognises_fit_questions(
    catalog: Catalog, question: str, expected: dict[str, Any]
) -> None:
    query = parse_fit_question(question, catalog)
    assert query is not None, question
    for key, value in expected.items():
        assert getattr(query, key) == value, (question, key, query)


@pytest.mark.parametrize(
    "question",
    [
        "what is the kv cache?",
        "why is my gpu slow",
        "how does quantization work?",
        "what is VRAM?",
        "tell me about llama 3 8b",
        "why does llama 3 8b run slowly on my 8gb card?",
        "how fast is 100 GB/s memory bandwidth?",
        "what does Q4_K_M mean?",
        "is my 8gb gpu slow?",
        # memory the question reports and wants explained, or training: not "does it fit?"
        "what could explain the jump in model memory from 11GB to 21GB?",
        "can TensorFlow only allocate 4 GB of GPU memory?",
        "fine-tuning a 7B model requires about 112 GB of VRAM, why?",
        "I have 64 GB and the Qwen models give me 11 tokens a second",
        # a size and an amount told, then another question asked about them
        "A friend says a 13B model now runs in 4 GB of RAM. What setting makes that happen?",
        # the only amount is the model's size: a multi-GPU question, not "does it fit in N GB?"
        "will a model of 140 gb use both gpu cards automatically or do I change the model file?",
        # memory the question reports as used, or wants to reduce: not a capacity question
        "An 8b model should take about 16GB - How does VLLM use all the GPU memory?",
        "It's using 19gb of vram for a 13b model, is that possible?",
        "how can I set the context to reduce the ram used? mixtral is eating up 57gb of 64 gb",
        "how do I reduce the ram a 13b model needs on 16 gb?",
        # memory the question says it grew by
        "is it normal that my vram jumps like 6gb when i set context to 32k? running nemo 12b",
        # a latency question that mentions the card
        "A6000 48GB with a 70b awq model, first token latency is 15 s, what do I need to tune?",
        # pooling cards for one model: the multi-GPU notes answer it
        "can i combine a 3060 12gb and a 3070 8gb to get 20gb vram for one model?",
        # several models at once: the calculator sizes one model
        "can ollama keep two models loaded at once on an 8gb card?",
        "can I run 3 small models at the same time on 24 GB?",
        "",
    ],
)
def test_parser_ignores_other_questions(catalog: Catalog, question: str) -> None:
    assert parse_fit_question(question, catalog) is None


def first_sentence(text: str) -> str:
    return sentences(text)[0]


def test_answer_yes(catalog: Catalog) -> None:
    query = parse_fit_question("can I run llama 3 8b on 8gb vram?", catalog)
    assert query is not None
    text = answer_text(query, catalog)
    first = first_sentence(text)
    assert first.startswith("Yes")
    assert "Llama 3 8B" in first and "8 GB" in first
    assert "4.86 GB" in text  # the weights figure
    assert "2 x 32 layers x 8 KV heads" in text  # and the formula


def test_answer_no_with_the_smaller_option(catalog: Catalog) -> None:
    query = parse_fit_question("will a 70b model fit in 24 GB?", catalog)
    assert query is not None
    text = answer_text(query, catalog)
    assert first_sentence(text).startswith("No")
    assert "70B" in first_sentence(text)
    assert "Q2_K" in text and "estimated" in text


def test_answer_gives_each_size_asked_about(catalog: Catalog) -> None:
    query = parse_fit_question("macbook air m2 16gb, what can i run? 13b? 30b?", catalog)
    assert query is not None
    assert (query.params_b, query.other_sizes_b) == (13, (30,))
    text = answer_text(query, catalog)
    assert first_sentence(text).startswith("Yes") and "13B" in first_sentence(text)
    assert "A 30B model at the same settings needs about" in text
    assert "too much for it" in text


def test_named_model_is_one_size_only(catalog: Catalog) -> None:
    query = parse_fit_question("can i run deepseek r1 on a 4070 ti 12gb + 32gb ram", catalog)
    assert query is not None
    assert (query.model, query.other_sizes_b) == ("deepseek-r1", ())
    assert first_sentence(answer_text(query, catalog)).startswith("No")


def test_answer_mac_uses_the_gpu_share(catalog: Catalog) -> None:
    # ~11.5 GB fits in 16 GB, but not in the two thirds (10.7 GB) a 16 GB Mac gives its GPU
    query = FitQuery(params_b=16, memory_gb=16, memory_kind="unified")
    text = answer_text(query, catalog)
    assert first_sentence(text).startswith("No")
    assert "10.7 GB" in text
    assert answer_text(FitQuery(params_b=16, memory_gb=16, memory_kind="vram"), catalog).startswith(
        "Yes"
    )


def test_answer_list_names_models_that_fit(catalog: Catalog) -> None:
    query = parse_fit_question("what fits in 12GB of VRAM", catalog)
    assert query is not None
    text = answer_text(query, catalog)
    first = first_sentence(text)
    assert first.startswith("These fit in 12 GB")
    assert "Q4_K_M" in first and "4,096" in first
    assert "Qwen2.5 14B" in first and "Llama 3 8B" in first
    assert "70B" not in first
    for spec in catalog.models.values():  # every model named as fitting really does
        if f"{spec.name} (" in first:
            assert estimate(catalog, model=spec.id, vram_gb=12).fits, spec.id


def test_answer_list_follows_the_kv_type(catalog: Catalog) -> None:
    f16 = answer_text(FitQuery(memory_gb=8, list_models=True, ctx=32768), catalog)
    q4 = answer_text(FitQuery(memory_gb=8, list_models=True, ctx=32768, kv_type="q4_0"), catalog)
    assert "x 2 bytes" in f16 and "x 0.5625 bytes" in q4
    assert "q4_0 KV cache" in first_sentence(q4) and "KV cache" not in first_sentence(f16)
    # Llama 3 8B: 4.86 GB weights + 4.29 GB f16 cache at 32k is too much; 1.21 GB at q4_0 is not
    assert "Llama 3 8B (" in first_sentence(q4)
    assert "Llama 3 8B (" not in first_sentence(f16)


def test_answer_list_when_nothing_fits(catalog: Catalog) -> None:
    text = answer_text(FitQuery(memory_gb=0.3, list_models=True), catalog)
    assert first_sentence(text).startswith("None of the")
    assert "SmolLM2 135M" in text


def test_answer_without_memory_gives_the_requirement(catalog: Catalog) -> None:
    text = answer_text(FitQuery(model="phi-3-mini"), catalog)
    assert first_sentence(text).startswith("Phi-3 mini at Q4_K_M")
    assert "needs about" in first_sentence(text)


def test_answers_fit_in_a_discord_message(catalog: Catalog) -> None:
    for question in (
        "what fits in 24GB of VRAM",
        "can I run deepseek v2 lite on 16gb at 100 GB/s?",
        "can my 16gb mac run mixtral q4?",
    ):
        query = parse_fit_question(question, catalog)
        assert query is not None
        assert len(answer_text(query, catalog)) < 1500


# --- python -m bot fit --------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "fit", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_json() -> None:
    proc = run_cli(
        "--model", "llama-3-8b", "--quant", "Q4_K_M", "--ctx", "8192",
        "--vram", "8", "--bandwidth", "100", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert 4.5 <= data["weights_gb"] <= 5.3
    assert 0.95 <= data["kv_cache_gb"] <= 1.15
    assert data["fits"] is True
    assert 15 <= data["max_tokens_per_s"] <= 23
    assert data["total_gb"] > data["weights_gb"] + data["kv_cache_gb"]
    assert data["inputs"]["quant"] == "Q4_K_M" and data["assumptions"]


def test_cli_json_without_vram_or_bandwidth_gives_nulls() -> None:
    proc = run_cli("--params", "7", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["fits"] is None and data["max_tokens_per_s"] is None


def test_cli_text_shows_the_formula() -> None:
    proc = run_cli("--model", "mixtral 8x7b", "--vram", "24")
    assert proc.returncode == 0, proc.stderr
    assert "fits in 24 GB: no" in proc.stdout
    assert "46.7B params x 4.84 bits / 8" in proc.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--model", "llama-4-8b"), "unknown model 'llama-4-8b'"),
        (("--model", "llama-3-8b", "--kv-type", "q3"), "unknown KV cache type"),
        (("--model", "llama-3-8b", "--ctx", "0"), "--ctx"),
    ],
)
def test_cli_errors_are_one_line_exit_2(args: tuple[str, ...], expected: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert proc.stdout == ""


def test_memory_of_several_cards_adds_up(catalog: Catalog) -> None:
    query = parse_fit_question("can I run a 70b on two 24gb gpus?", catalog)
    assert query is not None and query.memory_gb == 48
    assert parse_fit_question("2x 24gb enough for llama 3 70b?", catalog).memory_gb == 48


def test_cpu_only_memory_is_ram_and_a_yes_no_list_says_yes(catalog: Catalog) -> None:
    query = parse_fit_question("can i run llms on just cpu no gpu? i have 32gb ddr4", catalog)
    assert query is not None and query.memory_kind == "ram" and query.yes_no
    assert answer_text(query, catalog).startswith("Yes, these fit in 32 GB of RAM")
    plain = parse_fit_question("what can i run on 8gb vram?", catalog)
    assert answer_text(plain, catalog).startswith("These fit in 8 GB of VRAM")
