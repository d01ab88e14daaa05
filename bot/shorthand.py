"""Chat shorthand spelled out ("wat r u" -> "what are you") before a question is read.

The table is data (knowledge/shorthand.yaml). Retrieval, the embedding model and the
model's prompt all read the rewritten question: the letter "r" in "what r tokens" would
otherwise match notes about the letter r, and "wat does X mean" is not seen as "what is X?".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from bot.datafile import Record, problem, read_yaml, validate

# not inside a word, a contraction or a hyphenated name ("r's", "u-net", "q4_k_u")
_BEFORE = r"(?<![\w'’/-])"
_AFTER = r"(?![\w'’-])"


def _table(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise problem("must be a mapping of shorthand to words")
    for key, full in value.items():
        if not (isinstance(key, str) and key.strip() and isinstance(full, str) and full.strip()):
            raise problem(f"entry {key!r}: shorthand and words must both be non-empty text")
        if key != key.lower():
            raise problem(f"entry {key!r}: write the shorthand in lower case")
    return {str(k): str(v) for k, v in value.items()}


class ShorthandFile(Record):
    """knowledge/shorthand.yaml: `words`, shorthand -> what it stands for."""

    words: Annotated[dict[str, str], BeforeValidator(_table)]


class Shorthand:
    def __init__(self, table: dict[str, str]) -> None:
        self.table = dict(table)
        self._pattern = self._compile(table)

    @staticmethod
    def _compile(table: dict[str, str]) -> re.Pattern[str] | None:
        if not table:
            return None
        alternatives = []
        for key in sorted(table, key=len, reverse=True):
            body = re.escape(key)
            # a single letter only as typed in lower case: "R" is a language, "U" a letter
            body = body if len(key) > 1 else f"(?-i:{body})"
            # "w/8gb": a shorthand ending in "/" needs no break after it
            tail = "" if key.endswith("/") else _AFTER
            alternatives.append(f"{body}{tail}")
        return re.compile(f"{_BEFORE}(?:{'|'.join(alternatives)})", re.IGNORECASE)

    def expand(self, text: str) -> str:
        if self._pattern is None:
            return text

        def spelled(match: re.Match[str]) -> str:
            key = match.group(0)
            full = self.table[key.lower()]
            if key[0].isupper():
                full = full[0].upper() + full[1:]
            after = match.string[match.end() : match.end() + 1]
            return f"{full} " if key.endswith("/") and after not in ("", " ") else full

        return self._pattern.sub(spelled, text)


NO_SHORTHAND = Shorthand({})


def load_shorthand(path: Path) -> Shorthand:
    """The table in `path`; none when the file does not exist (older knowledge folders)."""
    if not path.is_file():
        return NO_SHORTHAND
    record: ShorthandFile = validate(ShorthandFile, read_yaml(path), path)
    return Shorthand(record.words)
