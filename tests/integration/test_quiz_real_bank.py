"""The real question bank in knowledge/quiz, and the no-Discord rule for bot/quiz."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.knowledge import TOPICS, load_knowledge
from bot.quiz.bank import KINDS, QuizBank, load_bank

ROOT = Path(__file__).resolve().parents[2]
QUIZ_DIR = ROOT / "knowledge" / "quiz"

# The knowledge entries the quiz may cite (knowledge/entries/<id>.yaml).
ENTRY_IDS = frozenset(
    """
    inference training training-vs-inference fine-tuning lora model weights-and-parameters
    neural-network transformer attention forward-pass backpropagation tokens tokenization
    prompt system-prompt context-window autoregressive-generation logits sampling temperature
    top-p top-k greedy-decoding determinism hallucination grounding-and-rag embeddings
    in-context-learning learning-from-chat rlhf distillation dropout-and-batchnorm
    applications-of-inference is-this-inference computer-vision recommendation-systems
    fraud-detection machine-translation benchmarks-and-evaluation web-search-and-tools
    prefill-and-decode latency time-to-first-token throughput tokens-per-second batching
    continuous-batching kv-cache kv-cache-reservation conversation-slowdown prompt-caching
    speculative-decoding quantization gguf quantization-names quantization-speed pruning
    memory-bandwidth compute-vs-memory-bound model-memory cpu-inference gpu-inference
    npu-and-edge edge-vs-cloud offloading multi-gpu mixture-of-experts model-size-vs-speed
    cold-start cost-of-inference training-cost-vs-inference-cost serving-and-apis
    local-inference llama-cpp ollama vllm
    """.split()
)


@pytest.fixture(scope="module")
def real_bank() -> QuizBank:
    return load_bank(QUIZ_DIR, set(ENTRY_IDS))


def test_real_bank_size_kinds_and_topics(real_bank: QuizBank) -> None:
    assert len(real_bank) >= 70
    kinds = real_bank.count_by("kind")
    assert set(kinds) == set(KINDS)
    assert all(count >= 10 for count in kinds.values()), kinds
    assert real_bank.topics() == list(TOPICS)  # every topic has questions


def test_real_bank_cites_existing_entries(real_bank: QuizBank) -> None:
    """Every question names the knowledge entry it comes from, and that entry exists."""
    present = set(load_knowledge(ROOT / "knowledge").entries)
    missing = {q.entry for q in real_bank.questions} - present
    assert not missing


def test_every_topic_can_start_a_game(real_bank: QuizBank) -> None:
    for topic in TOPICS:
        picked = real_bank.pick(5, topic)
        assert picked and all(q.topic == topic for q in picked)


def test_quiz_core_has_no_discord_import() -> None:
    package = ROOT / "bot" / "quiz"
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "discord" or n.startswith("discord.") for n in names), path
