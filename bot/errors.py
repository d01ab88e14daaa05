"""Errors meant for users: each carries one short, clear line."""

from __future__ import annotations


class BotError(Exception):
    """Base for every error whose message can be shown to a user as is."""


class ConfigError(BotError):
    """config.yaml is missing, unreadable or has a wrong value."""


class KnowledgeError(BotError):
    """A knowledge, prompt or quiz file is broken; the message names the file and field."""


class ModelUnavailable(BotError):
    """The model file is missing or the backend cannot be reached."""


class QueueFull(BotError):
    """Too many questions are waiting for the model; try again after `retry_s` seconds."""

    def __init__(self, retry_s: float) -> None:
        super().__init__(f"too many questions are waiting; try again in {round(retry_s)} s")
        self.retry_s = retry_s
