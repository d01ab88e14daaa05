"""The core must never import discord: only bot/discord_app may."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def core_modules() -> list[str]:
    modules = []
    for path in sorted((PROJECT / "bot").rglob("*.py")):
        rel = path.relative_to(PROJECT).with_suffix("")
        if "discord_app" in rel.parts or rel.name == "__main__":
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        modules.append(".".join(parts))
    return modules


def test_core_modules_are_found() -> None:
    modules = core_modules()
    assert "bot.pipeline" in modules and "bot.quiz.engine" in modules
    assert not any("discord_app" in m for m in modules)


def test_importing_the_whole_core_never_imports_discord() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"core imported: {proc.stdout.strip()}"


def test_a_discord_import_would_be_detected() -> None:
    # The check above can fail: importing the adapter package does pull discord in.
    code = "import sys, bot.discord_app.client; print('discord' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "True", proc.stderr
