"""Raw llama-cpp-python decode speed of the configured model, for comparing thread
settings (OMP_WAIT_POLICY, n_threads) outside the bot. Usage:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python scripts/decode_speed.py [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from llama_cpp import Llama

from bot.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=80)
    args = parser.parse_args()
    config = load_config()
    threads = args.threads or config.model.n_threads
    llm = Llama(str(config.model.path), n_ctx=2048, n_threads=threads, verbose=False, seed=7)
    messages = [{"role": "user", "content": "Explain in detail how a car engine works."}]
    rates = []
    for _ in range(args.runs):
        llm.reset()
        first = last = None
        n = 0
        stream = llm.create_chat_completion(
            messages, stream=True, max_tokens=args.tokens, temperature=0.0
        )
        for chunk in stream:
            if chunk["choices"][0]["delta"].get("content"):
                last = time.perf_counter()
                first = first or last
                n += 1
        rates.append((n - 1) / (last - first))
    policy = os.environ.get("OMP_WAIT_POLICY", "default (spinning)")
    print(f"OMP_WAIT_POLICY={policy} threads={threads}: {statistics.median(rates):.1f} tokens/s")


if __name__ == "__main__":
    main()
