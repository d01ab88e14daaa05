"""bot.faithfulness: each generated sentence is accepted only when its sources support it."""

from __future__ import annotations

import pytest

from bot.faithfulness import Evidence, _restated, check_sentence, split_complete
from bot.knowledge import KnowledgeBase
from bot.text import content_stems


@pytest.fixture
def evidence(kb: KnowledgeBase) -> Evidence:
    """Every fixture entry, with every false_claims pattern."""
    claims = [p for e in kb.entries.values() for p in e.false_claims]
    return Evidence(list(kb.entries.values()), claims)


@pytest.fixture
def evidence_without_claims(kb: KnowledgeBase) -> Evidence:
    """Every fixture entry but no false_claims, so only the other checks can reject."""
    return Evidence(list(kb.entries.values()), [])


def test_supported_paraphrase_passes(evidence: Evidence) -> None:
    verdict = check_sentence(
        "Inference means running a trained model on new input to get an output.", evidence
    )
    assert verdict.ok
    assert verdict.reason == "supported"


def test_supported_sentence_with_a_source_number_passes(evidence: Evidence) -> None:
    verdict = check_sentence(
        "A 4-bit model needs about a quarter of the memory of a 16-bit model.", evidence
    )
    assert verdict.ok


def test_negation_flip_is_rejected_as_a_contradiction(evidence_without_claims: Evidence) -> None:
    verdict = check_sentence("Yes, a model learns during inference.", evidence_without_claims)
    assert not verdict.ok
    assert verdict.contradiction
    assert verdict.reason.startswith("contradicts its source")


def test_false_claim_pattern_rejects_the_sentence(evidence: Evidence) -> None:
    verdict = check_sentence("Yes, a model learns during inference.", evidence)
    assert not verdict.ok
    assert verdict.contradiction
    assert "misconception" in verdict.reason


def test_false_claims_apply_even_when_their_entry_is_not_a_source(kb: KnowledgeBase) -> None:
    claims = [p for e in kb.entries.values() for p in e.false_claims]
    training_only = Evidence([kb.entries["training"]], claims)
    verdict = check_sentence("The model keeps learning from every chat.", training_only)
    assert verdict.contradiction
    assert verdict.reason.startswith("states a misconception")


def test_number_not_in_sources_is_rejected(evidence: Evidence) -> None:
    verdict = check_sentence(
        "A small model can produce about 900 tokens per second on 2 CPU cores.", evidence
    )
    assert not verdict.ok
    assert "900" in verdict.reason


def test_off_topic_sentence_strays(evidence: Evidence) -> None:
    verdict = check_sentence("The weather in Chicago is sunny and warm today.", evidence)
    assert not verdict.ok
    assert verdict.reason.startswith("strays from the sources")
    assert not verdict.contradiction


def test_opposite_word_swap_is_rejected(evidence: Evidence) -> None:
    verdict = check_sentence(
        "Inference on a GPU is usually slower than on a CPU because a GPU does many "
        "multiplications in parallel.",
        evidence,
    )
    assert not verdict.ok
    assert verdict.contradiction
    assert "'slower'" in verdict.reason
    assert "'faster'" in verdict.reason


def test_the_unswapped_sentence_passes(evidence: Evidence) -> None:
    verdict = check_sentence(
        "Inference on a GPU is usually faster than on a CPU because a GPU does many "
        "multiplications in parallel.",
        evidence,
    )
    assert verdict.ok


def test_looping_sentence_is_rejected(evidence: Evidence) -> None:
    verdict = check_sentence(
        "The model reads the weights the model reads the weights the model reads the weights.",
        evidence,
    )
    assert not verdict.ok
    assert verdict.reason == "repeats itself"


def test_sentence_without_content_is_rejected(evidence: Evidence) -> None:
    verdict = check_sentence("I can only answer from my notes.", evidence)
    assert not verdict.ok
    assert verdict.reason == "carries no content of its own"


def test_evidence_only_covers_the_given_entries(kb: KnowledgeBase) -> None:
    only_tokens = Evidence([kb.entries["tokenization"]], [])
    verdict = check_sentence(
        "Quantization stores the weights with fewer bits to save GPU memory.", only_tokens
    )
    assert not verdict.ok


def test_split_complete_keeps_the_unfinished_tail() -> None:
    done, rest = split_complete("Inference is fast. The model re")
    assert done == ["Inference is fast."]
    assert rest == "The model re"


def test_split_complete_returns_all_sentences_after_a_clean_end() -> None:
    done, rest = split_complete("Inference is fast. Training is slow. ")
    assert done == ["Inference is fast.", "Training is slow."]
    assert rest == ""


def test_split_complete_holds_back_a_sentence_still_streaming() -> None:
    # without the trailing space the last "sentence" may still grow ("2." -> "2.5 GB")
    done, rest = split_complete("Inference is fast. It needs 2.")
    assert done == ["Inference is fast."]
    assert rest == "It needs 2."


def test_split_complete_of_a_fragment_returns_it_as_the_tail() -> None:
    assert split_complete("The model") == ([], "The model")


def test_a_sentence_glued_from_two_sources_needs_min_one_source() -> None:
    sources = Evidence.from_texts(
        [
            "Every expert must be loaded because different tokens pick different experts.",
            "Mixtral uses about 13 billion active parameters per token.",
        ],
        [],
    )
    glued = "Mixtral loads the active parameters because different tokens pick experts."
    # half of it matches one source sentence; its "because" clause comes from the other
    verdict = check_sentence(glued, sources)
    assert verdict.reason == "gives a reason from the notes for a claim they do not make"
    verdict = check_sentence(glued, sources, min_one_source=0.8)
    assert not verdict.ok and verdict.reason == "no single source sentence says this"
    close = "Every expert must be loaded, since different tokens pick different experts."
    assert check_sentence(close, sources, min_one_source=0.8).ok


def test_a_number_keeps_the_context_of_its_source_sentence() -> None:
    sources = Evidence.from_texts(
        ["At FP16 a 7B model needs about 14 GB of memory for inference."], []
    )
    moved = "A 7B model needs about 14 GB of memory for finetuning at FP16."
    verdict = check_sentence(moved, sources, min_one_source=0.8)
    assert verdict.reason == "puts a number in a context its source sentence does not give"
    kept = "A 7B model at FP16 needs about 14 GB of memory for inference."
    assert check_sentence(kept, sources, min_one_source=0.8).ok


def test_the_askers_premise_is_not_explained_by_a_note() -> None:
    sources = Evidence.from_texts(
        ["A model too large for the VRAM runs some layers on the GPU and the rest on the CPU."],
        [],
    )
    premise = (
        "The official website says it avoids the internet because a model too large for "
        "the VRAM runs some layers on the GPU and the rest on the CPU."
    )
    asked = frozenset(content_stems("The official website says it avoids the internet. How?"))
    verdict = check_sentence(premise, sources, asked)
    assert verdict.reason == "gives a reason from the notes for a claim they do not make"
    own = "Some layers run on the CPU because the model is too large for the VRAM."
    assert check_sentence(own, sources).ok


def test_an_abbreviation_spelled_out_unlike_the_sources_is_rejected() -> None:
    source = "A mixture of experts (MoE) model sends each token through a few experts only."
    evidence = Evidence.from_texts([source], [])
    invented = "MoE (Multi-Expert Encoder) sends each token through a few experts only."
    verdict = check_sentence(invented, evidence)
    assert not verdict.ok and verdict.reason.startswith("spells out an abbreviation")
    for same in ("MoE (mixture of experts) sends", "MoE (Mixture-of-Experts) sends"):
        assert check_sentence(f"{same} each token through a few experts only.", evidence).ok


def test_a_not_in_a_clause_the_sentence_does_not_use_is_no_contradiction() -> None:
    source = (
        "It generates plausible text rather than looking facts up: each token is chosen "
        "because it fits patterns learned in training, and nothing in plain inference "
        "checks the result against a source."
    )
    evidence = Evidence.from_texts([source], [])
    verdict = check_sentence("It generates plausible text rather than looking facts up.", evidence)
    assert verdict.ok, verdict.reason


def test_a_dropped_not_in_the_clause_the_sentence_uses_is_a_contradiction() -> None:
    source = "Quantization makes the model smaller, but it does not make it faster on every GPU."
    evidence = Evidence.from_texts([source], [])
    verdict = check_sentence(
        "Quantization makes the model smaller and faster on every GPU.", evidence
    )
    assert verdict.contradiction
    kept = check_sentence("Quantization makes the model smaller on every GPU.", evidence)
    assert not kept.contradiction


def test_split_complete_keeps_a_line_break_in_the_tail() -> None:
    done, rest = split_complete("It happens because:\n")
    assert done == []
    assert rest == "It happens because:\n"  # the next "1." starts a list item


def test_the_askers_words_are_claims_unless_the_sentence_restates_the_question() -> None:
    sources = Evidence.from_texts(
        [
            "Training is a large, mostly one-time bill for the weights.",
            "Around 0 to 0.3 suits code; about 0.7 to 1.0 suits creative writing.",
        ],
        [],
    )
    asked = frozenset(content_stems("which costs more overall, training gpt once or running it?"))
    pinned = "Training GPT once costs more overall, as it is a large one-time bill."
    assert not check_sentence(pinned, sources, asked, min_one_source=0.8).ok
    asked = frozenset(content_stems("what temp should i use for coding vs stories"))
    moved = "The temperature for coding should be around 0.7 to 1.0."
    assert not check_sentence(moved, sources, asked, min_one_source=0.8).ok
    # a yes/no or a denial may restate the question's words; a bare size always may
    asked = frozenset(content_stems("is a 7b model on gpt scale cheap?"))
    assert _restated("No, it is not cheap.", asked) == asked
    assert _restated("Yes, it is cheap.", asked) == asked
    assert _restated("It is cheap.", asked) == frozenset(w for w in asked if "7" in w)
