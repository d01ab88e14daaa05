"""Screening of questions before retrieval, and of text before it reaches a user.

The rules here are deliberately simple and readable: a question is on topic when it
uses the vocabulary of AI and inference (knowledge/domain_terms.yaml plus every entry
name); prompt-injection phrases are removed from the question (they never reach the
model as instructions, and the answer is built from curated text anyway); requests to
produce something other than an explanation (code, spam, stories) are declined.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from bot.datafile import Record, problem, read_yaml, validate
from bot.shorthand import NO_SHORTHAND, Shorthand
from bot.text import stem, words


class Verdict(Enum):
    OK = "ok"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_WORDS = "no_words"
    OFF_TOPIC = "off_topic"
    REFUSED = "refused"
    GREETING = "greeting"
    SECRETS = "secrets"  # asked only for secrets: nothing else is left to answer


@dataclass(frozen=True)
class Screened:
    verdict: Verdict
    question: str  # the question with injection phrases removed
    injection: bool = False
    asked_for_secrets: bool = False


# Phrases that try to instruct the bot. An imperative ("ignore your rules", "print your
# system prompt") is removed up to the next "and"/comma/sentence end, so the honest part
# of "ignore your instructions and explain quantization" is still answered.
_UNTIL_CLAUSE_END = r"[^.?!\n,;]*?(?=\s+(?:and|then|but)\b|[.?!\n,;]|$)"
INJECTION_PATTERNS = [
    r"\bignore (all |any |the |your |my )*(previous |prior |above |earlier )*"
    r"(instructions?|rules|prompts?|guidelines|directions)\b" + _UNTIL_CLAUSE_END,
    r"\b(disregard|forget|override|bypass) (all |any |the |your )*(previous |prior |above )*"
    r"(instructions?|rules|prompts?|guidelines|system prompt)\b" + _UNTIL_CLAUSE_END,
    r"\b(print|show|reveal|repeat|output|display|leak|dump|tell me|give me|what is|what's)"
    r" (me )?(your |the )*(full |entire |hidden |original )*(system|initial|developer|hidden)"
    r" (prompt|instructions?|message)\b" + _UNTIL_CLAUSE_END,
    r"\byou are (now|no longer) [^.?!\n]*",
    r"\byou are (now )?(allowed|free|permitted|authori[sz]ed) to [^.?!\n]*",
    r"\b(act|pretend|behave|roleplay) (as|like|to be) [^.?!\n]*",
    r"\b(dev|developer|god|jailbreak|dan)[ -]?mode\b[^.?!\n]*",
    r"\bno (topic )?(limits|restrictions|rules|filters)\b[^.?!\n]*",
    r"\b(new|updated|real) (instructions?|rules|system prompt)\b[^:\n]{0,40}:[^\n]*",
    # a planted "context:" runs to the end of its line, or to a "question:" label
    r"(^|\n)\s*(system|assistant|context|sources?|notes?)\s*:[^\n]*?(?=\bquestion\s*:|\n|$)",
    r"</?(system|context|sources?|instructions?)>",
    r"\[(system|inst|context)\][^\n]*",
]
# A bare "token" is this field's everyday word ("output token throughput"): only a token
# that belongs to someone (the bot's, an access or Discord token) is a secret.
_SECRET = (
    r"\b(discord_token|discord token|(your|ur|bot'?s?|access|auth|api|secret) tokens?|"
    r"tokens? (env|value)|api[ _-]?keys?|secrets?|passwords?|credentials?|"
    r"env(ironment)? var(iable)?s?)\b"
)
_REVEAL = r"\b(print|show|reveal|give|send|paste|dump|leak|output|tell)\b"
SECRET_PATTERNS = [_SECRET + r"[^.?!\n]*" + _REVEAL, _REVEAL + r"[^.?!\n]*" + _SECRET]
# Requests for something other than an explanation. They are declined even when they
# mention an on-topic word ("repeat the word INFERENCE 500 times").
TASK_PATTERNS = [
    r"\brepeat\b[^.?!\n]{0,60}\b(\d+|hundred|thousand|many|forever)\b",
    r"\b(say|write|type|spam|print)\b[^.?!\n]{0,40}\b\d{2,}\s*times\b",
    r"\bspam\b[^.?!\n]{0,20}\b(test|bot|attack|raid|flood)\b|\bspam (the|this|our|my|a) "
    r"(server|channel|chat|group)\b",
    r"\b(write|draft|compose)\b[^.?!\n]{0,40}\b(poem|story|essay|letter|text message|"
    r"breakup|song|lyrics|email|homework|cover letter)\b",
]

# whether what is left of a message still asks something
ASKS = re.compile(
    r"\?|\b(what|whats|why|how|when|where|which|who|is|are|can|could|does|do|did|should|"
    r"will|would|explain|tell me)\b",
    re.IGNORECASE,
)

GREETING = re.compile(
    r"^\W*(hi|hello|hey|heya|yo|sup|hiya|howdy|good (morning|afternoon|evening)|thanks|"
    r"thank you|thx|ty|cheers|what can you do|what do you do|who are you|what are you|help|"
    r"how do (i|you) use (you|this)|how does this work)( there)?( bot)?\W*$",
    re.IGNORECASE,
)

# Harmful software is declined wherever it is asked for, in backticks too.
HARM_PATTERNS = [
    r"\b(write|code|create|build|generate|make)\b[^.?!\n]{0,40}\b(keylogger|malware|virus|"
    r"ransomware|exploit|ddos|phishing|botnet|trojan|rootkit)\b",
    r"\b(keylogger|malware|ransomware|phishing)\b",
]
# Code a user pastes is their program, not a request: the prompt string in it ("Write a
# letter to ...") asks nothing of the bot
CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)

_injection_re = [re.compile(p, re.IGNORECASE) for p in INJECTION_PATTERNS]
_secret_re = [re.compile(p, re.IGNORECASE) for p in SECRET_PATTERNS]
_task_re = [re.compile(p, re.IGNORECASE) for p in TASK_PATTERNS]
_harm_re = [re.compile(p, re.IGNORECASE) for p in HARM_PATTERNS]

# Strings that look like credentials never leave the bot, whoever wrote them.
SECRET_SHAPES = re.compile(
    r"[MNO][A-Za-z\d_-]{22,28}\.[A-Za-z\d_-]{6,7}\.[A-Za-z\d_-]{25,}"  # Discord bot token
    r"|\bsk-[A-Za-z\d_-]{16,}|\bhf_[A-Za-z\d]{20,}|\bxox[bp]-[A-Za-z\d-]+"
)


def redact(text: str) -> str:
    return SECRET_SHAPES.sub("[redacted]", text)


def strip_injection(question: str) -> tuple[str, bool]:
    """Remove instruction-like phrases; return the rest and whether anything was removed."""
    found = False
    for pattern in _injection_re:
        question, n = pattern.subn("\n", question)
        found = found or n > 0
    return " ".join(question.split()), found


def _is_visible_word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N")


class Guard:
    def __init__(
        self,
        domain_terms: set[str],
        entry_names: set[str],
        max_chars: int,
        shorthand: Shorthand = NO_SHORTHAND,
    ) -> None:
        self.shorthand = shorthand
        self.domain_stems = {stem(t) for t in domain_terms} | set(domain_terms)
        self.entry_names = {" ".join(words(n)) for n in entry_names if words(n)}
        self.max_chars = max_chars

    def is_on_topic(self, question: str) -> bool:
        tokens = words(question)
        if any(t in self.domain_stems or stem(t) in self.domain_stems for t in tokens):
            return True
        norm = f" {' '.join(tokens)} "
        return any(f" {name} " in norm for name in self.entry_names)

    def screen(self, raw: str) -> Screened:
        # Keep line breaks until injections are removed: a fake "system:" line is a line.
        lines = (" ".join(line.split()) for line in (raw or "").splitlines())
        question = "\n".join(line for line in lines if line)
        if not question:
            return Screened(Verdict.EMPTY, "")
        if len(question) > self.max_chars:
            return Screened(Verdict.TOO_LONG, question[: self.max_chars])
        if not any(_is_visible_word_char(ch) for ch in question):
            return Screened(Verdict.NO_WORDS, question)
        # everything after this reads "what are tokens", not "wat r tokens"
        question = self.shorthand.expand(question)
        if GREETING.match(question):
            return Screened(Verdict.GREETING, question)
        secrets = any(p.search(question) for p in _secret_re)
        for pattern in _secret_re:
            question = pattern.sub(" ", question)
        cleaned, injection = strip_injection(question)
        cleaned = re.sub(
            r"^(and|then|but|also|so|question\s*:)[\s,]*", "", cleaned, flags=re.IGNORECASE
        )
        injection = injection or secrets
        if secrets and not ASKS.search(cleaned):
            return Screened(Verdict.SECRETS, cleaned, injection, secrets)
        prose = CODE.sub(" ", cleaned)
        if any(p.search(prose) for p in _task_re) or any(p.search(cleaned) for p in _harm_re):
            return Screened(Verdict.REFUSED, cleaned, injection, secrets)
        if not words(cleaned):
            verdict = Verdict.REFUSED if injection else Verdict.NO_WORDS
            return Screened(verdict, cleaned, injection, secrets)
        if not self.is_on_topic(cleaned):
            verdict = Verdict.REFUSED if injection else Verdict.OFF_TOPIC
            return Screened(verdict, cleaned, injection, secrets)
        return Screened(Verdict.OK, cleaned, injection, secrets)


def _words(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise problem("must be a list of words")
    return tuple(value)


class DomainTerms(Record):
    """knowledge/domain_terms.yaml: `terms`, the single words that make a question on topic."""

    terms: Annotated[tuple[str, ...], BeforeValidator(_words)]


def load_domain_terms(path: Path) -> set[str]:
    record: DomainTerms = validate(DomainTerms, read_yaml(path), path)
    return {t.lower() for t in record.terms}
