"""bot.answer.embeddings: the vector cache (a fake embedder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.answer.embeddings import VectorCache


class CountingEmbedder:
    def __init__(self) -> None:
        self.embedded: list[str] = []

    def passages(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.ones((len(texts), 384), dtype=np.float32)


def test_vector_cache_embeds_only_new_texts_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npz"
    first = CountingEmbedder()
    VectorCache(path).matrix(["a", "b"], first)  # type: ignore[arg-type]
    second = CountingEmbedder()
    matrix = VectorCache(path).matrix(["a", "b", "c"], second)  # type: ignore[arg-type]
    assert first.embedded == ["a", "b"]
    assert second.embedded == ["c"]
    assert matrix.shape == (3, 384)


def test_unreadable_vector_cache_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npz"
    path.write_bytes(b"not a numpy file")
    embedder = CountingEmbedder()
    assert VectorCache(path).matrix(["a"], embedder).shape == (1, 384)  # type: ignore[arg-type]
    assert embedder.embedded == ["a"]
