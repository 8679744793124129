"""Per-token metrics of next-chord distributions, shared by the window protocol and the whole-song protocol.

``top1``/``top5`` (a target tied with others counts as ranked after none of them), ``cross_entropy`` in nats,
``perplexity``; and an n-gram model's distribution before each target of a batch of windows or spans.
"""

from __future__ import annotations

import numpy as np

from core.dataset import EncodedWindows
from core.evaluation.ngram import NGramModel

CURVE_K = tuple(range(1, 11))
_FLOOR = 1e-12  # probabilities below this are clipped before the log (a float32 softmax can underflow)


def target_ranks(probabilities: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based rank of each target: how many tokens are strictly more probable. ``probabilities`` [n, V]."""
    target_probabilities = probabilities[np.arange(len(targets)), targets]
    return (probabilities > target_probabilities[:, None]).sum(axis=1)


def token_metrics(probabilities: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """``{top1, top5, cross_entropy, perplexity, tokens}`` over flat targets [n] with distributions [n, V]."""
    targets = np.asarray(targets, dtype=np.int64)
    if len(targets) == 0:
        return {"top1": float("nan"), "top5": float("nan"), "cross_entropy": float("nan"), "perplexity": float("nan"),
                "tokens": 0}
    ranks = target_ranks(probabilities, targets)
    target_probabilities = np.maximum(probabilities[np.arange(len(targets)), targets].astype(np.float64), _FLOOR)
    cross_entropy = float(-np.log(target_probabilities).mean())
    return {
        "top1": float((ranks < 1).mean()),
        "top5": float((ranks < 5).mean()),
        "cross_entropy": cross_entropy,
        "perplexity": float(np.exp(cross_entropy)),
        "tokens": int(len(targets)),
    }


def topk_curve(probabilities: np.ndarray, targets: np.ndarray, ks: tuple[int, ...] = CURVE_K) -> list[float]:
    """Top-k accuracy for each k in ``ks``."""
    ranks = target_ranks(probabilities, np.asarray(targets, dtype=np.int64))
    return [float((ranks < k).mean()) if len(ranks) else float("nan") for k in ks]


def ngram_probabilities(model: NGramModel, encoded: EncodedWindows, windows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The n-gram's next-token distribution [n, V] before each (window, position) target."""
    return np.stack([model.next_distribution(encoded.chord_input[w, : p + 1]) for w, p in zip(windows, positions, strict=True)])


