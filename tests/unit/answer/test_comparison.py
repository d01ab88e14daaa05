import pytest

from bot.answer.comparison import direction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why is my GPU slower than my CPU for a small model?", "gpu_slower"),
        ("Why is my CPU so much slower than a GPU for the same model?", "gpu_faster"),
        ("why is my 5090 like 10x faster than my ryzen 9 at running llama", "gpu_faster"),
        ("GPU infer time is slow than CPU infer time.", "gpu_slower"),
        ("my cpu runs it faster then the rtx 3060??", "gpu_slower"),
        # no comparison, or not between the two
        ("Why are GPUs used for AI inference instead of CPUs?", None),
        ("Is Q4 slower than F16 on my GPU?", None),
        ("the gpu works. But the cpu is faster than it", None),
        ("", None),
    ],
)
def test_direction(text: str, expected: str | None) -> None:
    assert direction(text) == expected
