"""Smoothed n-gram baselines over the model's token ids (unigram, bigram, trigram).

The baselines share the model's vocabulary and framing: a sequence is ``[START] + chords``
followed by ``END`` when the window closes its section. Every token after ``START`` is a
prediction, so a baseline's numbers compare one-for-one with the LSTM's masked per-token
numbers. Baselines ignore the conditions on purpose: they show what the chords alone predict.

Smoothing:

* order 1 — add-k: ``p(w) = (c(w) + k) / (N + k |W|)``;
* order 2 and 3 — interpolated Kneser-Ney (Chen & Goodman 1998, one discount per order,
  ``D = n1 / (n1 + 2 n2)``). The highest order uses raw counts; lower orders use continuation
  counts ``N1+(• context w)``, except for contexts that begin with ``START`` (nothing can precede
  them, so their raw counts are used, as KenLM does). The lowest order is interpolated with the
  uniform distribution over outcomes, so no real chord and no ``END`` ever gets probability 0.

Outcomes ``W`` are ``END`` and every chord; ``PAD`` and ``START`` always get 0. The first
prediction of a sequence only has ``(START,)`` as context; a trigram model then answers from
its bigram level (sequences are framed with one ``START``, like the model's inputs).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB

_FALLBACK_DISCOUNT = 0.75


def outcome_mask(vocab_size: int = VOCAB.size) -> np.ndarray:
    """Boolean mask of tokens a model may predict: ``END`` and every chord (not ``PAD``/``START``)."""
    mask = np.ones(vocab_size, dtype=bool)
    mask[[PAD_ID, START_ID]] = False
    return mask


def frame_sequence(token_ids: Sequence[int]) -> list[int]:
    """Token ids as the n-grams see them: padding dropped, ``START`` put in front if missing."""
    ids = [int(t) for t in token_ids if int(t) != PAD_ID]
    if not ids or ids[0] != START_ID:
        ids = [START_ID] + ids
    return ids


def _ney_discount(counts: Iterable[float]) -> float:
    """``n1 / (n1 + 2 n2)`` from counts-of-counts; 0.75 when undefined or outside (0, 1)."""
    values = list(counts)
    n1 = sum(1 for c in values if c == 1)
    n2 = sum(1 for c in values if c == 2)
    if n1 == 0 or n1 + 2 * n2 == 0:
        return _FALLBACK_DISCOUNT
    discount = n1 / (n1 + 2 * n2)
    return discount if 0.0 < discount < 1.0 else _FALLBACK_DISCOUNT


class NGramModel:
    """An unconditioned n-gram language model over chord token ids.

    ``order`` is 1 (add-k unigram), 2 or 3 (interpolated Kneser-Ney). ``discounts`` fixes the
    Kneser-Ney discount per order (``discounts[0]`` for the lowest order); ``None`` estimates them.
    """

    def __init__(
        self,
        order: int = 3,
        vocab_size: int = VOCAB.size,
        add_k: float = 1.0,
        discounts: Sequence[float] | None = None,
    ) -> None:
        if order not in (1, 2, 3):
            raise ValueError(f"order must be 1, 2 or 3, not {order}")
        if discounts is not None and len(discounts) != order:
            raise ValueError(f"need {order} discounts, got {len(discounts)}")
        self.order = order
        self.vocab_size = vocab_size
        self.add_k = add_k
        self.fixed_discounts = tuple(discounts) if discounts is not None else None
        self.discounts: tuple[float, ...] = ()
        self.outcomes = outcome_mask(vocab_size)
        self._uniform = self.outcomes / self.outcomes.sum()
        self._fitted = False

    @property
    def name(self) -> str:
        """``unigram``, ``bigram`` or ``trigram``."""
        return ("unigram", "bigram", "trigram")[self.order - 1]

    # --- fitting ------------------------------------------------------------------------------

    def fit(self, sequences: Iterable[Sequence[int]]) -> NGramModel:
        """Count n-grams over framed token sequences (``[START] + chord ids [+ END]``; PAD ignored)."""
        unigram = np.zeros(self.vocab_size)
        bigram: Counter[tuple[int, int]] = Counter()
        trigram: Counter[tuple[int, int, int]] = Counter()
        for raw in sequences:
            ids = frame_sequence(raw)
            for i in range(1, len(ids)):
                unigram[ids[i]] += 1
                bigram[(ids[i - 1], ids[i])] += 1
                if i >= 2:
                    trigram[(ids[i - 2], ids[i - 1], ids[i])] += 1
        self.unigram_counts = unigram
        self.n_tokens = float(unigram.sum())
        if self.order == 1:
            self._p_unigram = self._add_k(unigram)
        else:
            self._fit_kneser_ney(bigram, trigram)
        self._fitted = True
        self._trigram_cache: dict[tuple[int, int], np.ndarray] = {}
        return self

    def _add_k(self, counts: np.ndarray) -> np.ndarray:
        smoothed = np.where(self.outcomes, counts + self.add_k, 0.0)
        return smoothed / smoothed.sum()

    def _discount(self, level: int, counts: Iterable[float]) -> float:
        if self.fixed_discounts is not None:
            return float(self.fixed_discounts[level - 1])
        return _ney_discount(counts)

    def _fit_kneser_ney(self, bigram: Counter, trigram: Counter) -> None:
        v = self.vocab_size
        # Level-2 counts: raw at the top of a bigram model or after START; else continuation counts.
        if self.order == 2:
            level2 = dict(bigram)
        else:
            continuation: Counter[tuple[int, int]] = Counter((b, c) for (_a, b, c) in trigram)
            level2 = {pair: (count if pair[0] == START_ID else continuation[pair]) for pair, count in bigram.items()}
        # Level 1: continuation counts N1+(• w) over bigram types, interpolated with uniform.
        left_contexts = np.zeros(v)
        for (_prev, word) in bigram:
            left_contexts[word] += 1
        d1 = self._discount(1, left_contexts[left_contexts > 0])
        total = left_contexts.sum()
        if total > 0:
            types = float((left_contexts > 0).sum())
            self._p1 = np.maximum(left_contexts - d1, 0.0) / total + (d1 * types / total) * self._uniform
        else:
            self._p1 = self._uniform.copy()
        # Level 2: one dense row per context token (the vocabulary is small).
        d2 = self._discount(2, level2.values())
        counts2 = np.zeros((v, v))
        for (prev, word), count in level2.items():
            counts2[prev, word] = count
        row_totals = counts2.sum(axis=1, keepdims=True)
        row_types = (counts2 > 0).sum(axis=1, keepdims=True)
        safe = np.where(row_totals > 0, row_totals, 1.0)
        p2 = np.maximum(counts2 - d2, 0.0) / safe + (d2 * row_types / safe) * self._p1[None, :]
        self._p2 = np.where(row_totals > 0, p2, self._p1[None, :])
        # Level 3: raw trigram counts, kept sparse per two-token context.
        d3 = self._discount(3, trigram.values()) if self.order == 3 else 0.0
        self._trigram_rows: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        if self.order == 3:
            rows: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
            for (a, b, c), count in trigram.items():
                rows[(a, b)][c] = count
            for context, row in rows.items():
                words = np.fromiter(row.keys(), dtype=np.int64)
                counts = np.fromiter(row.values(), dtype=np.float64)
                self._trigram_rows[context] = (words, counts)
        self.discounts = (d1, d2, d3)[: self.order]

    # --- prediction ---------------------------------------------------------------------------

    def next_distribution(self, context: Sequence[int]) -> np.ndarray:
        """Probabilities of every token id following ``context`` (framed like :meth:`fit`'s sequences).

        Sums to 1; positive for ``END`` and every chord, 0 for ``PAD`` and ``START``.
        """
        if not self._fitted:
            raise RuntimeError("fit the n-gram model before asking for probabilities")
        ids = frame_sequence(context)
        if self.order == 1:
            return self._p_unigram.copy()
        if self.order == 3 and len(ids) >= 2:
            return self._trigram_distribution(ids[-2], ids[-1]).copy()
        return self._p2[ids[-1]].copy()

    def _trigram_distribution(self, first: int, second: int) -> np.ndarray:
        cached = self._trigram_cache.get((first, second))
        if cached is not None:
            return cached
        lower = self._p2[second]
        row = self._trigram_rows.get((first, second))
        if row is None:
            return lower
        words, counts = row
        total = counts.sum()
        d3 = self.discounts[2]
        dist = (d3 * len(words) / total) * lower
        dist[words] += np.maximum(counts - d3, 0.0) / total
        self._trigram_cache[(first, second)] = dist
        return dist

    def prob(self, token: int, context: Sequence[int]) -> float:
        """Probability of one token after ``context``."""
        return float(self.next_distribution(context)[int(token)])

    def token_log_probs(self, sequence: Sequence[int]) -> np.ndarray:
        """Natural-log probability of each token after ``START`` in a framed sequence."""
        ids = frame_sequence(sequence)
        return np.array([np.log(self.next_distribution(ids[:i])[ids[i]]) for i in range(1, len(ids))])

    def score(self, sequence: Sequence[int]) -> float:
        """Natural-log likelihood of a framed sequence (sum over every token after ``START``)."""
        return float(self.token_log_probs(sequence).sum())


def fit_baselines(sequences: Sequence[Sequence[int]]) -> dict[str, NGramModel]:
    """Unigram, bigram and trigram baselines fitted on the same framed sequences."""
    return {model.name: model.fit(sequences) for model in (NGramModel(1), NGramModel(2), NGramModel(3))}


__all__ = ["END_ID", "NGramModel", "fit_baselines", "frame_sequence", "outcome_mask"]
