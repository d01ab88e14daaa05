"""End-to-end with a remote engine: `python -m bot run` (real discord.py, against the local
fake Discord) configured `model.backend: openai`, answering through a real
`python -m llama_cpp.server`."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e.e2e_helpers import BotProcess, write_config
from fakediscord.server import FakeDiscord
from remote_helpers import GENERATION, LlamaServer

pytestmark = [pytest.mark.e2e, pytest.mark.model, pytest.mark.remote]


async def test_slash_ask_is_answered_through_the_server(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    model = {"backend": "openai", "base_url": llama_server.url, "max_concurrency": 2}
    config = write_config(tmp_path, model=model, generation=GENERATION)
    async with FakeDiscord() as fake:
        fake.add_user("alice")
        env = {**fake.bot_env(), "BOT_DATA_DIR": str(tmp_path / "data")}
        bot = await BotProcess(env, config, tmp_path / "bot.log").start()
        try:
            await fake.wait_ready(timeout=60)
            await fake.wait_for_sync(["ask"], timeout=30)
            served_before = llama_server.log.count("POST /v1/chat/completions")
            interaction = await fake.slash_command(
                "ask", {"question": "What does the KV cache store?"}
            )

            def final(m: dict) -> bool:
                embeds = m.get("embeds") or [{}]
                return "total " in embeds[0].get("footer", {}).get("text", "")

            message = await fake.wait_for_final(interaction, final, timeout=90)
        finally:
            await bot.stop()
    embed = message["embeds"][0]
    assert embed["description"]
    sources = next(f for f in embed["fields"] if f["name"] == "Sources")
    assert "kv-cache" in sources["value"]
    footer = embed["footer"]["text"]
    assert "first token" in footer and "tokens used" in footer, footer
    assert "model unavailable" not in footer
    assert llama_server.log.count("POST /v1/chat/completions") > served_before
    log = bot.log
    assert "Traceback" not in log, log[-3000:]
    assert fake.token not in log
