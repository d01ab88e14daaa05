"""Small text tools shared by retrieval and the faithfulness check: words, stems, sentences."""

from __future__ import annotations

import re
from functools import lru_cache

WORD = re.compile(r"[a-z0-9]+(?:[.+][a-z0-9]+)*")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*`-])")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
NEGATION = re.compile(
    r"\b(not|no|never|none|nothing|neither|nor|cannot|without|isn't|aren't|doesn't|don't|"
    r"didn't|won't|can't|wasn't|weren't|shouldn't|hasn't|haven't|n't)\b",
    re.IGNORECASE,
)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves ok okay pls please
    like really actually ppl lol hey hi hello thanks thank u ur im i'm get got gonna wanna one
    thing things stuff way kind sort much many lot lots us let lets tell explain mean means know
    want need say said make makes made use used uses using work works something anything
    everything someone people even still well ever every instead since though yet whether could
    may might must shall cant dont doesnt isnt wont didnt arent whats thats answer answers
    answered answering question questions ask asks asked asking see sees seen saw
    recommend recommends recommended recommending suggest suggests suggested advise
    """.split()
)

# Light suffix stripping: enough to match "quantized"/"quantizing"/"quantization", cheap and
# predictable (both the index and the query go through the same function).
_SUFFIXES = (
    "izations",
    "ization",
    "isations",
    "isation",
    "ational",
    "ations",
    "ation",
    "ingly",
    "ities",
    "ness",
    "ments",
    "ment",
    "izing",
    "ising",
    "ized",
    "ised",
    "izes",
    "ises",
    "ize",
    "ise",
    "ings",
    "ing",
    "ity",
    "ers",
    "er",
    "ies",
    "ied",
    "ed",
    "es",
    "ly",
    "s",
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # "stopp" -> "stop", "runn" -> "run"
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens; keeps things like 'llama.cpp', 'q4', 'tok/s' parts."""
    return WORD.findall(text.lower())


def plain(text: str) -> str:
    """Lower-case letters and digits only, single-spaced: "Mixture-of-Experts" ->
    "mixture of experts" (for matching a phrase regardless of punctuation)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def content_stems(text: str) -> list[str]:
    """Stems of the words that carry meaning (stop words dropped), in order."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def novelty(stems: set[str], said: set[str]) -> float:
    """The share of these content stems not already said (0.0 when there are none)."""
    return len(stems - said) / max(1, len(stems))


def sentences(text: str) -> list[str]:
    """Split prose into sentences (good enough for model output and curated text)."""
    parts: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=[-*\d])", text):
        parts.extend(p.strip() for p in SENTENCE_END.split(block.strip()) if p.strip())
    return parts


def asked_part(text: str) -> str:
    """The sentences that ask (those with a "?"), or all of it when none has one."""
    asked = [s for s in sentences(text) if "?" in s]
    return " ".join(asked) if asked else text


def has_negation(text: str) -> bool:
    return bool(NEGATION.search(text))


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}
