from bot.answer.compose import Notes
from bot.answer.passages import Passage
from bot.answer.stance import normal_stance

MEMORY = Passage(
    "kv-cache#faq2",
    "kv-cache",
    "KV cache",
    "faq",
    "That is expected: the engine reserves the KV cache for the whole context.",
    "Why does the same model take more memory with a 16k context than with an 8k context?",
)
DIAGNOSIS = Passage(
    "dropout#faq0",
    "dropout",
    "Dropout",
    "faq",
    "Most likely it is still in training mode: dropout is on.",
    "Why does my PyTorch model give different predictions for the same input?",
)
FLOOR = 0.9


def test_is_this_normal_about_the_faqs_behaviour_is_expected() -> None:
    notes = Notes((MEMORY,), (0.91,))
    question = "16k context uses 2 GB more than 8k on the same model. Is this normal?"
    assert normal_stance(notes, question, FLOOR) is True


def test_is_something_wrong_gets_no() -> None:
    notes = Notes((MEMORY,), (0.91,))
    question = "The 16k context uses far more memory than 8k. Is there something wrong?"
    assert normal_stance(notes, question, FLOOR) is False


def test_no_stance_for_a_faq_about_another_case_or_a_mistake_or_no_such_question() -> None:
    question = "Is this normal?"
    assert normal_stance(Notes((MEMORY,), (0.88,)), question, FLOOR) is None
    assert normal_stance(Notes((DIAGNOSIS,), (0.95,)), question, FLOOR) is None
    assert normal_stance(Notes((MEMORY,), (0.95,)), "How big is the KV cache?", FLOOR) is None
    both = "Am I doing something wrong? Is it completely normal?"
    assert normal_stance(Notes((MEMORY,), (0.95,)), both, FLOOR) is None
    assert normal_stance(Notes((MEMORY,)), question, FLOOR) is None  # no embeddings
