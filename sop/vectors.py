"""One vector per chunk from two models, mixed per query language.

A chunk is stored as [MiniLM(text), USE(text)] / sqrt(2): both halves unit length, so the
whole is unit length too. A query is [a * MiniLM(english), (1 - a) * USE(text)], so the
cosine Chroma reports is a fixed multiple of a * cos_MiniLM + (1 - a) * cos_USE, and
`mixed_similarity` undoes the multiple. One collection and one nearest-neighbour query,
with the mixing chosen at query time:

- English text: a = 1.0, MiniLM alone, exactly as before the multilingual model. A = 0.7 won
  2 more of the 85 English tuning cases but lost 1 of the 70 held-out ones (bench/bench_sop.py
  figures in the README), and at 1.0 an English query never loads the multilingual model
  (1.7 s and ~150 MB in a one-shot process).
- Text with Hangul: a = 0.5, and MiniLM sees the non-Hangul words plus the English gloss of
  the Korean terms (sop/korean.py) while USE sees the text as written. Chosen on the
  `korean_dev` cases; either model alone was worse there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sop.errors import SopError
from sop.korean import gloss, has_hangul, non_hangul, with_gloss
from sop.minilm import DIMENSIONS as MINILM_DIMENSIONS
from sop.minilm import MODEL_SHA256, ModelError, load_minilm
from sop.use import DIMENSIONS as USE_DIMENSIONS
from sop.use import WEIGHTS_SHA256, load_multilingual

DIMENSIONS = MINILM_DIMENSIONS + USE_DIMENSIONS
ENGLISH_MIX = 1.0
KOREAN_MIX = 0.5
GLOSS = True  # bench/bench_sop.py turns these knobs to compare the models side by side
# What a stored vector is made of: a store built with anything else is re-embedded (sop/reindex.py).
SIGNATURE = f"minilm:{MODEL_SHA256[:16]}+use-m3:{WEIGHTS_SHA256[:16]}/v1"
_HALF = 1.0 / math.sqrt(2.0)


def load_models() -> None:
    """Both encoders loaded (and checksummed); the first search pays this, or a warm-up does."""
    load_minilm()
    load_multilingual()


def document_vectors(texts: list[str]) -> np.ndarray:
    english = load_minilm().encode(texts)
    multilingual = load_multilingual().encode(texts)
    return np.concatenate([english, multilingual], axis=1) * np.float32(_HALF)


def query_vector(text: str) -> tuple[np.ndarray, float]:
    """(vector to search with, factor that turns Chroma's cosine into the mixed similarity)."""
    if has_hangul(text):
        english_text = (" ".join(f"{non_hangul(text)} {gloss(text)}".split()) or text) if GLOSS else text
        mix = KOREAN_MIX
    else:
        english_text, mix = text, ENGLISH_MIX
    english = load_minilm().encode([english_text])[0]
    if mix < 1.0:
        multilingual = load_multilingual().encode([text])[0]
    else:  # the USE half does not count: no need to load the model for it
        multilingual = np.zeros(USE_DIMENSIONS, dtype=np.float32)
    vector = np.concatenate([mix * english, (1.0 - mix) * multilingual])
    # cos_chroma = (mix*cos_m + (1-mix)*cos_u) * HALF / |vector|
    return vector, float(np.linalg.norm(vector)) / _HALF


def lexical_text(query: str) -> str:
    """What BM25 and the name match read: Korean through its English gloss (sop/korean.py)."""
    return with_gloss(query) if GLOSS else query


def mixed_similarity(distance: float, factor: float) -> float:
    return (1.0 - distance) * factor


def embed_documents(texts: list[str]) -> Any:
    """Document vectors, or the one-line SopError a person can act on."""
    try:
        return document_vectors(texts)
    except ModelError as exc:
        raise SopError(str(exc)) from None
