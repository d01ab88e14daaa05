""" "Is this normal?": whether the notes explain what the user saw as expected behaviour.

Forum posts often describe something and ask "Is this normal?", "Is this expected?" or
"Is there something wrong?". When the best note is a FAQ about that very behaviour ("Why
does the same model take more memory with a 16k context?" - "That is expected: ...",
"Is it normal that the first token takes much longer?" - "Yes: ..."), the answer the
user needs first is that it is expected; the note then says why. A FAQ that diagnoses a
mistake ("Most likely it is still in training mode") says no such thing, and a FAQ about
a neighbouring question says nothing about the user's case, so the FAQ's question must be
close to the user's (e5 cosine, `Tuning.normal_stance_floor`).
"""

from __future__ import annotations

import re

from bot.answer.compose import Notes

# the user asks whether it is normal ("is this expected behaviour?") ...
ASKS_NORMAL = re.compile(
    r"\b(?:(?:is|isn'?t|it'?s|that'?s)\s+(?:(?:this|that|it)\s+)?(?:completely\s+|totally\s+)?"
    r"(?:normal|expected|intended|typical)|(?:normal|expected|intended)\s+behaviou?r)\b",
    re.IGNORECASE,
)
# ... or whether something is wrong ("am I doing something wrong?", "is this a bug?")
ASKS_WRONG = re.compile(
    r"\b(?:something|anything)\s+wrong\b|\bdoing\s+(?:it|this)\s+wrong\b"
    r"|\bis\s+(?:this|it|that)\s+a\s+bug\b",
    re.IGNORECASE,
)
# a FAQ about a behaviour ...
FAQ_ABOUT_BEHAVIOUR = re.compile(r"^(?:why\b|is\s+(?:it|this)\s+(?:normal|expected)\b)", re.I)
# ... whose answer explains it as how things work, not as a mistake to fix
EXPLAINED_AS_EXPECTED = re.compile(
    r"^(?:Because\b|Yes\b|By design\b|That(?:'s| is) (?:expected|normal|by design)\b)"
)


def normal_stance(notes: Notes, question: str, floor: float) -> bool | None:
    """True: the user asked "is this normal?" and the best note explains it as expected;
    False: they asked "is something wrong?" and it is expected (so: no); None otherwise,
    and when they asked both."""
    normal, wrong = bool(ASKS_NORMAL.search(question)), bool(ASKS_WRONG.search(question))
    if normal == wrong or not notes.passages:
        return None
    best = notes.passages[0]
    cosine = notes.same_question[0] if notes.same_question else None
    if best.question is None or cosine is None or cosine < floor:
        return None
    if not FAQ_ABOUT_BEHAVIOUR.match(best.question) or not EXPLAINED_AS_EXPECTED.match(best.text):
        return None
    return normal
