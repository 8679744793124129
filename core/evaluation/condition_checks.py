"""Does the model listen to its conditions, and does it copy? Analyses behind the Evaluation page.

Generic measures over progressions (sequences of :class:`Chord` or symbols):

* :func:`minor_share` — share of chords with a minor third (a "sad" request should raise it);
* :func:`chord_distribution` / :func:`compare_distributions` — how often each chord occurs,
  generated next to real, with the total variation distance between the two;
* :func:`ngram_novelty` — share of generated n-grams (4 chords by default) found nowhere in the
  training windows (exactly, or in any transposition);
* :func:`confusion_top_chords` — predicted vs true next chord among the most frequent chords.

:func:`test_predictions` decodes one split with the fast decoder (for the confusion view) and
:func:`conditioning_report` generates samples per mood and per genre (with the given guidance) and
sets each measure next to the corpus, including adherence: how often a judge
(:class:`core.evaluation.judge.NaiveBayesJudge`, trained on the train windows) names the requested
value, beside its ceiling, how often it names real test songs of that value correctly (the page
calls it once, with a progress callback, and caches the result).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.chords import Chord, parse_symbol
from core.conditions import GENRES, MOODS, UNSPECIFIED, Conditions
from core.config import MODEL_DISTRIBUTION
from core.errors import InputError
from core.vocabulary import END_ID, PAD_ID, VOCAB

#: (done, total, what) — how long work reports how far it got.
ProgressCallback = Callable[[int, int, str], None]
OTHER = "other"
END_LABEL = "END"

Progression = Sequence[Chord | str]


def as_chords(progression: Progression | str) -> list[Chord]:
    """Chords from Chord objects, symbols, or one space-separated string of symbols."""
    items = progression.split() if isinstance(progression, str) else progression
    return [c if isinstance(c, Chord) else parse_symbol(c) for c in items]


def table_progressions(frame: pd.DataFrame) -> list[list[Chord]]:
    """The ``chords`` column of a table-shaped frame as chord lists (empty windows dropped)."""
    return [as_chords(text) for text in frame["chords"].astype(str) if text.strip()]


# --- minor share ----------------------------------------------------------------------------------


def minor_share(samples: Iterable[Progression | str]) -> float:
    """Share of all chords in ``samples`` that are minor (minor, diminished or half-diminished); NaN if none."""
    flags = [chord.is_minor for progression in samples for chord in as_chords(progression)]
    return float(np.mean(flags)) if flags else float("nan")


# --- chord distributions --------------------------------------------------------------------------


def chord_distribution(progressions: Iterable[Progression | str], top: int | None = None) -> pd.Series:
    """Share of each chord symbol among all chords, most frequent first; the ``top`` first when given.

    Shares are of *all* chords, so the top ``k`` may sum to less than 1.
    """
    counts = Counter(chord.symbol for progression in progressions for chord in as_chords(progression))
    total = sum(counts.values())
    if not total:
        return pd.Series(dtype=float, name="share")
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if top is not None:
        ordered = ordered[: int(top)]
    return pd.Series({symbol: count / total for symbol, count in ordered}, name="share", dtype=float)


def compare_distributions(generated: Iterable[Progression | str], real: Iterable[Progression | str],
                          top: int = 12) -> tuple[pd.DataFrame, float]:
    """Generated and real chord shares side by side for the ``top`` chords of either, and their distance.

    Returns a frame indexed by chord symbol with columns ``generated`` and ``real`` (the real
    distribution's top chords first, then chords only the generated side favours), and the total
    variation distance between the full distributions (0: identical, 1: disjoint).
    """
    generated_share = chord_distribution(generated)
    real_share = chord_distribution(real)
    chosen = list(real_share.index[:top]) + [s for s in generated_share.index[:top] if s not in real_share.index[:top]]
    frame = pd.DataFrame({
        "generated": [float(generated_share.get(s, 0.0)) for s in chosen],
        "real": [float(real_share.get(s, 0.0)) for s in chosen],
    }, index=pd.Index(chosen, name="chord"))
    every = generated_share.index.union(real_share.index)
    distance = 0.5 * float(np.abs(generated_share.reindex(every, fill_value=0.0)
                                  - real_share.reindex(every, fill_value=0.0)).sum()) if len(every) else float("nan")
    return frame, distance


# --- novelty ----------------------------------------------------------------------------------


def ngrams(progression: Progression | str, n: int, transposition_invariant: bool = False) -> list[tuple]:
    """The progression's contiguous n-grams; transposition-invariant ones start every n-gram on C."""
    chords = as_chords(progression)
    grams = [tuple(chords[i : i + n]) for i in range(len(chords) - n + 1)]
    if transposition_invariant:
        grams = [tuple(c.transpose(-gram[0].root) for c in gram) for gram in grams]
    return grams


@dataclass(frozen=True)
class Novelty:
    """How many generated n-grams occur in the training windows."""

    n: int
    ngrams: int  # generated n-grams counted (with repeats)
    copied: int  # of those, found in the training windows
    transposition_invariant: bool

    @property
    def copied_share(self) -> float:
        """Share of generated n-grams that copy a training n-gram (NaN when there are none)."""
        return self.copied / self.ngrams if self.ngrams else float("nan")

    @property
    def novel_share(self) -> float:
        """Share of generated n-grams found nowhere in training (NaN when there are none)."""
        return 1.0 - self.copied_share if self.ngrams else float("nan")


def ngram_novelty(samples: Iterable[Progression | str], training_windows: Iterable[Progression | str], n: int = 4,
                  transposition_invariant: bool = False) -> Novelty:
    """How often the generated ``n``-grams copy an ``n``-gram of the training windows.

    ``transposition_invariant=True`` counts a copy in any key (``C F G C`` copies ``D G A D``).
    Progressions shorter than ``n`` contribute nothing.
    """
    if int(n) < 1:
        raise InputError(f"n must be at least 1, got {n}")
    seen = {gram for window in training_windows for gram in ngrams(window, int(n), transposition_invariant)}
    generated = [gram for sample in samples for gram in ngrams(sample, int(n), transposition_invariant)]
    return Novelty(int(n), len(generated), sum(gram in seen for gram in generated), transposition_invariant)


# --- confusion ----------------------------------------------------------------------------------


def _label(token_id: int) -> str:
    chord = VOCAB.chord(int(token_id))
    if chord is not None:
        return chord.symbol
    return END_LABEL if int(token_id) == END_ID else VOCAB.tokens[int(token_id)]


def confusion_top_chords(targets: Sequence[int] | np.ndarray, predictions: Sequence[int] | np.ndarray,
                         top: int = 12, normalise: bool = True) -> pd.DataFrame:
    """Confusion among the ``top`` most frequent true tokens (rows: true, columns: predicted).

    Tokens are vocabulary ids (chords and ``END``); everything outside the top is pooled into an
    ``other`` row and column (left out when empty). ``normalise=True`` divides each row by its count, so a cell reads
    "share of the times the true chord was X that the model's first choice was Y".
    """
    targets = np.asarray(targets, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    if targets.shape != predictions.shape:
        raise InputError(f"targets and predictions differ in shape: {targets.shape} vs {predictions.shape}")
    kept = [int(t) for t, _ in Counter(targets[targets != PAD_ID].tolist()).most_common(int(top))]
    labels = [_label(t) for t in kept]
    position = {t: i for i, t in enumerate(kept)}
    size = len(kept) + 1
    counts = np.zeros((size, size))
    for target, predicted in zip(targets.tolist(), predictions.tolist(), strict=True):
        if target == PAD_ID:
            continue
        counts[position.get(target, size - 1), position.get(predicted, size - 1)] += 1
    if normalise:
        totals = counts.sum(axis=1, keepdims=True)
        counts = counts / np.where(totals == 0, 1, totals)
    frame = pd.DataFrame(counts, index=[*labels, OTHER], columns=[*labels, OTHER])
    if not frame.loc[OTHER].any():  # every true token is in the top
        frame = frame.drop(index=OTHER)
    if not frame[OTHER].any():  # every prediction is in the top
        frame = frame.drop(columns=OTHER)
    return frame


def test_predictions(generator, frame: pd.DataFrame, split: str = "test", sequence_length: int = 12,
                     batch_rows: int = 512, progress: ProgressCallback | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(target ids, the model's most probable token ids) for every target of one split, in window order.

    ``generator`` is a :class:`core.generation.loading.Generator` (or a model folder); decoding is batched
    by ``batch_rows`` windows, calling ``progress`` after each batch.
    """
    from core.dataset import encode_frame, split_frame
    from core.generation.decoder import sequence_log_probs
    from core.generation.loading import as_generator

    decoder = as_generator(generator).decoder
    encoded = encode_frame(split_frame(frame, split), sequence_length)
    if not len(encoded):
        raise InputError(f"no {split} windows to predict")
    conditions = np.stack([encoded.genre, encoded.mood, encoded.key, encoded.scale_type], axis=1).astype(np.int64)
    targets, predictions = [], []
    for start in range(0, len(encoded), batch_rows):
        rows = slice(start, start + batch_rows)
        log_probs = sequence_log_probs(decoder, encoded.chord_input[rows, 1:], conditions[rows])[:, : sequence_length]
        batch_targets = encoded.targets[rows].astype(np.int64)
        present = batch_targets != PAD_ID
        targets.append(batch_targets[present])
        predictions.append(log_probs.argmax(axis=-1)[present])
        if progress:
            progress(min(start + batch_rows, len(encoded)), len(encoded), f"{split} windows decoded")
    return np.concatenate(targets), np.concatenate(predictions)


# --- the conditioning report ----------------------------------------------------------------------


def generate_per_value(generator, name: str, values: Sequence[str], samples_per_value: int = 30, length: int = 8,
                       random_seed: int = 0, progress: ProgressCallback | None = None,
                       guidance: Mapping[str, float] | None = None) -> dict[str, list[list[Chord]]]:
    """``samples_per_value`` progressions for each value of one condition (the others open), by value."""
    from core.generation.generate import generate

    generated: dict[str, list[list[Chord]]] = {}
    for index, value in enumerate(values):
        conditions = Conditions.parse(**{name: value})
        samples = generate(generator, conditions, num_samples=samples_per_value, length=length,
                           random_seed=random_seed + index, guidance=guidance or 0.0, **MODEL_DISTRIBUTION)
        generated[value] = [sample.chords for sample in samples]
        if progress:
            progress(index + 1, len(values), f"{name} {value}")
    return generated


def _real_by(frame: pd.DataFrame, column: str, value: str) -> list[list[Chord]]:
    return table_progressions(frame.loc[frame[column].astype(str) == value])


def adherence_frame(condition: str, generated: Mapping[str, list[list[Chord]]], train: pd.DataFrame,
                    test: pd.DataFrame) -> pd.DataFrame:
    """Per requested value: the share of its generated progressions the judge names it (``generated``), and
    the judge's recall on the real test windows of that value (``real``, the ceiling); ``test windows`` counts them.

    Only values with training windows are judged; :class:`InputError` when fewer than two have any.
    """
    from core.evaluation.judge import NaiveBayesJudge

    def labelled(part: pd.DataFrame) -> tuple[list[list[Chord]], list[str]]:
        chosen = part.loc[part[condition].astype(str).isin(list(generated)) & (part["chords"].astype(str).str.strip() != "")]
        return table_progressions(chosen), chosen[condition].astype(str).tolist()

    judge = NaiveBayesJudge.fit(condition, *labelled(train))
    real, real_labels = labelled(test)
    ceiling = judge.recall(real, real_labels)
    rows = {}
    for value, progressions in generated.items():
        if value not in judge.values:
            continue
        hits = [p == value for p in judge.predict(progressions)]
        rows[value] = {"generated": float(np.mean(hits)) if hits else float("nan"), "real": ceiling.get(value, float("nan")),
                       "test windows": sum(label == value for label in real_labels)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(condition)


def _adherence_or_none(condition: str, generated: Mapping[str, list[list[Chord]]], train: pd.DataFrame,
                       test: pd.DataFrame) -> pd.DataFrame | None:
    try:
        return adherence_frame(condition, generated, train, test)
    except InputError:  # a table with fewer than two labelled values: nothing to judge
        return None


def conditioning_report(generator, frame: pd.DataFrame, samples_per_value: int = 30, length: int = 8,
                        random_seed: int = 0, n: int = 4, top: int = 12,
                        progress: ProgressCallback | None = None, guidance: Mapping[str, float] | None = None) -> dict:
    """Generate per mood and per genre (with ``guidance``) and compare with the corpus's ``train`` and ``test`` splits.

    Returns ``{"minor_share": frame (mood x generated/real), "genre_distributions": {genre: (frame,
    distance)}, "adherence": {"genre"|"mood": frame (value x generated/real/test windows)},
    "novelty": Novelty, "novelty_any_key": Novelty, "samples": total generated, "guidance": weights}``.
    ``progress`` is called after each condition value (moods first, then genres).
    """
    from core.dataset import split_frame

    train = split_frame(frame, "train")
    if train.empty:
        raise InputError("no train windows in the table to compare with")
    moods = [m for m in MOODS if m != UNSPECIFIED]
    genres = [g for g in GENRES if g != UNSPECIFIED]
    total = len(moods) + len(genres)

    def step(offset: int) -> ProgressCallback | None:
        if progress is None:
            return None
        return lambda done, _total, what: progress(offset + done, total, f"generating for {what}")

    by_mood = generate_per_value(generator, "mood", moods, samples_per_value, length, random_seed, step(0), guidance)
    by_genre = generate_per_value(generator, "genre", genres, samples_per_value, length, random_seed + 1000,
                                  step(len(moods)), guidance)
    test = split_frame(frame, "test")
    minor = pd.DataFrame({
        "generated": [minor_share(by_mood[m]) for m in moods],
        "real": [minor_share(_real_by(train, "mood", m)) for m in moods],
    }, index=pd.Index(moods, name="mood"))
    distributions = {g: compare_distributions(by_genre[g], _real_by(train, "genre", g), top=top) for g in genres}
    everything = [p for group in (by_mood, by_genre) for progressions in group.values() for p in progressions]
    windows = table_progressions(train)
    return {
        "minor_share": minor,
        "genre_distributions": distributions,
        "adherence": {name: _adherence_or_none(name, generated, train, test)
                      for name, generated in (("genre", by_genre), ("mood", by_mood))},
        "novelty": ngram_novelty(everything, windows, n=n),
        "novelty_any_key": ngram_novelty(everything, windows, n=n, transposition_invariant=True),
        "samples": len(everything),
        "guidance": dict(guidance or {}),
    }


def novelty_table(reports: Mapping[str, Novelty]) -> pd.DataFrame:
    """Novelty results as rows for a table: what was compared, n-grams, copied and novel shares."""
    return pd.DataFrame([
        {"comparison": label, "n": r.n, "generated n-grams": r.ngrams, "copied from training": r.copied_share,
         "novel": r.novel_share}
        for label, r in reports.items()
    ])
