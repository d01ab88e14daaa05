"""The faithfulness check: does a generated sentence say only what its sources say?

The default model (SmolLM2-135M) is fluent but contradicts its context ("Yes, a model
learns during inference"), so every sentence it writes is judged on its own before it
can reach a user. A sentence is rejected when it:
- matches a `false_claims` pattern of any entry (a misconception the sources refute);
- flips the polarity of the source sentence it paraphrases (adds or drops a "not" in the
  clauses it draws on);
- swaps a word for its opposite (faster/slower, training/inference, ...);
- contains a number the sources do not contain;
- strays: too few of its content words occur in the sources, or in any one source sentence;
- moves a source's number or reason into another context: a number with words its source
  sentence lacks, or "X because <source>" where X is not from that source;
- loops (repeats itself) or carries no content.
The check is conservative on purpose: a rejected true sentence costs a little fluency,
an accepted false one would teach something wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge import Entry
from bot.text import content_stems, has_negation, numbers, plain, sentences

# a sentence that opens with the verdict restates the question it answers
VERDICT_OPENING = re.compile(r"^\W*(?:yes|no|yeah|nope)\b", re.IGNORECASE)

MIN_CONTENT_WORDS = 3
MIN_SUPPORT = 0.8  # share of the sentence's content words found in the sources
MIN_PARAPHRASE = 0.5  # overlap with one source sentence to judge polarity against it
TIE_MARGIN = 0.1  # source sentences this close to the best overlap are judged too
# A source sentence's "not" counts against a sentence only in the clauses it draws on:
# "Because it generates plausible text rather than looking facts up: each token is chosen
# ..., and nothing in plain inference checks the result" has its "nothing" in a clause that
# "The AI makes things up because it generates plausible text" does not use
CLAUSE_BREAK = re.compile(
    r"\s*[:;]\s+|\s+[-–—]\s+|,\s+(?=(?:but|while|whereas|because|so|although|though|yet)\b)"
)
CLAUSE_SHARED = 2  # content words a clause must share with the sentence to be one it draws on
# A sentence with a number must share this much of its claim with the one source sentence
# that holds the number: "The 7B model needs about 14 GB of VRAM for finetuning" takes the
# 14 GB of inference at FP16 and adds the asker's "finetuning"
NUMBER_IN_CONTEXT = 0.9
# "MoE (Multi-Expert Encoder)": an abbreviation spelled out in brackets; the spelling must
# be the notes' own (the small model invents expansions that read as facts)
SPELLED_OUT = re.compile(r"\b[A-Z][A-Za-z]*[A-Z][A-Za-z]*\s*\(([A-Za-z][A-Za-z -]+)\)")
# "<the asker's premise> because <a note>": the premise is not the note's
CAUSE = re.compile(r"\b(because|since|due to|which is why|that is why)\b", re.IGNORECASE)
MIN_PREMISE_WORDS = 3
PREMISE_IN_SOURCE = 0.5

OPPOSITES = [
    ("faster", "slower"),
    ("fast", "slow"),
    ("more", "less"),
    ("more", "fewer"),
    ("increase", "decrease"),
    ("larger", "smaller"),
    ("bigger", "smaller"),
    ("higher", "lower"),
    ("cheaper", "expensive"),
    ("training", "inference"),
    ("train", "inference"),
    ("learns", "applies"),
    ("before", "after"),
    ("always", "never"),
    ("cpu", "gpu"),
    ("input", "output"),
    ("compute", "memory"),
]


@dataclass(frozen=True)
class SentenceVerdict:
    sentence: str
    ok: bool
    reason: str
    contradiction: bool = False  # the sentence goes against its sources, not merely beyond them


@dataclass(frozen=True)
class _SourceSentence:
    text: str
    stems: frozenset[str]
    negated: bool
    words: frozenset[str]
    numbers: frozenset[str]
    clauses: tuple[tuple[frozenset[str], bool], ...]  # per clause: content stems, negated

    def negated_where(self, claimed: set[str]) -> bool:
        """Whether the clauses a sentence with these stems draws on say "not" (the whole
        sentence's "not" when no clause shares enough to tell)."""
        used = [neg for stems, neg in self.clauses if len(stems & claimed) >= CLAUSE_SHARED]
        return any(used) if used else self.negated


class Evidence:
    """The curated text a generated answer is checked against, prepared once per answer."""

    def __init__(self, entries: list[Entry], all_false_claims: list[re.Pattern[str]]) -> None:
        texts = [t for e in entries for t in (e.title, *e.aliases, *e.passages())]
        self._prepare(texts, all_false_claims)
        self.entry_ids = [e.id for e in entries]

    @classmethod
    def from_texts(cls, texts: list[str], all_false_claims: list[re.Pattern[str]]) -> Evidence:
        """Evidence made of given passages rather than whole entries."""
        evidence = cls.__new__(cls)
        evidence._prepare(texts, all_false_claims)
        evidence.entry_ids = []
        return evidence

    def _prepare(self, texts: list[str], all_false_claims: list[re.Pattern[str]]) -> None:
        self.source_sentences = [
            _SourceSentence(
                s,
                frozenset(content_stems(s)),
                has_negation(s),
                frozenset(re.findall(r"[a-z]+", s.lower())),
                frozenset(numbers(s)),
                _clauses(s),
            )
            for t in texts
            for s in sentences(t)
        ]
        self.vocabulary = frozenset().union(*(s.stems for s in self.source_sentences))
        self.plain_text = plain(" ".join(texts))
        self.numbers = set().union(*(numbers(t) for t in texts))
        self.false_claims = all_false_claims


def _clauses(sentence: str) -> tuple[tuple[frozenset[str], bool], ...]:
    parts = [p for p in CLAUSE_BREAK.split(sentence) if p.strip()]
    return tuple((frozenset(content_stems(p)), has_negation(p)) for p in parts)


def _loops(sentence: str) -> bool:
    tokens = sentence.lower().split()
    grams = [tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)]
    return len(grams) >= 4 and len(set(grams)) < len(grams) * 0.75


def check_sentence(
    sentence: str,
    evidence: Evidence,
    asked: frozenset[str] = frozenset(),
    min_support: float = MIN_SUPPORT,
    min_one_source: float = MIN_PARAPHRASE,
) -> SentenceVerdict:
    """Judge one sentence. `asked`: content stems of the question, which a sentence may
    restate without them counting as unsupported claims ("No, the cache does not make
    answers better" restates its question). `min_one_source`: the share of its claims one
    source sentence must hold (a sentence glued from several is where links get invented)."""

    def reject(reason: str, contradiction: bool = False) -> SentenceVerdict:
        return SentenceVerdict(sentence, False, reason, contradiction)

    for pattern in evidence.false_claims:
        if pattern.search(sentence):
            return reject(
                f"states a misconception the sources refute ({pattern.pattern[:40]})", True
            )
    if _loops(sentence):
        return reject("repeats itself")
    stems = content_stems(sentence)
    if len(set(stems)) < MIN_CONTENT_WORDS:
        return reject("carries no content of its own")
    for spelled in SPELLED_OUT.finditer(sentence):
        spelling = plain(spelled.group(1))
        if len(spelling.split()) >= 2 and spelling not in evidence.plain_text:
            return reject(f"spells out an abbreviation unlike the sources ({spelled.group(1)})")
    unsupported_numbers = numbers(sentence) - evidence.numbers
    if unsupported_numbers:
        return reject(f"uses a number not in the sources ({sorted(unsupported_numbers)[0]})")
    unique = set(stems)
    support = len(unique & (evidence.vocabulary | asked)) / len(unique)
    if support < min_support:
        return reject(f"strays from the sources ({support:.0%} of its words are in them)")
    claimed = (unique - _restated(sentence, asked)) | (unique & evidence.vocabulary) or unique
    scored = sorted(
        ((len(claimed & src.stems) / len(claimed), src) for src in evidence.source_sentences),
        key=lambda pair: -pair[0],
    )
    overlap, best = scored[0] if scored else (0.0, None)
    if best is None or overlap < min_one_source:
        return reject("no single source sentence says this")
    if moved := _out_of_context(sentence, scored):
        return reject(moved)
    # Every source sentence about as close as the best one must agree on "not" (in the
    # clauses the sentence draws on): when the sources say both "X is used" and "X does not
    # change", a bare "X changes" is a contradiction, whichever of the two scores first.
    negated = has_negation(sentence)
    for score, src in scored:
        if score < max(MIN_PARAPHRASE, overlap - TIE_MARGIN):
            break
        if src.negated_where(claimed) != negated:
            return reject(f"contradicts its source: {src.text[:80]}", True)
    if swapped := _swapped_word(sentence, best):
        return reject(swapped, True)
    return SentenceVerdict(sentence, True, "supported")


def _restated(sentence: str, asked: frozenset[str]) -> frozenset[str]:
    """The question's words a sentence may use without the notes having them. A yes/no or
    a denial restates the question ("No, the cache does not make answers better"); any
    other sentence asserts what it says, and a question word there pins the notes' claim
    on the asker's words ("Training GPT once costs more overall", "for coding use 0.7 to
    1.0", where the notes say the opposite): those words count as claims, except a bare
    letter or a size ("the B in 7B")."""
    if has_negation(sentence) or VERDICT_OPENING.match(sentence):
        return asked
    return frozenset(w for w in asked if len(w) <= 2 or any(c.isdigit() for c in w))


def _swapped_word(sentence: str, best: _SourceSentence) -> str | None:
    """Why a sentence says the opposite word of its source sentence (or None)."""
    mine = set(re.findall(r"[a-z]+", sentence.lower()))
    for a, b in OPPOSITES:
        for word, other in ((a, b), (b, a)):
            if (
                word in mine
                and other not in mine
                and other in best.words
                and word not in best.words
            ):
                return f"says '{word}' where its source says '{other}'"
    return None


def _out_of_context(sentence: str, scored: list[tuple[float, _SourceSentence]]) -> str | None:
    """Why a sentence moves its source's number or reason somewhere else (or None)."""
    found = numbers(sentence)
    if found:
        holders = [share for share, src in scored if found <= src.numbers]
        if not holders or max(holders) < NUMBER_IN_CONTEXT:
            return "puts a number in a context its source sentence does not give"
    cause = CAUSE.search(sentence)
    if cause:
        premise = set(content_stems(sentence[: cause.start()]))
        best = scored[0][1]
        if len(premise) >= MIN_PREMISE_WORDS and (
            len(premise & best.stems) / len(premise) < PREMISE_IN_SOURCE
        ):
            return "gives a reason from the notes for a claim they do not make"
    return None


def split_complete(buffer: str) -> tuple[list[str], str]:
    """Split streamed text into finished sentences and the unfinished rest."""
    parts = sentences(buffer)
    if not parts:
        return [], buffer
    ends_cleanly = buffer.rstrip()[-1:] in ".!?" and buffer.endswith((" ", "\n"))
    if ends_cleanly:
        return parts, ""
    # the tail as streamed, line breaks kept: "because:\n" + "1." is a list, not "because:1."
    return parts[:-1], buffer[buffer.rfind(parts[-1]) :].lstrip(" ")
