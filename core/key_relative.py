"""Key-relative chords: every chord moved so that its key's tonic is C, and moved back at the edges.

Why: p(chord | key) is the same quantity whether a model reads ``G7 C`` in C major or ``A7 D`` in
D major, but a model of absolute symbols has to learn it twelve times (random transposition only
shows it the copies). A key-relative model learns it once: its windows are moved so that the key's
tonic is C, and its key condition keeps only the mode (C major or C minor). Measured on the same
network (bench ``training``): the old default's validation loss in the second epoch instead of the
tenth.

Only the edges see absolute chords. :class:`KeyRelativeDecoder` (``core.generation``) moves the
chords it is fed into the key and the distributions it gives back out of it, so sampling, locks,
alternatives, guidance, the composer, ensembles and scoring all keep working on absolute chords;
evaluation moves the test windows with :func:`to_relative`. A progression whose key is open is
read under every key at once, weighted by the corpus's key prior for its genre (:func:`key_prior`,
the snapshot ``data/key_prior.json``, kept equal to the corpus table by a test) and by how well each
key explains the chords so far: the exact marginal over the 24 keys.

No TensorFlow or pandas here: NumPy tables over the vocabulary's ids.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.conditions import GENRES, KEYS, SCALE_TYPES
from core.errors import EnvironmentFault
from core.vocabulary import VOCAB

#: how a model reads chords: as symbols (``absolute``, every run before model 2) or moved into C (``key-relative``).
CHORD_ENCODINGS: tuple[str, ...] = ("absolute", "key-relative")
ABSOLUTE, KEY_RELATIVE = CHORD_ENCODINGS
#: the snapshot of the key prior, beside the corpus table.
PRIOR_FILE = "key_prior.json"

#: ``SHIFT[s, token]`` = the token moved up by ``s`` semitones (special tokens stay), for s in 0..11.
SHIFT: np.ndarray = np.array([VOCAB.transpose_ids(range(VOCAB.size), s) for s in range(12)], dtype=np.int64)


def key_tonics(key_ids: np.ndarray) -> np.ndarray:
    """Tonic pitch class of each key id (0 for an unspecified key: such rows are not moved)."""
    key_ids = np.asarray(key_ids, dtype=np.int64)
    return np.where(key_ids > 0, (key_ids - 1) % 12, 0)


def relative_key_ids(key_ids: np.ndarray) -> np.ndarray:
    """Each key id moved to C in the same mode (C major 1, C minor 13); unspecified stays 0."""
    key_ids = np.asarray(key_ids, dtype=np.int64)
    return np.where(key_ids > 0, 1 + 12 * ((key_ids - 1) // 12), 0)


def to_relative(token_ids: np.ndarray, tonics: np.ndarray) -> np.ndarray:
    """Token ids moved down by their row's tonic (rows of ``token_ids`` [B, ...] pair with ``tonics`` [B])."""
    token_ids = np.asarray(token_ids, dtype=np.int64)
    shift = (-np.asarray(tonics, dtype=np.int64)) % 12
    return SHIFT[shift.reshape(shift.shape + (1,) * (token_ids.ndim - 1)), token_ids]


def to_absolute(token_ids: np.ndarray, tonics: np.ndarray) -> np.ndarray:
    """Key-relative token ids moved up by their row's tonic (the inverse of :func:`to_relative`)."""
    token_ids = np.asarray(token_ids, dtype=np.int64)
    shift = np.asarray(tonics, dtype=np.int64) % 12
    return SHIFT[shift.reshape(shift.shape + (1,) * (token_ids.ndim - 1)), token_ids]


def absolute_distributions(relative: np.ndarray, tonics: np.ndarray) -> np.ndarray:
    """Distributions over key-relative tokens (last axis) read as distributions over absolute tokens.

    ``relative`` is [B, ..., V] and ``tonics`` [B] (one tonic per leading row). Absolute chord ``a``
    in a row whose tonic is ``t`` is relative chord ``a - t``: its probability (or log-probability)
    is the relative row's entry there.
    """
    shift = (-np.asarray(tonics, dtype=np.int64)) % 12
    index = SHIFT[shift].reshape(shift.shape + (1,) * (relative.ndim - shift.ndim - 1) + (SHIFT.shape[1],))
    return np.take_along_axis(relative, index, axis=-1)


# --- the key prior --------------------------------------------------------------------------------


def prior_table(frame) -> dict[str, list[int]]:
    """``{genre: [count of each of the 24 keys]}`` (and ``unspecified``: every song) over the train songs of a table.

    Counted once per song (its first window's key), so long songs do not weigh more.
    """
    train = frame.loc[frame["split"] == "train"].drop_duplicates("song_id")
    keys = [_key_index(tonic, scale) for tonic, scale in zip(train["key_tonic"], train["scale_type"], strict=True)]
    genres = train["genre"].fillna("").astype(str).replace("", GENRES[0]).tolist()
    table = {genre: [0] * 24 for genre in GENRES}
    for genre, key in zip(genres, keys, strict=True):
        if key is not None:
            table[GENRES[0]][key] += 1
            if genre in table and genre != GENRES[0]:
                table[genre][key] += 1
    return table


def _key_index(tonic: object, scale: object) -> int | None:
    from core.chords import pitch_class

    if tonic is None or (isinstance(tonic, float) and np.isnan(tonic)) or str(tonic).strip() == "":
        return None
    text = str(tonic).strip()
    pitch = int(text) % 12 if text.lstrip("-").isdigit() else pitch_class(text)
    return pitch + (12 if str(scale).strip().lower() == "minor" else 0)


def write_prior(frame, path: Path, source: str) -> None:
    """Write :func:`prior_table` of ``frame`` as the JSON snapshot, saying where it was counted from."""
    songs = prior_table(frame)
    lines = [f"  {json.dumps(genre)}: {json.dumps(counts)}" for genre, counts in sorted(songs.items())]
    path.write_text("{\n" + f'"source": {json.dumps(source)},\n"keys": {json.dumps(list(KEYS[1:]))},\n'
                    + '"songs": {\n' + ",\n".join(lines) + "\n}}\n", encoding="utf-8")


@lru_cache(maxsize=4)
def _prior_counts(data_dir: Path) -> np.ndarray:
    path = data_dir / PRIOR_FILE
    counts = np.ones((len(GENRES), 24))
    if not path.exists():
        return counts  # no snapshot: every key alike
    try:
        songs = json.loads(path.read_text(encoding="utf-8"))["songs"]
        for index, genre in enumerate(GENRES):
            counts[index] += np.asarray(songs.get(genre, [0] * 24), dtype=float).reshape(24)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise EnvironmentFault(f"the key prior {path} cannot be read ({error})") from None
    return counts


def key_prior(genre_ids: np.ndarray, scale_type_ids: np.ndarray, data_dir: Path) -> np.ndarray:
    """p(key | genre, scale type) [B, 24] (keys in :data:`core.conditions.KEYS` order without ``unspecified``).

    Counts of the train songs per genre in ``data_dir``'s snapshot (an open genre: every song), add-one smoothed, so a genre's
    usual keys come first (jazz: F, B♭, E♭; rock: E, A, D) and no key is impossible; a major or minor
    scale type keeps only that mode's twelve keys.
    """
    counts = _prior_counts(Path(data_dir))
    genre_ids = np.clip(np.asarray(genre_ids, dtype=np.int64), 0, len(GENRES) - 1)
    prior = counts[genre_ids].copy()
    scale = np.asarray(scale_type_ids, dtype=np.int64)
    prior[scale == SCALE_TYPES.index("major"), 12:] = 0.0
    prior[scale == SCALE_TYPES.index("minor"), :12] = 0.0
    return prior / prior.sum(axis=1, keepdims=True)
