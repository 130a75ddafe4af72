"""The numpy MiniLM encoder and its Chroma embedding function."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from sop.minilm import MAX_TOKENS, MODEL_SHA256, MiniLM, ModelError, file_sha256, load_minilm, model_dir

# sentence-transformers' documented output for all-MiniLM-L6-v2 (first 8 dimensions).
REFERENCE = {
    "This is an example sentence": [0.0676569, 0.0634959, 0.0487131, 0.0793050, 0.0374481, 0.0026528,
                                    0.0393750, -0.0070984],
    "Each sentence is converted": [0.0864386, 0.1027627, 0.0053945, 0.0020444, -0.0099634, 0.0253855,
                                   0.0492875, -0.0306266],
}


def test_matches_sentence_transformers_reference_values():
    vectors = load_minilm().encode(list(REFERENCE))
    for vector, expected in zip(vectors, REFERENCE.values(), strict=True):
        np.testing.assert_allclose(vector[:8], expected, atol=1e-5)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_similar_sentences_are_close_and_unrelated_ones_are_not():
    cat, cat2, other = load_minilm().encode(
        ["The cat sits on the mat", "A cat is sitting on a mat", "The quarterly revenue report is due Friday"]
    )
    assert float(cat @ cat2) > 0.85
    assert float(cat @ other) < 0.2


def test_batching_does_not_change_results():
    longer = "a much longer sentence about memory pressure and the oom killer " * 3
    texts = ["disk full on /var", longer, "cpu"]
    model = load_minilm()
    together = model.encode(texts)
    alone = np.stack([model.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_long_text_is_truncated_to_the_model_window():
    model = load_minilm()
    words = " ".join(f"word{i}" for i in range(2000))
    assert len(model.tokenizer.encode(words).ids) == MAX_TOKENS
    assert model.encode([words]).shape == (1, 384)


def test_checksum_mismatch_is_a_clear_error(tmp_path):
    fake = tmp_path / "model"
    fake.mkdir()
    (fake / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    shutil.copy(model_dir() / "tokenizer.json", fake / "tokenizer.json")
    with pytest.raises(ModelError, match="sha256") as caught:
        MiniLM(fake)
    assert "\n" not in str(caught.value)


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        MiniLM(tmp_path)


def test_installed_weights_match_the_pinned_checksum():
    assert file_sha256(model_dir() / "model.safetensors") == MODEL_SHA256


def test_embedding_function_round_trips_through_its_config():
    from sop.embedding import EF_NAME, MiniLMEmbeddingFunction

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Chroma warns (DeprecationWarning) on legacy functions
        ef = MiniLMEmbeddingFunction()
        rebuilt = MiniLMEmbeddingFunction.build_from_config(ef.get_config())
        assert not ef.is_legacy()
    assert ef.name() == EF_NAME and rebuilt.get_config() == ef.get_config()
    assert ef.default_space() == "cosine"
    assert len(ef(["hello world"])[0]) == 384
    with pytest.raises(ValueError):
        ef.validate_config_update(ef.get_config(), {**ef.get_config(), "sha256": "0" * 64})
