"""The whole-song protocol: every test song's chords in order, repeats kept, each read with up to the model's length.

Why beside the window protocol: a window holds one phrase of at most 11 chords, so it cannot show what a
model that reads across sections gains. Here every chord of every test song of the song table is a
target, in the order played (a chord repeated across a section boundary stays), then ``END`` after the
song's last chord. Chord ``i`` is read in the span that opens at the earliest section start at most
``L - 2`` chords before it (``L``: the model's length), the framing the song-context model trains on
(``START``, then the chords from a section start); where a section is longer than that, the span opens
``L - 2`` chords before it. So each chord has as much context as the model's length allows, and a
window model (``L = 12``) is scored on exactly the same targets with its own, shorter reach. The figures
are labelled ``whole_song`` and are never mixed with the window protocol's.

A song-context model also predicts every chord's duration class (:mod:`core.song_context`); its accuracy
and perplexity over the chords whose source gives beats are set against a frequency baseline: the duration
classes of the train songs' chords per genre and metre (add-one smoothed, a pair with fewer than
:data:`MIN_BASELINE_CHORDS` chords backs off to its metre's counts, then to every chord's).

The n-gram baselines (fitted on the train songs' whole chord sequences, and the key-relative trigram on
them moved into C) are scored on the same spans, each reading the span's tokens before the target.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.dataset import EncodedWindows, relative_windows
from core.evaluation.metrics import ngram_probabilities, token_metrics
from core.evaluation.ngram import NGramModel, fit_baselines
from core.key_relative import key_tonics, to_relative
from core.song_context import DURATION_BEATS, metre_id
from core.song_spans import encode_starts, song_arrays, span_starts
from core.vocabulary import END_ID, START_ID, VOCAB

#: fewest train chords a (genre, metre) pair needs for its own row of the duration baseline.
MIN_BASELINE_CHORDS = 50
PROTOCOL = ("whole songs: every chord of every song in order (repeats kept) and END, each read in the span opening "
            "at the earliest section start within the model's length before it (else length - 2 chords before)")


def reading_starts(rows: pd.DataFrame, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each target is read: ``(span starts, span of target, position in span, row of target)``.

    Targets are every row (a chord) and, per song, one ``END`` (row ``-1``). Rows are :func:`song_arrays` rows.
    """
    section_starts = span_starts(rows)
    song = rows["song_id"].to_numpy()
    firsts = np.flatnonzero(np.r_[True, song[1:] != song[:-1]]) if len(song) else np.zeros(0, dtype=np.int64)
    lasts = np.r_[firsts[1:], len(song)]
    chosen, target_rows, reach = [], [], length - 2
    for first, last in zip(firsts, lasts, strict=True):
        local = section_starts[(section_starts >= first) & (section_starts < last)]
        targets = np.arange(first, last + 1)  # ``last`` is the song's END
        index = np.minimum(np.searchsorted(local, targets - reach, side="left"), len(local) - 1)
        candidate = local[index]
        within = (candidate <= targets) & (candidate >= targets - reach)
        chosen.append(np.where(within, candidate, np.maximum(targets - reach, first)))
        target_rows.append(np.where(targets == last, -1, targets))
    every_start = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    targets = np.concatenate([np.arange(first, last + 1) for first, last in zip(firsts, lasts, strict=True)]) \
        if chosen else np.zeros(0, dtype=np.int64)
    starts, span = np.unique(every_start, return_inverse=True)
    return starts, span, targets - every_start, np.concatenate(target_rows) if chosen else targets


def _run_model(model, encoded: EncodedWindows, reads: tuple[np.ndarray, np.ndarray],
               batch_size: int = 256) -> tuple[np.ndarray, np.ndarray | None]:
    """The Keras model's chord distribution before each read target [n, V] and its duration distribution at the step
    after it (where the target chord is fed) [n, D] (``None``: a model without a duration head)."""
    from core.dataset import CHORDS_OUTPUT, DURATIONS_OUTPUT

    span, position = reads
    names = {tensor.name.split(":")[0] for tensor in model.inputs}
    inputs = {k: v for k, v in encoded.inputs(song=True).items() if k in names}
    length = encoded.chord_input.shape[1]
    chords, durations = [], []
    for start in range(0, len(encoded), batch_size):
        outputs = model({k: v[start : start + batch_size] for k, v in inputs.items()}, training=False)
        here = (span >= start) & (span < start + batch_size)
        rows, steps = span[here] - start, position[here]
        if isinstance(outputs, dict):
            timed = np.asarray(outputs[DURATIONS_OUTPUT], dtype=np.float64)
            durations.append(timed[rows, np.minimum(steps + 1, length - 1)])
            outputs = outputs[CHORDS_OUTPUT]
        chords.append(np.asarray(outputs, dtype=np.float64)[rows, steps])
    order = np.argsort(span // batch_size, kind="stable")  # the batches gave the reads grouped by batch: back in order
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return np.concatenate(chords)[back], (np.concatenate(durations)[back] if durations else None)


def _song_sequences(rows: pd.DataFrame, relative: bool) -> list[list[int]]:
    """Each song's framed sequence ``[START] + chords + [END]`` (``relative``: moved into C by its first chord's key)."""
    from core.dataset import condition_ids

    song, chords = rows["song_id"].to_numpy(), rows["chord_id"].to_numpy()
    firsts = np.flatnonzero(np.r_[True, song[1:] != song[:-1]]) if len(song) else np.zeros(0, dtype=np.int64)
    sequences = []
    for first, last in zip(firsts, np.r_[firsts[1:], len(song)], strict=True):
        sequence = chords[first:last].astype(np.int64)
        if relative:
            tonic = key_tonics(np.array([condition_ids(rows.iloc[int(first)])["key"]]))
            sequence = to_relative(sequence[None], tonic)[0]
        sequences.append([START_ID, *sequence.tolist(), END_ID])
    return sequences


def duration_baseline(train_rows: pd.DataFrame) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The per-genre, per-metre frequency baseline (module docstring): ``(genres, metres) -> p [n, D]`` over classes."""
    known = train_rows.loc[train_rows["duration_id"] > 0]
    classes = len(DURATION_BEATS) + 1
    metres = known["metre"].map(metre_id).to_numpy()
    counts: dict[tuple[str | None, int | None], np.ndarray] = {}
    for genre, metre, duration in zip(known["genre"].astype(str), metres, known["duration_id"], strict=True):
        for key in ((genre, metre), (None, metre), (None, None)):
            counts.setdefault(key, np.zeros(classes))[duration] += 1

    def table(key: tuple[str | None, int | None]) -> np.ndarray:
        row = counts.get(key, np.zeros(classes))
        smoothed = row + np.r_[0.0, np.ones(classes - 1)]
        return smoothed / smoothed.sum()

    def probabilities(genres: np.ndarray, metre_ids: np.ndarray) -> np.ndarray:
        out = []
        for genre, metre in zip(genres, metre_ids, strict=True):
            for key in ((str(genre), int(metre)), (None, int(metre)), (None, None)):
                if counts.get(key, np.zeros(1)).sum() >= MIN_BASELINE_CHORDS or key == (None, None):
                    out.append(table(key))
                    break
        return np.asarray(out).reshape(-1, classes)

    return probabilities


def _chord_figures(model, encoded: EncodedWindows, relative: bool, reads: tuple[np.ndarray, np.ndarray],
                   train: pd.DataFrame) -> tuple[dict, np.ndarray | None]:
    """Each model's chord metrics on the targets, and the song-context model's duration distribution of each [n, D]."""
    span, position = reads
    moved = relative_windows(encoded) if relative else encoded
    chords, durations = _run_model(model, moved, reads)
    targets = moved.targets[span, position].astype(np.int64)
    figures = {"lstm": token_metrics(chords, targets)}
    absolute_targets = encoded.targets[span, position].astype(np.int64)
    for name, ngram in fit_baselines(_song_sequences(train, relative=False)).items():
        figures[name] = token_metrics(ngram_probabilities(ngram, encoded, span, position), absolute_targets)
    trigram = NGramModel(order=3, vocab_size=len(VOCAB)).fit(_song_sequences(train, relative=True))
    centred = relative_windows(encoded)
    figures["trigram_key_relative"] = token_metrics(ngram_probabilities(trigram, centred, span, position),
                                                    centred.targets[span, position].astype(np.int64))
    return figures, durations


def evaluate_songs(model, songs: pd.DataFrame, split: str = "test", sequence_length: int | None = None,
                   relative: bool | None = None) -> dict:
    """The whole-song protocol's figures for a Keras model (module docstring), ``test_results.json``'s ``whole_song``.

    ``songs`` is a song table (every split: the baselines are fitted on its ``train`` songs). ``sequence_length``
    and ``relative`` (a key-relative model) default to the model's own.
    """
    from core.model import model_config_of

    config = model_config_of(model)
    length = sequence_length or config.sequence_length
    relative = config.chord_encoding == "key-relative" if relative is None else relative
    rows = song_arrays(songs.loc[songs["split"] == split])
    train = song_arrays(songs.loc[songs["split"] == "train"])
    starts, span, position, target_rows = reading_starts(rows, length)
    encoded = encode_starts(rows, starts, length)
    figures, durations = _chord_figures(model, encoded, relative, (span, position), train)
    result = {
        "protocol": PROTOCOL, "split": split, "songs": int(rows["song_id"].nunique()), "spans": int(len(starts)),
        "tokens": int(len(span)), "end_tokens": int((encoded.targets[span, position] == END_ID).sum()),
        "model_length": int(length), "models": figures,
        "units": "per chord token (every chord of each song, then END); cross_entropy in nats",
        "load_average": round(os.getloadavg()[0], 2),
    }
    if durations is not None:
        result["durations"] = _duration_figures(durations, (span, position, target_rows), rows, train)
    return result


def _duration_figures(durations: np.ndarray, reads: tuple[np.ndarray, np.ndarray, np.ndarray], rows: pd.DataFrame,
                      train: pd.DataFrame) -> dict:
    """Duration accuracy and perplexity of the model and of the per-genre, per-metre baseline, over timed chords."""
    _, _, target_rows = reads
    chord = target_rows >= 0
    targets = np.where(chord, rows["duration_id"].to_numpy()[np.maximum(target_rows, 0)], 0)
    timed = chord & (targets > 0)
    model = durations[timed].copy()  # chord i's duration: read at the step it is fed at
    model[:, 0] = 0.0
    model /= model.sum(axis=1, keepdims=True)
    read_rows = target_rows[timed]
    baseline = duration_baseline(train)(rows["genre"].astype(str).to_numpy()[read_rows],
                                        rows["metre"].map(metre_id).to_numpy()[read_rows])
    wanted = targets[timed].astype(np.int64)
    return {
        "classes_beats": list(DURATION_BEATS),
        "model": _class_metrics(model, wanted),
        "baseline_genre_metre": _class_metrics(baseline, wanted),
        "units": "per chord whose source gives its beats (nearest class); perplexity = exp(mean -ln p)",
    }


def _class_metrics(probabilities: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    picked = np.maximum(probabilities[np.arange(len(targets)), targets], 1e-12)
    cross_entropy = float(-np.log(picked).mean()) if len(targets) else float("nan")
    return {"accuracy": float((probabilities.argmax(axis=1) == targets).mean()) if len(targets) else float("nan"),
            "cross_entropy": cross_entropy, "perplexity": float(np.exp(cross_entropy)), "chords": int(len(targets))}
