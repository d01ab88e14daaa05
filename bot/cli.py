"""Terminal front end: `python -m bot <command>` (also the `inference-bot` script).

Every user-facing error is one clear line on stderr and a non-zero exit; no tracebacks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from bot.config import Config, load_config
from bot.errors import BotError, ConfigError
from bot.limits import QUIZ_QUESTIONS_RANGE

log = logging.getLogger(__name__)
# When this process started running Python code of ours: one-shot `ask --json` reports the
# wall time a user waits from here (imports, model load, warm-up and the answer itself).
PROCESS_T0 = time.perf_counter()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Inference Tutor: grounded answers about AI inference from a local model.",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="config file (default: config.yaml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, arg, text in (
        ("ask", "question", "answer a question"),
        ("define", "term", "define a term from the glossary"),
        ("analogy", "concept", "explain a concept with an analogy"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument(arg, nargs="+")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    sub.add_parser("chat", help="interactive session (reads lines until end of input)")
    sub.add_parser("check", help="validate config, knowledge, prompts, quiz bank and model file")
    sub.add_parser("index", help="embed the knowledge passages into the vector cache")

    p = sub.add_parser("eval", help="run a question file and report pass rates")
    p.add_argument("--questions", type=Path, required=True, help="YAML file or folder of them")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--min-pass", type=float, default=None, help="exit 1 when the pass rate is below this"
    )

    p = sub.add_parser("quiz", help="play a quiz in the terminal")
    p.add_argument(
        "--questions", type=int, default=None, help=f"number of questions ({QUIZ_QUESTIONS_RANGE})"
    )
    p.add_argument("--topic", default=None)

    p = sub.add_parser("bench", help="measure the bot against raw llama-cpp-python")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", type=Path, default=None, help="GGUF file (default: config)")
    p.add_argument(
        "--n", type=int, default=None, help="repetitions (default 5); --throughput: questions (8)"
    )
    p.add_argument("--in-flight", type=int, default=8, help="questions in flight for loop lag")
    p.add_argument(
        "--throughput",
        action="store_true",
        help="questions in flight at once vs one after another (--n questions, default 8)",
    )
    p.add_argument(
        "--remote",
        action="store_true",
        help="with --throughput: the openai backend against a local llama_cpp.server",
    )
    p.add_argument("--concurrency", type=int, default=4, help="with --remote: max in flight")

    _add_fit_parser(sub)
    _add_gaps_parser(sub)
    sub.add_parser("run", help="start the Discord bot (needs DISCORD_TOKEN)")
    return parser


def _add_fit_parser(sub: Any) -> None:
    p = sub.add_parser(
        "fit",
        help="can model X run on hardware Y? memory and speed estimate",
        description="Estimate weights + KV cache + overhead memory, and a tokens/s upper bound.",
    )
    p.add_argument("--model", default=None, help="id or alias from knowledge/models.yaml")
    p.add_argument("--params", type=float, default=None, help="size in billions, any model")
    p.add_argument("--active-params", type=float, default=None, help="MoE: billions per token")
    p.add_argument("--layers", type=int, default=None, help="with --params: num_hidden_layers")
    p.add_argument("--kv-heads", type=int, default=None, help="with --params: KV heads")
    p.add_argument("--head-dim", type=int, default=None, help="with --params: head_dim")
    p.add_argument("--quant", default="Q4_K_M", help="Q8_0, Q6_K, Q5_K_M, Q4_K_M, ... or F16")
    p.add_argument("--ctx", type=int, default=4096, help="context length in tokens")
    p.add_argument("--kv-type", default="f16", help="KV cache type: f16, q8_0 or q4_0")
    p.add_argument("--vram", type=float, default=None, help="memory available, GB")
    p.add_argument("--bandwidth", type=float, default=None, help="memory bandwidth, GB/s")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _add_gaps_parser(sub: Any) -> None:
    p = sub.add_parser(
        "gaps",
        help="questions the knowledge did not answer well, grouped by the nearest entry",
        description="Unknown, fallback, low-confidence and not-helpful answers, per entry.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--days", type=int, default=None, help="look back this many days")


def _print_result(
    result: Any,
    as_json: bool,
    extra_timings: dict[str, float] | None = None,
    caveat: str | None = None,
) -> None:
    if as_json:
        data = result.to_json()
        data["timings"].update(extra_timings or {})
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    print(result.answer)
    if result.sources:
        numbered = (f"[{n}] {s.title}" for n, s in enumerate(result.sources, 1))
        print("\nSources: " + "; ".join(numbered))
    if result.note:
        print(f"({result.note})")
    if caveat:
        print(f"({caveat})")


def _caveat(result: Any, tutor: Any) -> str | None:
    """The low-confidence line shown under an answer the notes may not fully cover."""
    return tutor.library.prompts.reply("low_confidence_note") if result.low_confidence else None


async def _record(feedback: Any, result: Any, tutor: Any) -> None:
    """Keep the answer for `python -m bot gaps` (blocking SQLite: off the event loop)."""
    await asyncio.to_thread(feedback.record, result, "terminal", tutor.library.retriever)


async def _one_shot(config: Config, mode: str, text: str, as_json: bool) -> int:
    from bot.feedback import open_feedback
    from bot.pipeline import Tutor

    t0 = time.perf_counter()
    tutor = Tutor.from_config(config)
    feedback = None
    try:
        feedback = await asyncio.to_thread(open_feedback, config)
        await tutor.start()
        ready = time.perf_counter()
        result = await tutor.ask(text, mode)
        await _record(feedback, result, tutor)
    finally:
        tutor.close()
        if feedback is not None:
            feedback.close()
    done = time.perf_counter()
    timings = {
        "startup_ms": round((ready - t0) * 1000, 1),  # knowledge, embeddings, model, warm-up
        "wall_ms": round((done - PROCESS_T0) * 1000, 1),  # everything this process waited
    }
    _print_result(result, as_json, timings, _caveat(result, tutor))
    return 0


async def _chat(config: Config) -> int:
    from bot.feedback import open_feedback
    from bot.pipeline import AnswerResult, Conversation, Tutor

    tutor = Tutor.from_config(config)
    interactive = sys.stdin.isatty()
    feedback = None
    try:
        feedback = await asyncio.to_thread(open_feedback, config)
        await tutor.start()
        print(
            f"Inference Tutor ({tutor.model_name}, {len(tutor.library.kb)} knowledge entries). "
            "Ask about AI inference; /define TERM, /analogy CONCEPT; Ctrl-D to quit."
        )
        conversation = Conversation()
        while True:
            if interactive:
                print("\nyou> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            mode, text = "ask", line
            for prefix in ("define", "analogy"):
                if line.startswith(f"/{prefix} "):
                    mode, text = prefix, line[len(prefix) + 2 :]
            if not interactive:
                print(f"\nyou> {line}")
            print("bot> ", end="", flush=True)
            result = None
            async for item in tutor.stream(text, mode, conversation):
                if isinstance(item, str):
                    print(item, end="", flush=True)
                elif isinstance(item, AnswerResult):
                    result = item
            print()
            if result is not None:
                if result.sources:
                    numbered = (f"[{n}] {s.title}" for n, s in enumerate(result.sources, 1))
                    print("Sources: " + "; ".join(numbered))
                caveat = _caveat(result, tutor)
                if caveat:
                    print(f"({caveat})")
                await _record(feedback, result, tutor)
                conversation.add(result)
    finally:
        tutor.close()
        if feedback is not None:
            feedback.close()
    return 0


def _index(config: Config) -> int:
    from bot.answer.embeddings import load_embedder
    from bot.pipeline import Library

    t0 = time.perf_counter()
    embedder = load_embedder() if config.knowledge.semantic else None
    library = Library.load(config, embedder)
    mode = "semantic + lexical" if library.index.semantic else "lexical only"
    print(
        f"index ready: {len(library.index.passages)} passages, {mode}, "
        f"{time.perf_counter() - t0:.1f} s ({config.knowledge.vector_cache})"
    )
    return 0


def _check(config: Config) -> int:
    from bot.pipeline import Library

    problems = 0
    library = Library.load(config)
    print(f"ok: config {config.source}")
    print(f"ok: knowledge {len(library.kb)} entries in {config.knowledge.dir}")
    print(f"ok: prompts in {config.knowledge.prompts_dir}")
    try:
        from bot.quiz.bank import load_bank

        bank = load_bank(config.knowledge.dir / "quiz", set(library.kb.entries))
        print(f"ok: quiz bank {len(bank.questions)} questions")
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        problems += 1
    except Exception as exc:  # the bank raises its own error type
        print(f"error: {exc}", file=sys.stderr)
        problems += 1
    if config.model.backend == "llama_cpp":
        path = config.model.path
        if path.is_file():
            print(f"ok: model file {path} ({path.stat().st_size / 1e6:.0f} MB)")
        else:
            print(f"error: model file not found: {path} (run `make install`)", file=sys.stderr)
            problems += 1
    return 1 if problems else 0


async def _eval(
    config: Config, questions: Path, as_json: bool, min_pass: float | None = None
) -> int:
    from bot.evaluation import load_questions, run_eval, summarize
    from bot.pipeline import Tutor

    items = load_questions(questions)
    tutor = Tutor.from_config(config)
    try:
        await tutor.start()
        outcomes = await run_eval(tutor, items)
    finally:
        tutor.close()
    summary = summarize(outcomes)
    below = min_pass is not None and summary["pass_rate"] < min_pass
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 1 if below else 0
    for f in summary["failures"]:
        print(f"FAIL {f['id']} ({f['kind']}): {f['question'][:80]!r}")
        for problem in f["problems"]:
            print(f"    {problem}")
        print(f"    answer: {f['answer'][:300]!r}")
    for kind, s in summary["per_kind"].items():
        print(f"{kind:10s} {s['passed']:3d}/{s['total']:<3d} {s['pass_rate']:.0%}")
    print(f"{'total':10s} {summary['passed']:3d}/{summary['total']:<3d} {summary['pass_rate']:.1%}")
    share = summary["model_written_share"]
    print(f"model-written: {share:.0%} of {summary['answered']} grounded answers")
    print(f"eval: {summary['passed']}/{summary['total']} passed ({summary['pass_rate']:.1%})")
    if below:
        print(f"eval: below the gate of {min_pass:.0%}", file=sys.stderr)
    return 1 if below else 0


def _quiz(config: Config, n: int | None, topic: str | None) -> int:
    from bot.knowledge import load_knowledge
    from bot.quiz.bank import load_bank
    from bot.quiz.engine import QuizEngine
    from bot.quiz.store import ScoreStore
    from bot.quiz.terminal import play_in_terminal
    from bot.storage import store_target

    kb = load_knowledge(config.knowledge.dir)
    bank = load_bank(config.knowledge.dir / "quiz", set(kb.entries))
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = ScoreStore(store_target(config.database_url, config.data_dir, "quiz.sqlite3"))
    try:
        engine = QuizEngine(bank, store, question_seconds=config.quiz.question_seconds)
        engine.recover(now=time.time())

        def read_line() -> str | None:
            line = sys.stdin.readline()
            return line if line else None

        def write(text: str) -> None:
            print(text, flush=True)

        play_in_terminal(
            engine, n or config.quiz.default_questions, topic, read_line, write, clock=time.time
        )
    finally:
        store.close()
    return 0


def _gaps(config: Config, as_json: bool, days: int | None) -> int:
    from bot.feedback import read_gaps, render_text
    from bot.knowledge import load_knowledge

    if days is not None and days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return 2
    kb = load_knowledge(config.knowledge.dir)
    titles = {entry_id: entry.title for entry_id, entry in kb.entries.items()}
    report = read_gaps(config, titles, days)
    text = json.dumps(report.to_json(), ensure_ascii=False, indent=2) if as_json else None
    print(text or render_text(report))
    return 0


def _run(config: Config) -> int:
    from bot.discord_app.runner import run_bot

    return run_bot(config)


def _bench(config: Config, args: argparse.Namespace) -> int:
    if args.throughput:
        from bot.throughput import measure_throughput, print_throughput

        n = max(1, args.n or 8)
        figures = measure_throughput(config, n, args.remote, max(1, args.concurrency))
        if args.json:
            print(json.dumps(figures, indent=2))
        else:
            print_throughput(figures)
        return 0
    from bot.bench import run_bench

    return run_bench(
        config, model=args.model, n=args.n or 5, in_flight=args.in_flight, as_json=args.json
    )


def _fit(config: Config, args: argparse.Namespace) -> int:
    from bot.fit import FitError, estimate, load_catalog

    catalog = load_catalog(config.knowledge.dir / "models.yaml")
    try:
        result = estimate(
            catalog,
            model=args.model,
            params_b=args.params,
            active_params_b=args.active_params,
            quant=args.quant,
            ctx=args.ctx,
            kv_type=args.kv_type,
            vram_gb=args.vram,
            bandwidth_gbps=args.bandwidth,
            layers=args.layers,
            kv_heads=args.kv_heads,
            head_dim=args.head_dim,
        )
    except FitError as exc:  # a wrong name or number on the command line: a usage error
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), indent=2) if args.json else result.explain())
    return 0


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the exit flush cannot fail on a closed pipe again."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no real descriptor
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config)
        command = args.command
        if command in ("ask", "define", "analogy"):
            text = " ".join(
                getattr(args, {"ask": "question", "define": "term"}.get(command, "concept"))
            )
            return asyncio.run(_one_shot(config, command, text, args.json))
        if command == "chat":
            return asyncio.run(_chat(config))
        if command == "check":
            return _check(config)
        if command == "index":
            return _index(config)
        if command == "eval":
            return asyncio.run(_eval(config, args.questions, args.json, args.min_pass))
        if command == "quiz":
            return _quiz(config, args.questions, args.topic)
        if command == "bench":
            return _bench(config, args)
        if command == "fit":
            return _fit(config, args)
        if command == "gaps":
            return _gaps(config, args.json, args.days)
        if command == "run":
            return _run(config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `python -m bot check | head -2`: the reader left early
        _quiet_stdout()
        return 141
    return 2
