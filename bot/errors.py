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


class BusyError(BotError):
    """The user already has a question in flight or is over the rate limit."""


class AnswerTimeout(BotError):
    """Generation took longer than the configured time limit."""
