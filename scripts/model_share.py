"""How much of the answers the model writes: run an eval question set through the
pipeline and count model sentences accepted and rejected (with reasons). Usage:

    .venv/bin/python scripts/model_share.py evals/
"""

import asyncio
import collections
import sys
from pathlib import Path

from bot.config import load_config
from bot.evaluation import MODE_FOR_KIND, load_questions
from bot.pipeline import Tutor


async def main():
    t = Tutor.from_config(load_config())
    await t.start()
    items = load_questions(Path(sys.argv[1] if len(sys.argv) > 1 else "evals"))
    answered = with_model = rejected = accepted = 0
    reasons = collections.Counter()
    for it in items:
        r = await t.ask(it.question, MODE_FOR_KIND.get(it.kind, "ask"))
        if r.kind != "answer":
            continue
        answered += 1
        with_model += r.model_sentences > 0
        accepted += r.model_sentences
        rejected += len(r.rejected)
        for v in r.rejected:
            reasons[v.reason.split(" (")[0].split(":")[0]] += 1
    print(
        f"answers {answered}, with >=1 model sentence {with_model}, sentences accepted {accepted}, rejected {rejected}"
    )
    print(reasons.most_common(8))
    t.close()


asyncio.run(main())
