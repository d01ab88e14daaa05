"""Why answers fail: run eval items through the pipeline and sort each on-topic item by
where its right passage was. A passage is right for an item when its own text passes every
`must` group of the item (as in scripts/retrieval_recall.py); the item then falls in one of:
passed, no right passage (a knowledge gap), right passage among the notes the model got but
the answer still missed, right passage ranked 2nd-4th but left out of the notes (budget or
cut-off), or ranked below 4th. Usage (PREFIX: item ids to run, e.g. hm or dl,hl; the
held-out prefixes of bot.evaluation are for the end of a stop only):

    .venv/bin/python scripts/failure_causes.py PREFIX[,PREFIX...] [--list]
"""

from __future__ import annotations

import asyncio
import collections
import sys
from pathlib import Path

from bot.answer.compose import choose_notes
from bot.config import load_config
from bot.evaluation import load_questions, score
from bot.pipeline import Tutor


def cause(passed: bool, right: set[str], ranked: list[str], notes: list[str]) -> str:
    if passed:
        return "passed"
    if not right:
        return "failed: no passage holds the answer"
    if right & set(notes):
        return "failed: right passage in the notes"
    rank = next((n for n, pid in enumerate(ranked, 1) if pid in right), None)
    if rank is not None and rank <= 4:
        return "failed: right passage ranked 2nd-4th, not in the notes"
    return "failed: right passage below 4th"


async def main(prefixes: tuple[str, ...], show: bool) -> None:
    tutor = Tutor.from_config(load_config())
    await tutor.start()
    lib = tutor.library
    items = [
        i
        for i in load_questions(Path("evals/public"))
        if i.id.startswith(prefixes) and i.kind == "ask"
    ]
    counts: collections.Counter[str] = collections.Counter()
    for item in items:
        right = {p.id for p in lib.index.passages if not score(item, p.text)}
        selection = await lib.index.search(lib.guard.screen(item.question).question)
        ranked = [s.passage.id for s in selection.ranked]
        notes = [p.id for p in choose_notes(selection, tutor.tuning).passages]
        result = await tutor.ask(item.question)
        found = cause(not score(item, result.answer), right, ranked, notes)
        counts[found] += 1
        if show:
            print(f"{item.id}\t{found}")
    tutor.close()
    for name, n in sorted(counts.items()):
        print(f"{n:4d}  {name}")


if __name__ == "__main__":
    asyncio.run(main(tuple(sys.argv[1].split(",")), "--list" in sys.argv))
