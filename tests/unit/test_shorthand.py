"""bot.shorthand: chat shorthand spelled out before a question is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.shorthand import NO_SHORTHAND, Shorthand, load_shorthand

TABLE = {"wat": "what", "r": "are", "u": "you", "ur": "your", "w/": "with", "w/o": "without"}


@pytest.fixture
def shorthand() -> Shorthand:
    return Shorthand(TABLE)


def test_shorthand_is_spelled_out(shorthand: Shorthand) -> None:
    assert shorthand.expand("wat r tokens, do u know?") == "what are tokens, do you know?"


def test_capital_first_letter_is_kept(shorthand: Shorthand) -> None:
    assert shorthand.expand("Wat is ur gpu") == "What is your gpu"


def test_letters_inside_words_and_contractions_stay(shorthand: Shorthand) -> None:
    assert shorthand.expand("count the r's in strawberry") == "count the r's in strawberry"
    assert shorthand.expand("u-net and q4_k_u run") == "u-net and q4_k_u run"
    assert shorthand.expand("rust and user") == "rust and user"


def test_single_capital_letter_is_not_shorthand(shorthand: Shorthand) -> None:
    # "R" is a language and "U" a letter: a single letter counts only in lower case
    assert shorthand.expand("R or U") == "R or U"


def test_slash_shorthand_needs_no_break_after_it(shorthand: Shorthand) -> None:
    assert shorthand.expand("a 3060 w/12gb, w/ 32gb ram, w/o cuda") == (
        "a 3060 with 12gb, with 32gb ram, without cuda"
    )


def test_empty_table_changes_nothing() -> None:
    assert NO_SHORTHAND.expand("wat r u") == "wat r u"


def test_the_project_table_loads_and_reads_discord_style() -> None:
    table = load_shorthand(Path(__file__).parents[2] / "knowledge" / "shorthand.yaml")
    assert table.expand("wat r tokens? is smth broken") == "what are tokens? is something broken"


def test_missing_file_means_no_shorthand(tmp_path: Path) -> None:
    assert load_shorthand(tmp_path / "shorthand.yaml") is NO_SHORTHAND


@pytest.mark.parametrize(
    "text",
    ["words: []", "words: {}", "words: {Wat: what}", "words: {wat: ''}", "other: {}"],
)
def test_broken_file_is_named(tmp_path: Path, text: str) -> None:
    path = tmp_path / "shorthand.yaml"
    path.write_text(text)
    with pytest.raises(KnowledgeError) as info:
        load_shorthand(path)
    assert "shorthand.yaml" in str(info.value)
