"""bot.knowledge: a valid folder loads; each broken entry is reported with file and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.errors import KnowledgeError
from bot.knowledge import load_knowledge

from .conftest import write_yaml

EntryData = Callable[[str], dict[str, Any]]


def single_entry_folder(tmp_path: Path, data: dict[str, Any], name: str | None = None) -> Path:
    """A knowledge folder holding one entry file (named after data['id'] unless given)."""
    directory = tmp_path / "kb"
    file_name = name or str(data.get("id", "entry"))
    write_yaml(directory / "entries" / f"{file_name}.yaml", data)
    return directory


def standalone(entry_data: EntryData, entry_id: str = "tokenization") -> dict[str, Any]:
    data = entry_data(entry_id)
    data["related"] = []
    return data


def load_error(directory: Path) -> str:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(directory)
    return str(info.value)


def test_fixture_folder_loads_every_entry(knowledge_dir: Path) -> None:
    kb = load_knowledge(knowledge_dir)
    assert sorted(kb.entries) == ["inference", "quantization", "tokenization", "training"]
    assert len(kb) == 4


def test_valid_entry_fields_are_parsed(knowledge_dir: Path) -> None:
    entry = load_knowledge(knowledge_dir).entries["inference"]
    assert entry.title == "Inference"
    assert entry.aliases == ("model inference", "inferencing", "running a model")
    assert entry.topic == "basics"
    assert entry.definition.startswith("Inference is running an already trained model")
    assert entry.faq[0].question == "Does the model learn from my questions during inference?"
    assert entry.faq[0].answer.startswith("No - the weights stay frozen")
    assert entry.related == ("training", "quantization")
    assert entry.path == knowledge_dir / "entries" / "inference.yaml"


def test_false_claims_compile_case_insensitive(knowledge_dir: Path) -> None:
    entry = load_knowledge(knowledge_dir).entries["inference"]
    assert any(p.search("The MODEL LEARNS DURING inference") for p in entry.false_claims)


def test_text_whitespace_is_normalized(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["definition"] = "Tokenization   splits\n text\tinto tokens."
    kb = load_knowledge(single_entry_folder(tmp_path, data))
    assert kb.entries["tokenization"].definition == "Tokenization splits text into tokens."


def test_synonyms_are_loaded_lower_case(tmp_path: Path, entry_data: EntryData) -> None:
    directory = single_entry_folder(tmp_path, standalone(entry_data))
    write_yaml(directory / "synonyms.yaml", {"VRAM": "GPU Memory"})
    assert load_knowledge(directory).synonyms == {"vram": "gpu memory"}


def test_glossary_lists_titles_and_aliases(knowledge_dir: Path) -> None:
    glossary = load_knowledge(knowledge_dir).glossary()
    assert ("Quantization", "quantization") in glossary
    assert ("tokenizer", "tokenization") in glossary
    names = [name.lower() for name, _ in glossary]
    assert names == sorted(names)


def test_missing_field_names_file_and_field(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    del data["definition"]
    directory = single_entry_folder(tmp_path, data)
    message = load_error(directory)
    assert str(directory / "entries" / "tokenization.yaml") in message
    assert "'definition' is missing" in message


def test_unknown_field_names_file_and_field(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["summary"] = "extra"
    directory = single_entry_folder(tmp_path, data)
    message = load_error(directory)
    assert str(directory / "entries" / "tokenization.yaml") in message
    assert "unknown field 'summary'" in message


def test_bad_topic_names_file_and_field(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["topic"] = "astrology"
    directory = single_entry_folder(tmp_path, data)
    message = load_error(directory)
    assert "tokenization.yaml" in message
    assert "field 'topic'" in message


def test_id_different_from_file_name_is_an_error(tmp_path: Path, entry_data: EntryData) -> None:
    directory = single_entry_folder(tmp_path, standalone(entry_data), name="tokens")
    message = load_error(directory)
    assert str(directory / "entries" / "tokens.yaml") in message
    assert "field 'id' (tokenization) must equal the file name" in message


def test_id_not_lowercase_with_dashes_is_an_error(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["id"] = "Token_Ization"
    message = load_error(single_entry_folder(tmp_path, data))
    assert "Token_Ization.yaml" in message
    assert "field 'id' must be lowercase-with-dashes" in message


def test_related_to_unknown_id_names_file_and_field(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["related"] = ["kv-cache"]
    directory = single_entry_folder(tmp_path, data)
    message = load_error(directory)
    assert str(directory / "entries" / "tokenization.yaml") in message
    assert "related[0]" in message
    assert "kv-cache" in message


def test_false_claim_that_does_not_compile_is_named(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["false_claims"] = [r"tokens\s+are\s+(always", r"fine"]
    message = load_error(single_entry_folder(tmp_path, data))
    assert "tokenization.yaml" in message
    assert "false_claims[0]" in message
    assert "not a regex" in message


def test_false_claim_matching_own_text_is_an_error(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["false_claims"] = [r"tokens\s+are\s+always\s+whole\s+words", r"parts\s+of\s+words"]
    message = load_error(single_entry_folder(tmp_path, data))
    assert "tokenization.yaml" in message
    assert "false_claims[1]" in message
    assert "matches the entry's own text" in message


def test_false_claim_matching_a_faq_answer_is_an_error(
    tmp_path: Path, entry_data: EntryData
) -> None:
    data = entry_data("quantization")
    data["related"] = []
    data["false_claims"] = [r"loses\s+a\s+little\s+accuracy"]
    message = load_error(single_entry_folder(tmp_path, data))
    assert "false_claims[0]" in message


def test_faq_item_without_answer_is_named(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["faq"] = [{"q": "Is a token a word?"}]
    message = load_error(single_entry_folder(tmp_path, data))
    assert "tokenization.yaml" in message
    assert "faq[0]" in message


def test_faq_item_with_empty_answer_is_named(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["faq"] = [{"q": "Is a token a word?", "a": "Mostly not."}, {"q": "Why?", "a": "  "}]
    message = load_error(single_entry_folder(tmp_path, data))
    assert "faq[1]" in message


def test_faq_that_is_not_a_list_is_named(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["faq"] = "Is a token a word? No."
    message = load_error(single_entry_folder(tmp_path, data))
    assert "field 'faq'" in message


def test_list_field_with_wrong_type_is_named(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["aliases"] = "tokenizer"
    message = load_error(single_entry_folder(tmp_path, data))
    assert "field 'aliases'" in message


def test_entry_without_sources_is_an_error(tmp_path: Path, entry_data: EntryData) -> None:
    data = standalone(entry_data)
    data["sources"] = []
    message = load_error(single_entry_folder(tmp_path, data))
    assert "field 'sources'" in message


def test_invalid_yaml_names_the_file(tmp_path: Path, entry_data: EntryData) -> None:
    directory = single_entry_folder(tmp_path, standalone(entry_data))
    broken = directory / "entries" / "broken.yaml"
    broken.write_text("id: broken\ntitle: [unclosed\n", encoding="utf-8")
    message = load_error(directory)
    assert str(broken) in message
    assert "not valid YAML" in message


def test_entry_that_is_not_a_mapping_is_named(tmp_path: Path, entry_data: EntryData) -> None:
    directory = single_entry_folder(tmp_path, standalone(entry_data))
    odd = directory / "entries" / "odd.yaml"
    odd.write_text("- just\n- a list\n", encoding="utf-8")
    message = load_error(directory)
    assert str(odd) in message
    assert "expected a mapping" in message


def test_empty_entries_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kb" / "entries").mkdir(parents=True)
    message = load_error(tmp_path / "kb")
    assert "no entries" in message


def test_missing_entries_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    message = load_error(tmp_path / "kb")
    assert str(tmp_path / "kb" / "entries") in message
    assert "not found" in message


def test_broken_synonyms_file_is_named(tmp_path: Path, entry_data: EntryData) -> None:
    directory = single_entry_folder(tmp_path, standalone(entry_data))
    write_yaml(directory / "synonyms.yaml", ["vram", "gpu memory"])
    message = load_error(directory)
    assert "synonyms.yaml" in message
