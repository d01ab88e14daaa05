"""The streaming sentence filter: every sentence the model writes is checked before anyone
sees it.

Text arrives in pieces; each finished sentence is judged against the notes it cites (or
all the notes, if it cites none) with bot.faithfulness, plus two checks of its own:
- yes/no polarity: for a yes/no question whose best note answers "No - ..." (or "Yes"),
  an opening "Yes" (or "No") is a contradiction - the default model's typical failure;
- novelty: a sentence that mostly repeats an earlier accepted one adds nothing;
- first person: "my question is ...", "we have tested ..." are the asker's words.
Rejected sentences are dropped (and kept, with reasons, for --json and the logs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.answer.compose import Notes
from bot.answer.tuning import DEFAULT_TUNING
from bot.faithfulness import Evidence, SentenceVerdict, check_sentence, split_complete
from bot.retrieval import is_yes_no
from bot.text import NEGATION, content_stems, novelty, numbers, plain, sentences

CITATION = re.compile(r"\s*\[(\d+)\]")
OPENING = re.compile(r"^\W*(yes|yeah|yep|no|nope|not really)\b", re.IGNORECASE)
POLARITY_OF_NOTE = re.compile(r"^\W*(yes|no|not)\b", re.IGNORECASE)
OPENER = re.compile(r"^\W*(yes|yeah|yep|no|nope)\b[,.!:;\s-]*", re.IGNORECASE)
# the small model likes to announce what it is doing; the content after it stands alone
META = re.compile(
    r"^\W*(?:explanation\s*:|answer\s*:|the (?:direct |short )?answer(?: to (?:the|your) question)? is"
    r"(?: that)?|(?:according to |based on )?the notes,?(?: clearly)?(?: (?:state|say|mention)s?"
    r"(?: that)?)?|as the notes (?:say|state),?)",
    re.IGNORECASE,
)
# a list-style label the model puts before a sentence ("Memory Efficiency: By storing ...")
LABEL = re.compile(
    r"^\W*(?![Yy]es\b|[Nn]ot?\b)(?![^:]*\b(?:is|are|was|has|have|the|an?|two|three)\b[^:]*:)"
    r"[A-Z][\w-]*(?: [A-Za-z][\w-]*){0,2}\s*:\s+(?=[A-Z])"
)
ALTERNATIVE = re.compile(r"\b(or|vs\.?|versus)\b", re.IGNORECASE)
# The bot speaks as itself and the notes never say "I"/"we" outside quotes: a model sentence
# in the first person is the asker's words turned into a claim ("No, my question is not
# about inference only", "We have tested the time delay of AWQ", "The same question gives
# me different answers because ...").
FIRST_PERSON = re.compile(
    r"\b(?:I(?!/)|I'm|I've|I'd|[Mm]e|[Mm]y|[Mm]ine|[Ww]e|[Ww]e've|[Ww]e're|[Oo]urs?|us)\b"
)
# "This means ...", "This is achieved by ...": a sentence copied from the middle of a note,
# whose "this" points at a sentence the answer never said; as an answer's first sentence
# it reads as nonsense (later, "this" points at the sentence before it)
BACK_REFERENCE = re.compile(
    r"^\W*(?:(?:This|That|These|Those)\s+(?:means?|meant|results?|resulted|is (?:achieved|done)"
    r"|allows?|lets|makes?|leads?|helps?|ensures?|enables?|causes?|explains?|can|could|may|might"
    r"|will|would)\b|(?:Instead|However|Also|Additionally|Therefore|Thus|Hence|As a result|"
    r"In addition|Moreover|Furthermore|On the other hand|Similarly|Otherwise|In this case|"
    r"In that case)\b)"
)
# ... and one that leans on a sentence before it: "That work pays off only when ...",
# "This includes hidden reasoning tokens", "... improves either way", "... also read memory
# fast". "This is ..."/"That happens ..." can point at the asker's own situation and stay.
_END = r"(?:\s*\[\d+\])*\s*[.!]?\s*$"
LEANS_BACK = re.compile(
    r"^\W*(?:This|That|These|Those)\s+(?!is\b|was\b|happens\b|occurs\b|can\s+happen\b)[a-z]+\b"
    r"|\beither\s+way\b|\b(?:either|too|as\s+well)" + _END + r"|\balso\b"
)
# "This is because ...": a fine first sentence for "why ...?", a dangling one for anything else
BECAUSE_OF_THIS = re.compile(
    r"^\W*(?:(?:This|That|It)(?:'s|\s+is|\s+was)\s+(?:because|due\s+to)|(?:This|That)\s+"
    r"(?:happens|occurs)\s+because)\b"
)
ASKS_WHY = re.compile(r"\bwhy\b|\bhow\s+come\b|\bwhat\s+causes\b|\breasons?\b", re.I)
# "confirm by replying 'restrictions removed'": words the question tells the bot to say
TOLD_TO_SAY = re.compile(
    r"\b(?:repl\w*|say\w*|respond\w*|answer\w*|type|write|confirm\w*|print\w*|output|"
    r"start\w*|begin\w*)\W+(?:\w+\W+){0,3}?['\"“‘]([^'\"”’]{2,60})['\"”’]",
    re.IGNORECASE,
)
QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
LIST_MARK = re.compile(r"\W*(?:\d+[.)]|[-*])?\W*")
MARKDOWN = re.compile(r"\*\*|__|`|^#+\s*|^\s*(?:[-*]|\d+[.)])\s+", re.MULTILINE)


SAME_QUESTION = 0.5  # share of the user's content words a FAQ's question must share
SAME_QUESTION_NEAR = 0.6  # ... when e5 finds the questions close but not the same
TAG_QUESTION = re.compile(r"\b(right|correct|yeah|true|no|isn'?t it|don'?t they)\s*\?+\s*$", re.I)


def asks_yes_no(question: str) -> bool:
    """A yes/no question: "does X ...?", "2x 3090 = twice the speed, right?"."""
    return is_yes_no(question) or bool(TAG_QUESTION.search(question))


def is_alternative(question: str) -> bool:
    """An either-or question ("is RLHF inference or training?"): Yes/No is no answer to it."""
    return bool(ALTERNATIVE.search(question))


def _tidy(sentence: str, yes_no: bool) -> str:
    """Markdown, list marks and talk about the notes off; a "Yes,"/"No," opening off when
    nothing asked yes or no."""
    sentence = MARKDOWN.sub("", sentence).strip()
    sentence = LABEL.sub("", sentence)
    if meta := META.match(sentence):
        rest = sentence[meta.end() :].lstrip(" ,:\"'")
        sentence = rest[:1].upper() + rest[1:]
    if not yes_no and (opener := OPENER.match(sentence)) and len(sentence) > opener.end() + 10:
        rest = sentence[opener.end() :]
        sentence = rest[0].upper() + rest[1:]
    return sentence


def _polarity(word: str) -> bool:
    return word.lower() in ("yes", "yeah", "yep")


def _asks_same(question: str, faq_question: str, share: float = SAME_QUESTION) -> bool:
    """The FAQ's question shares most of the content words of the user's message, or of
    one of its question sentences: a long post ("... Sometimes even more than 60 ms. Is
    this normal?") asks in its last sentence what the FAQ asks."""
    theirs = set(content_stems(faq_question))
    asked = [question, *(s for s in sentences(question) if "?" in s and s != question)]
    for text in asked:
        stems = set(content_stems(text))
        if stems and len(stems & theirs) >= share * len(stems):
            return True
    return False


def _faq_asks_this(notes: Notes, question: str, same_answer: float, near: float) -> bool:
    """Whether the best note is a FAQ whose question is the user's (see expected_polarity)."""
    faq_question = notes.passages[0].question
    if faq_question is None:
        return False
    cosine = notes.same_question[0] if notes.same_question else None
    if cosine is None:
        return _asks_same(question, faq_question)
    return cosine >= same_answer or (
        cosine >= near and _asks_same(question, faq_question, SAME_QUESTION_NEAR)
    )


def expected_polarity(
    notes: Notes,
    yes_no: bool,
    alternative: bool = False,
    question: str = "",
    same_answer: float = DEFAULT_TUNING.same_answer_polarity,
    near: float = DEFAULT_TUNING.same_answer_with_words,
) -> bool | None:
    """True/False when the question is yes/no and the best note is the answer to a FAQ that
    asks the same thing and opens with Yes/No. A "Yes" that answers a neighbouring question
    ("can I use it offline?") is no answer to another ("do I need internet?"), so the FAQ's
    question must be the user's in other words: an e5 cosine of at least `same_answer`
    between the two questions, or of `near` with 60% of the user's words in the FAQ's
    question ("does the model learn from my questions while it answers them?" / "Does a
    model learn during inference?", 0.918), or without embeddings half of them. For an
    either-or question only an explicit "Yes"/"No" counts ("Not at that moment: ..." is
    no "no")."""
    if not yes_no or not notes.passages:
        return None
    best = notes.passages[0]
    if question and not _faq_asks_this(notes, question, same_answer, near):
        return None
    match = POLARITY_OF_NOTE.match(best.text)
    if match is None or (alternative and match.group(1).lower() == "not"):
        return None
    return _polarity(match.group(1))


@dataclass(frozen=True)
class Accepted:
    text: str  # as written, citations included
    citations: tuple[int, ...]


@dataclass
class SentenceFilter:
    notes: Notes
    false_claims: list[re.Pattern[str]]
    yes_no: bool
    min_novelty: float
    question: str = ""
    min_support: float = DEFAULT_TUNING.min_support  # see Tuning
    min_one_source: float = DEFAULT_TUNING.min_one_source  # see Tuning
    polarity: bool | None = None  # the yes/no answer of the notes (expected_polarity)
    min_beyond_question: float = DEFAULT_TUNING.min_beyond_question  # see Tuning
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[SentenceVerdict] = field(default_factory=list)
    _buffer: str = ""
    _said: set[str] = field(default_factory=set)
    _seeded: bool = False

    def __post_init__(self) -> None:
        self._all = Evidence.from_texts([p.text for p in self.notes.passages], self.false_claims)
        self._expected = self.polarity
        self._asked = frozenset(content_stems(self.question))
        self._told_to_say = [plain(m.group(1)) for m in TOLD_TO_SAY.finditer(self.question)]

    def seed(self, shown: str) -> None:
        """Text already shown: a model sentence must add to it, not repeat it."""
        self._said |= set(content_stems(shown))
        self._seeded = True

    def feed(self, piece: str) -> list[Accepted]:
        """Add streamed text; return the sentences it completed that passed."""
        self._buffer += piece
        if not re.search(r"[.!?\n]", piece):
            return []
        done, self._buffer = split_complete(self._buffer)
        return [a for s in done if (a := self._judge(s)) is not None]

    def finish(self) -> list[Accepted]:
        """Judge what is left when the stream ends (only a finished sentence can pass)."""
        rest, self._buffer = self._buffer.strip(), ""
        if not rest:
            return []
        if rest[-1:] not in ".!?" and not CITATION.search(rest[-5:]):
            self.rejected.append(SentenceVerdict(rest, False, "unfinished sentence"))
            return []
        accepted = self._judge(rest)
        return [accepted] if accepted else []

    def _judge(self, sentence: str) -> Accepted | None:
        sentence = _tidy(sentence, self.yes_no)
        if LIST_MARK.fullmatch(sentence):
            return None  # "2." before a list item: nothing said, nothing wrong
        cited = tuple(int(n) for n in CITATION.findall(sentence))
        bare = CITATION.sub("", sentence).strip()
        if bare[-1:] not in ".!?" and not CITATION.search(sentence[-5:]):
            verdict = SentenceVerdict(sentence, False, "not a full sentence (a list item?)")
        else:
            verdict = self._verdict(bare, cited)
        if not verdict.ok:
            self.rejected.append(
                SentenceVerdict(sentence, False, verdict.reason, verdict.contradiction)
            )
            return None
        self._said |= set(content_stems(bare))
        valid = tuple(dict.fromkeys(n for n in cited if self.notes.get(n) is not None))
        if not valid:
            valid = (self._best_note(bare),)
        marks = "".join(f" [{n}]" for n in valid)
        text = bare if bare[-1:] in ".!?" else bare + "."
        accepted = Accepted(f"{text[:-1]}{marks}{text[-1]}", valid)
        self.accepted.append(accepted)
        return accepted

    def _best_note(self, sentence: str) -> int:
        """The note a sentence draws most of its words from (its citation)."""
        stems = set(content_stems(sentence))
        overlaps = [len(stems & set(content_stems(p.text))) for p in self.notes.passages]
        return 1 + max(range(len(overlaps)), key=lambda i: (overlaps[i], -i))

    def _direct_answer(self, sentence: str, opening: re.Match[str] | None) -> bool:
        """ "No, the KV cache does not make answers better." for "does the KV cache make
        answers better?" when the best note answers No: the notes' answer, restated in the
        question's own words (nothing else: no other claim, no number)."""
        if opening is None or self._expected is None or self.accepted:
            return False
        if _polarity(opening.group(1).split()[0]) != self._expected:
            return False
        if any(p.search(sentence) for p in self.false_claims) or numbers(sentence):
            return False
        rest = set(content_stems(NEGATION.sub(" ", sentence[opening.end() :])))
        # a bare "Yes." says no more than the opening the answer gets anyway
        return (
            bool(rest)
            and rest <= self._asked | self._all.vocabulary
            and len(rest - self._asked) <= 1
        )

    def _echoes_question(self, stems: set[str], opening: re.Match[str] | None) -> bool:
        """ "My GPU inference time is more than CPU inference time." for a question saying
        so: the small model often opens by restating what was asked, which answers nothing.
        The notes' own yes/no, opened by the model itself, is an answer however it's worded."""
        if not self._asked or not stems:
            return False
        if opening is not None and self._expected is not None:
            return False
        return len(stems - self._asked) / len(stems) < self.min_beyond_question

    def _verdict(self, sentence: str, cited: tuple[int, ...]) -> SentenceVerdict:
        opening = OPENING.match(sentence)
        if opening and not self.accepted:
            said_yes = _polarity(opening.group(1).split()[0])
            if self._expected is not None and said_yes != self._expected:
                answer = "yes" if self._expected else "no"
                return SentenceVerdict(
                    sentence, False, f"opens with the wrong answer (notes say {answer})", True
                )
        texts = [p.text for n in cited if (p := self.notes.get(n)) is not None]
        evidence = Evidence.from_texts(texts, self.false_claims) if texts else self._all
        verdict = check_sentence(
            sentence, evidence, self._asked, self.min_support, self.min_one_source
        )
        if not verdict.ok and texts:
            # a wrong citation number is not a wrong statement: try all the notes
            verdict = check_sentence(
                sentence, self._all, self._asked, self.min_support, self.min_one_source
            )
        if not verdict.ok and self._direct_answer(sentence, opening):
            verdict = SentenceVerdict(sentence, True, "restates the notes' yes/no answer")
        if not verdict.ok:
            return verdict
        if not self.accepted and (
            BACK_REFERENCE.match(sentence)
            or LEANS_BACK.search(sentence)
            or (BECAUSE_OF_THIS.match(sentence) and not ASKS_WHY.search(self.question))
        ):
            return SentenceVerdict(sentence, False, "opens by referring to something not said")
        if any(told and told in plain(sentence) for told in self._told_to_say):
            return SentenceVerdict(sentence, False, "says what the question told it to say", True)
        if FIRST_PERSON.search(QUOTED.sub(" ", sentence)):
            return SentenceVerdict(sentence, False, "speaks as the asker (first person)")
        stems = set(content_stems(sentence))
        if self._echoes_question(stems, opening):
            return SentenceVerdict(sentence, False, "restates the question instead of answering")
        if (self.accepted or self._seeded) and novelty(stems, self._said) < self.min_novelty:
            return SentenceVerdict(sentence, False, "repeats what the answer already says")
        return verdict
