"""The Chroma embedding function for the SOP collection.

Chroma 1.x persists the embedding function's name and config with the collection and
rebuilds it through `build_from_config` when the collection is opened, so the class
is registered and implements the full protocol; the weights load lazily, on the
first call, so opening a collection (or `sop list`) never pays for the model.
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from sop.minilm import DIMENSIONS, MAX_TOKENS, MODEL_SHA256, load_minilm
from sop.vectors import DIMENSIONS as DUAL_DIMENSIONS
from sop.vectors import SIGNATURE, document_vectors

EF_NAME = "aiops-minilm-l6-v2-numpy"
DUAL_EF_NAME = "aiops-minilm-use-m3-numpy"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@register_embedding_function
class DualEmbeddingFunction(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 and USE multilingual v3 side by side (sop/vectors.py); 896-dim unit vectors."""

    def __init__(self) -> None:
        # Deliberately empty: the models are loaded on first use (see module docstring).
        pass

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        return list(document_vectors(list(input)))

    @staticmethod
    def name() -> str:
        return DUAL_EF_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"signature": SIGNATURE, "dimensions": DUAL_DIMENSIONS}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> DualEmbeddingFunction:
        return DualEmbeddingFunction()

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("signature") != new_config.get("signature"):
            raise ValueError("the SOP collection's embedding models cannot change; it is re-indexed instead")


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 alone: what stores built before the multilingual model persisted.

    Still registered so Chroma can open such a collection once, to re-index it (sop/reindex.py)."""

    def __init__(self) -> None:
        # Deliberately empty: the model is loaded on first use (see module docstring).
        pass

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        return list(load_minilm().encode(list(input)))

    @staticmethod
    def name() -> str:
        return EF_NAME

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {
            "model": MODEL_NAME,
            "sha256": MODEL_SHA256,
            "dimensions": DIMENSIONS,
            "max_tokens": MAX_TOKENS,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        return MiniLMEmbeddingFunction()

    def validate_config_update(self, old_config: dict[str, Any], new_config: dict[str, Any]) -> None:
        if old_config.get("sha256") != new_config.get("sha256"):
            raise ValueError("the SOP collection's embedding model cannot change; re-create the store")
