"""bot.feedback: the answer/vote store on a real database (SQLite and PostgreSQL), the gaps
report and the CLI."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from storage_helpers import raw_engine, set_schema_version

from bot.answer.result import AnswerResult, Source
from bot.cli import main
from bot.config import Config
from bot.feedback import (
    DB_NAME,
    KEY_NAME,
    NO_ENTRY,
    SCHEMA_VERSION,
    VOTE_REPLIES,
    AnswerRecord,
    FeedbackStore,
    FeedbackStoreError,
    answer_record,
    build_report,
    nearest_entry,
    open_feedback,
    read_gaps,
    render_text,
)
from bot.feedback.store import PURGE_EVERY_S
from bot.pipeline import Tutor

DAY = 86400.0
T0 = 1_700_000_000.0
DISCORD_ID = 123456789012345678  # shaped like a Discord snowflake


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads os.environ; keep the runner's BOT_DATA_DIR out of these tests."""
    for name in ("BOT_MODEL_PATH", "BOT_DATA_DIR", "BOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


Target = Callable[[str], Path | str]


def open_store(target: Path | str, tmp_path: Path, clock: Clock | None = None) -> FeedbackStore:
    """A store on `target`, its key in tmp_path/data (as open_feedback does)."""
    key = tmp_path / "data" / KEY_NAME
    return FeedbackStore(target, 30, clock or Clock(), key_path=key)


def rows(target: Path | str, sql: str) -> list[tuple]:
    engine = raw_engine(target)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def store(store_target: Target, tmp_path: Path, clock: Clock) -> FeedbackStore:
    s = open_store(store_target(DB_NAME), tmp_path, clock)
    yield s
    s.close()


def record(store: FeedbackStore, question: str = "what is a kv cache?", **fields: object) -> int:
    values = {"mode": "ask", "kind": "answer", "origin": "discord", **fields}
    return store.record(AnswerRecord(question=question, **values))


def result(question: str, kind: str = "answer", **fields: object) -> AnswerResult:
    return AnswerResult(question=question, mode="ask", kind=kind, answer="…", **fields)


def disabled(config: Config) -> Config:
    analytics = config.analytics.model_copy(update={"enabled": False})
    return config.model_copy(update={"analytics": analytics})


# -- the store ---------------------------------------------------------------------------------
def test_schema_is_versioned_and_reopening_keeps_the_rows(
    store_target: Target, db_kind: str, tmp_path: Path, clock: Clock
) -> None:
    path = store_target(DB_NAME)
    with open_store(path, tmp_path, clock) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 1
        first = record(store)
        second = record(store, "why is my gpu slow?", origin="terminal")
        assert second > first > 0
    found = rows(path, "SELECT question, origin, asked_at FROM answers ORDER BY id")
    assert found == [
        ("what is a kv cache?", "discord", T0),
        ("why is my gpu slow?", "terminal", T0),
    ]
    assert rows(path, "SELECT component, version FROM schema_version WHERE component = 'feedback'")
    if db_kind == "sqlite":
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        raw.close()
    with open_store(path, tmp_path, clock) as again:
        assert again.count_answers(since=0) == 2


def test_newer_schema_is_refused(store_target: Target, tmp_path: Path) -> None:
    path = store_target(DB_NAME)
    open_store(path, tmp_path).close()
    set_schema_version(path, "feedback", SCHEMA_VERSION + 1)
    with pytest.raises(FeedbackStoreError, match="newer than this code"):
        open_store(path, tmp_path)


def test_sqlite_file_from_before_the_shared_layer_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    raw = sqlite3.connect(path)
    raw.executescript(
        "CREATE TABLE answers (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at REAL NOT NULL,"
        " origin TEXT NOT NULL, mode TEXT NOT NULL, kind TEXT NOT NULL, question TEXT NOT NULL,"
        " entry_ids TEXT NOT NULL, nearest_entry TEXT, fallback INTEGER NOT NULL,"
        " low_confidence INTEGER NOT NULL);"
        "CREATE INDEX answers_asked_at ON answers (asked_at);"
        "CREATE TABLE votes (answer_id INTEGER NOT NULL REFERENCES answers (id)"
        " ON DELETE CASCADE, user_hash TEXT NOT NULL, helpful INTEGER NOT NULL,"
        " voted_at REAL NOT NULL, PRIMARY KEY (answer_id, user_hash));"
        f"INSERT INTO answers VALUES (1, {T0}, 'discord', 'ask', 'unknown', 'old?', '[]',"
        " NULL, 0, 0);"
        "PRAGMA user_version = 1;"
    )
    raw.close()
    with FeedbackStore(path, 30, Clock()) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [g.question for g in store.gap_rows(since=0)] == ["old?"]
        assert store.vote(1, DISCORD_ID, helpful=False) == "recorded"
        assert record(store) == 2


def test_a_database_url_needs_a_key_path(postgres_url: str) -> None:
    with pytest.raises(ValueError, match="key_path"):
        FeedbackStore(postgres_url, 30)


def test_open_feedback_with_database_url_keeps_the_key_in_the_data_dir(
    config: Config, postgres_url: str
) -> None:
    config = config.model_copy(update={"database_url": postgres_url})
    feedback = open_feedback(config)
    try:
        assert feedback.enabled
        answer_id = feedback.record(result("what is a kv cache?"), "terminal")
        assert answer_id is not None
        assert "noted" in feedback.vote(answer_id, DISCORD_ID, helpful=False).lower()
    finally:
        feedback.close()
    assert (config.data_dir / KEY_NAME).is_file() and not (config.data_dir / DB_NAME).exists()
    assert rows(postgres_url, "SELECT question FROM answers") == [("what is a kv cache?",)]
    assert read_gaps(config, {}).enabled  # read from the database, not a file


def test_unknown_origin_is_a_value_error(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match="origin"):
        record(store, origin="slack")


def test_a_vote_is_recorded_then_changed_never_doubled(store: FeedbackStore) -> None:
    answer = record(store)
    assert store.vote(answer, DISCORD_ID, helpful=False) == "recorded"
    assert store.vote(answer, DISCORD_ID, helpful=False) == "unchanged"
    assert store.vote(answer, DISCORD_ID, helpful=True) == "changed"
    assert store.vote(answer, DISCORD_ID + 1, helpful=False) == "recorded"
    votes = store.votes(answer)
    assert len(votes) == 2  # one per user, however often they press
    assert votes[store.user_hash(DISCORD_ID)] is True
    assert votes[store.user_hash(DISCORD_ID + 1)] is False


def test_a_vote_on_an_unknown_answer_is_not_stored(store: FeedbackStore) -> None:
    assert store.vote(999, DISCORD_ID, helpful=True) == "unknown_answer"
    assert store.votes(999) == {}


def test_user_ids_are_hmac_hashed_and_never_stored_raw(tmp_path: Path, clock: Clock) -> None:
    data = tmp_path / "data"
    with FeedbackStore(data / DB_NAME, 30, clock) as store:
        answer = record(store)
        store.vote(answer, DISCORD_ID, helpful=False)
        hashed = store.user_hash(DISCORD_ID)
    assert len(hashed) == 64 and str(DISCORD_ID) not in hashed
    files = [p for p in data.iterdir() if p.name.startswith(DB_NAME)]
    everything = b"".join(p.read_bytes() for p in files)
    assert str(DISCORD_ID).encode() not in everything
    assert DISCORD_ID.to_bytes(8, "big") not in everything
    assert DISCORD_ID.to_bytes(8, "little") not in everything
    assert hashed.encode() in everything
    key = data / KEY_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    # Another install (another key) gives the same user another hash: no linking across.
    with FeedbackStore(tmp_path / "other" / DB_NAME, 30, clock) as other:
        assert other.user_hash(DISCORD_ID) != hashed
    with FeedbackStore(data / DB_NAME, 30, clock) as reopened:
        assert reopened.user_hash(DISCORD_ID) == hashed  # the key is kept per install


def test_retention_deletes_old_answers_and_their_votes(
    store_target: Target, tmp_path: Path, clock: Clock
) -> None:
    path = store_target(DB_NAME)
    with open_store(path, tmp_path, clock) as store:
        old = record(store, "old question")
        store.vote(old, DISCORD_ID, helpful=False)
        clock.now += 29 * DAY
        recent = record(store, "recent question")
    clock.now += 2 * DAY  # `old` is 31 days old now, `recent` 2
    with open_store(path, tmp_path, clock) as store:  # opening purges
        assert store.count_answers(since=0) == 1
        assert store.vote(old, DISCORD_ID, helpful=True) == "unknown_answer"
        assert store.vote(recent, DISCORD_ID, helpful=True) == "recorded"
    assert rows(path, "SELECT answer_id FROM votes") == [(recent,)]


def test_retention_also_runs_periodically_while_open(store: FeedbackStore, clock: Clock) -> None:
    record(store, "first")
    clock.now += 30 * DAY + 1
    record(store, "second")  # more than PURGE_EVERY_S since the last purge: purged first
    assert store.count_answers(since=0) == 1
    clock.now += PURGE_EVERY_S / 2
    assert store.purge() == 0


def test_a_press_on_an_answer_no_longer_on_record_is_answered_politely(config: Config) -> None:
    feedback = open_feedback(config)
    try:
        assert feedback.vote(424242, DISCORD_ID, helpful=True) == VOTE_REPLIES["unknown_answer"]
        assert "no longer have a record" in VOTE_REPLIES["unknown_answer"]
    finally:
        feedback.close()


def test_disabled_analytics_stores_nothing_and_creates_no_file(config: Config) -> None:
    config = disabled(config)
    feedback = open_feedback(config)
    assert not feedback.enabled
    assert feedback.record(result("what is inference?"), "terminal") is None
    assert "off" in feedback.vote(1, DISCORD_ID, helpful=True)
    report = read_gaps(config, {})
    assert not report.enabled and report.to_json()["groups"] == []
    feedback.close()
    assert not config.data_dir.exists()


# -- what is recorded of an answer -------------------------------------------------------------
def test_record_keeps_sources_flags_and_a_redacted_question() -> None:
    key = "sk-" + "a" * 40  # credential-shaped, built from parts
    answer = result(
        f"my key {key} — what is a kv cache?",
        sources=(Source("kv-cache", "KV cache", "kv-cache#0"), Source("kv-cache", "KV cache")),
        entry_id="kv-cache",
        fallback=True,
        low_confidence=True,
    )
    kept = answer_record(answer, "discord")
    assert key not in kept.question and "kv cache" in kept.question
    assert kept.entry_ids == ("kv-cache",)
    assert kept.nearest_entry == "kv-cache"
    assert kept.fallback and kept.low_confidence


async def test_an_unknown_question_is_grouped_under_the_retrievers_top_hit(tutor: Tutor) -> None:
    retriever = tutor.library.retriever
    unknown = await tutor.ask("what is a gpu?")
    assert unknown.kind == "unknown" and unknown.entry_id is None
    top = retriever.search(unknown.question, limit=1)
    assert top, "the fixture knowledge mentions GPUs"
    assert nearest_entry(unknown, retriever) == top[0].entry.id
    nothing = result("zorblax quibbit?", kind="unknown")
    assert retriever.search(nothing.question) == []
    assert nearest_entry(nothing, retriever) is None


# -- the gaps report ---------------------------------------------------------------------------
def test_gaps_groups_by_entry_with_reason_counts_and_examples(
    store: FeedbackStore, clock: Clock
) -> None:
    for n in range(4):
        record(store, f"how big is a kv cache {n}?", kind="unknown", nearest_entry="kv-cache")
        clock.now += 1
    record(store, "kv cache on disk?", nearest_entry="kv-cache", low_confidence=True)
    fell_back = record(store, "what is int4?", nearest_entry="quantization", fallback=True)
    store.vote(fell_back, DISCORD_ID, helpful=False)
    disliked = record(store, "what is inference?", nearest_entry="inference")
    store.vote(disliked, DISCORD_ID, helpful=False)
    store.vote(disliked, DISCORD_ID + 1, helpful=True)
    liked = record(store, "what is a token?", nearest_entry="tokenization")
    store.vote(liked, DISCORD_ID, helpful=True)
    record(store, "what is training?", nearest_entry="training")  # fine: not listed
    record(store, "zorblax?", kind="unknown")

    rows = store.gap_rows(since=0)
    titles = {"kv-cache": "KV cache", "quantization": "Quantization", "inference": "Inference"}
    report = build_report(rows, titles, days=30, answers=store.count_answers(since=0))
    assert report.answers == 10
    by_entry = {g.entry_id: g for g in report.groups}
    assert set(by_entry) == {"kv-cache", "quantization", "inference", None}
    kv = report.groups[0]
    assert kv.entry_id == "kv-cache" and kv.title == "KV cache" and kv.questions == 5
    assert kv.reasons == {"unknown": 4, "fallback": 0, "low_confidence": 1, "not_helpful": 0}
    assert kv.examples == (
        "kv cache on disk?",
        "how big is a kv cache 3?",
        "how big is a kv cache 2?",
    )
    assert by_entry["quantization"].reasons == {
        "unknown": 0,
        "fallback": 1,
        "low_confidence": 0,
        "not_helpful": 1,
    }
    assert by_entry["inference"].reasons["not_helpful"] == 1
    assert by_entry[None].title == NO_ENTRY and by_entry[None].examples == ("zorblax?",)
    assert report.totals == {"unknown": 5, "fallback": 1, "low_confidence": 1, "not_helpful": 2}
    text = render_text(report)
    assert "KV cache (kv-cache): 5 questions: 4 unknown, 1 low confidence" in text
    assert f"{NO_ENTRY}: 1 question: 1 unknown" in text
    assert json.loads(json.dumps(report.to_json()))["groups"][0]["entry"] == "kv-cache"


def test_gaps_text_fits_a_limit_by_dropping_whole_groups(store: FeedbackStore) -> None:
    for n in range(60):
        record(store, f"question number {n} " + "x" * 80, kind="unknown", nearest_entry=f"e{n}")
    report = build_report(store.gap_rows(since=0), {}, days=30, answers=60)
    text = render_text(report, limit=1950)
    assert len(text) <= 1950
    assert "more groups (`python -m bot gaps`)" in text
    assert text.count("question: 1 unknown") >= 5


def test_gaps_on_an_empty_store_says_nothing_yet(store: FeedbackStore) -> None:
    report = build_report(store.gap_rows(since=0), {}, days=30, answers=0)
    assert report.groups == ()
    assert render_text(report).startswith("Nothing yet")


# -- the CLI ------------------------------------------------------------------------------------
def test_cli_gaps_on_a_fresh_data_dir_creates_nothing(
    config_path: Path, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "gaps", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["groups"] == [] and data["answers"] == 0 and data["enabled"] is True
    assert main(["--config", str(config_path), "gaps"]) == 0
    assert capsys.readouterr().out.startswith("Nothing yet")
    assert not (config.data_dir / DB_NAME).exists()


def test_cli_gaps_with_analytics_disabled_creates_no_db(
    config_path: Path, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path.write_text(config_path.read_text() + "analytics:\n  enabled: false\n")
    assert main(["--config", str(config_path), "gaps", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["enabled"] is False and data["groups"] == []
    assert not config.data_dir.exists()


def test_cli_gaps_bad_days_is_one_clear_line(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config_path), "gaps", "--days", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --days must be at least 1"


async def test_cli_gaps_lists_what_the_pipeline_recorded(
    config_path: Path, config: Config, tutor: Tutor, capsys: pytest.CaptureFixture[str]
) -> None:
    feedback = open_feedback(config)
    retriever = tutor.library.retriever
    unknown = await tutor.ask("what is a gpu?")
    answered = await tutor.ask("what is inference?")
    greeting = await tutor.ask("hello")
    ids = [feedback.record(r, "terminal", retriever) for r in (unknown, answered, greeting)]
    assert all(ids)
    assert feedback.vote(ids[1], DISCORD_ID, helpful=False) == "Thanks — noted."
    assert feedback.vote(ids[1], DISCORD_ID, helpful=True) == "Changed your vote to helpful."
    assert feedback.vote(ids[1], DISCORD_ID, helpful=False) == "Changed your vote to not helpful."
    feedback.close()

    assert main(["--config", str(config_path), "gaps", "--json", "--days", "7"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answers"] == 3 and data["days"] == 7
    examples = {q: g for g in data["groups"] for q in g["examples"]}
    assert examples["what is a gpu?"]["reasons"]["unknown"] == 1
    assert examples["what is inference?"]["entry"] == "inference"
    assert examples["what is inference?"]["reasons"]["not_helpful"] == 1
    assert "hello" not in examples
    assert main(["--config", str(config_path), "gaps"]) == 0
    assert "what is a gpu?" in capsys.readouterr().out


# -- the low-confidence line -------------------------------------------------------------------
def test_terminal_shows_a_line_when_the_notes_may_not_cover_the_question(
    tutor: Tutor, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import _caveat, _print_result

    unsure = result("what is a kv cache?", low_confidence=True)
    sure = result("what is a kv cache?")
    line = tutor.library.prompts.reply("low_confidence_note")
    assert "may not fully cover" in line
    assert _caveat(unsure, tutor) == line and _caveat(sure, tutor) is None
    _print_result(unsure, False, caveat=_caveat(unsure, tutor))
    assert f"({line})" in capsys.readouterr().out
