"""Shared fixtures for the core unit tests: a small hand-made knowledge folder in tmp_path,
a copy of the project's prompts, a config pointing at both, and a Tutor on ScriptedBackend.

The knowledge here is deliberately tiny and fixed, so these tests do not depend on the
real knowledge/ folder being complete.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripted_backend import ScriptedBackend

from bot.config import PROJECT_ROOT, Config, load_config
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.pipeline import Library, Tutor
from bot.retrieval import Retriever

ENTRIES: dict[str, dict[str, Any]] = {
    "inference": {
        "id": "inference",
        "title": "Inference",
        "aliases": ["model inference", "inferencing", "running a model"],
        "topic": "basics",
        "definition": (
            "Inference is running an already trained model on new input to get an output. "
            "The weights stay frozen during inference, so the model does not learn anything "
            "new while it answers."
        ),
        "details": (
            "Each new token is produced by one forward pass through the network. A small model "
            "with 135 million parameters can produce about 150 tokens per second on 2 CPU cores. "
            "Inference on a GPU is usually faster than on a CPU because a GPU does many "
            "multiplications in parallel."
        ),
        "analogy": (
            "Think of inference like looking something up in a printed dictionary: the book "
            "(the weights) stays the same however often you read it (each answer)."
        ),
        "example": (
            "When you ask a chatbot a question, the reply is produced by inference on a model "
            "that finished training months earlier."
        ),
        "faq": [
            {
                "q": "Does the model learn from my questions during inference?",
                "a": (
                    "No - the weights stay frozen during inference. The model only reads them, "
                    "and nothing you type is written back into the model."
                ),
            }
        ],
        "false_claims": [
            r"\b(model|it)\s+(learns|is learning|keeps learning)\s+(during|while|from)",
            r"inference\s+(updates|changes|adjusts)\s+(the\s+)?weights",
        ],
        "related": ["training", "quantization"],
        "sources": ["Hugging Face course: what happens at inference time"],
    },
    "training": {
        "id": "training",
        "title": "Training",
        "aliases": ["model training", "pretraining"],
        "topic": "training",
        "definition": (
            "Training is the earlier, expensive phase in which a model learns from data and "
            "its weights are adjusted."
        ),
        "details": (
            "Each training step runs a forward pass, a backward pass and a weight update over "
            "a batch of examples. Training a large model takes weeks on thousands of GPUs."
        ),
        "example": (
            "A language model is trained on trillions of tokens of text before anyone can "
            "chat with it."
        ),
        "faq": [
            {
                "q": "Does training change the weights?",
                "a": (
                    "Yes, training adjusts the weights a little after every batch, until the "
                    "model predicts its training data well."
                ),
            }
        ],
        "false_claims": [r"training\s+(is\s+)?(cheap|instant)"],
        "related": ["inference"],
        "sources": ["Goodfellow et al., Deep Learning (MIT Press, 2016)"],
    },
    "quantization": {
        "id": "quantization",
        "title": "Quantization",
        "aliases": ["quantized model", "model quantization", "quant"],
        "topic": "quantization",
        "definition": (
            "Quantization stores a model's weights with fewer bits, for example 4 bits instead "
            "of 16, so the model needs less GPU memory and loads faster."
        ),
        "details": (
            "A 4-bit model needs about a quarter of the memory of the same model at 16 bits. "
            "The small loss of accuracy is usually acceptable for chat."
        ),
        "example": (
            "SmolLM2-135M in the Q4_1 format is a file of about 100 MB instead of about 270 MB "
            "at 16 bits."
        ),
        "faq": [
            {
                "q": "Does quantization make a model less accurate?",
                "a": (
                    "Slightly - rounding the weights loses a little accuracy, but a 4-bit model "
                    "usually answers almost as well as the 16-bit original."
                ),
            }
        ],
        "related": ["inference"],
        "sources": ["llama.cpp documentation: quantization types"],
    },
    "tokenization": {
        "id": "tokenization",
        "title": "Tokenization",
        "aliases": ["tokenizer", "tokenizing"],
        "topic": "tokens",
        "definition": (
            "Tokenization splits text into tokens, small chunks that are often parts of words, "
            "before the model reads it."
        ),
        "details": (
            "A tokenizer has a fixed vocabulary of tens of thousands of tokens. Common words are "
            "one token, while rare words are split into several pieces."
        ),
        "example": 'The word "unbelievable" may be split into the tokens "un", "believ" and "able".',
        "related": [],
        "sources": ["Sennrich et al., Neural Machine Translation of Rare Words (ACL 2016)"],
    },
}

DOMAIN_TERMS = [
    "ai",
    "model",
    "models",
    "inference",
    "training",
    "token",
    "tokens",
    "gpu",
    "cpu",
    "weights",
    "llm",
    "bits",
]

SYNONYMS = {
    "vram": "gpu memory",
    "tok/s": "tokens per second",
}


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def entry_data() -> Callable[[str], dict[str, Any]]:
    """A deep copy of one of the fixture entries, to modify freely in a test."""

    def get(entry_id: str = "inference") -> dict[str, Any]:
        return copy.deepcopy(ENTRIES[entry_id])

    return get


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    """A small, valid knowledge folder: four entries, domain terms and synonyms."""
    directory = tmp_path / "knowledge"
    for entry_id, data in ENTRIES.items():
        write_yaml(directory / "entries" / f"{entry_id}.yaml", data)
    write_yaml(directory / "domain_terms.yaml", {"terms": DOMAIN_TERMS})
    write_yaml(directory / "synonyms.yaml", SYNONYMS)
    return directory


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    """A copy of the project's prompts/ folder, safe to break in a test."""
    target = tmp_path / "prompts"
    shutil.copytree(PROJECT_ROOT / "prompts", target)
    return target


@pytest.fixture
def config_path(tmp_path: Path, knowledge_dir: Path, prompts_dir: Path) -> Path:
    """A config file next to the fixture folders; the model file does not exist."""
    path = tmp_path / "config.yaml"
    path.write_text(
        "model:\n"
        "  path: models/missing-model.gguf\n"
        "  name: scripted-test-model\n"
        "generation:\n"
        "  max_tokens: 40\n"
        "  timeout_s: 10\n"
        "knowledge:\n"
        "  dir: knowledge\n"
        "  prompts_dir: prompts\n"
        "  max_sources: 3\n"
        "  min_score: 3.0\n"
        "limits:\n"
        "  max_question_chars: 200\n"
        "data_dir: data\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path, env={})


@pytest.fixture
def kb(knowledge_dir: Path) -> KnowledgeBase:
    return load_knowledge(knowledge_dir)


@pytest.fixture
def retriever(kb: KnowledgeBase) -> Retriever:
    return Retriever(kb)


@pytest.fixture
def library(config: Config) -> Library:
    return Library.load(config)


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
async def tutor(config: Config, library: Library, backend: ScriptedBackend) -> AsyncIterator[Tutor]:
    t = Tutor(config, library, backend)
    await t.start()
    try:
        yield t
    finally:
        t.close()
