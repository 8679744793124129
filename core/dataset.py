"""Progression windows → model ids: teacher-forced inputs, shifted targets, condition ids, tf.data.

One table row (a window of at most ``L - 1`` chords) becomes one training example::

    input  = [START] + chords[:L-1]                     padded with PAD (0) to L
    target = chords[:L-1] + [END if the window ends]     padded with PAD (0) to L

so ``input[t]`` is followed by ``target[t]``. A window longer than ``L - 1`` chords is cut and
gets no END (the music goes on after the cut). Target PADs are ignored by the loss and metrics
(see :mod:`core.model`).

A key-relative model (``DatasetConfig.key_relative``, :mod:`core.key_relative`) reads every window moved
so that its key's tonic is C, its key condition C in the same mode (:func:`relative_windows`); transposing
such windows would only undo that, so its runs train without random transposition.

Training batches may be augmented: every window is transposed by a random -5..+6 semitones
with its key label moved along (a lookup table built from :meth:`Vocabulary.transpose_ids`), and
each condition is replaced by 0 ("unspecified") with probability ``condition_dropout`` so the
model also learns to generate with open conditions.

Two more options, off by default (see ``bench quality``'s strategies section for what they do):

* chord substitution (``substitution_rate``): each chord of a window is replaced, at that rate,
  by a substitute that keeps the window's key: its relative major/minor (C <-> Am, Cmaj7 <-> Am7),
  the tritone substitute of a dominant seventh (G7 -> Db7), a seventh added where the key's scale
  has it (C -> Cmaj7, G -> G7 in C major; only with a known key) or dropped (G7 -> G, Am7 -> Am).
  The input and the target sequences stay one step apart, so the model sees a consistent window.
* a short-first curriculum (``curriculum_epochs``): during the first epochs every window is cut to
  :func:`curriculum_length` steps (a cut window gets no END, like any window the table cut), so
  the model learns short-range moves before whole phrases.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.chords import pitch_class
from core.conditions import GENRES, MOODS, SCALE_TYPES, UNSPECIFIED, key_id
from core.corpus.table import SPLITS
from core.errors import InputError
from core.key_relative import key_tonics, relative_key_ids, to_relative
from core.song_context import SONG, WINDOW, section_id
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB

#: model input names, in the order the model declares them.
CHORD_INPUT = "chord_sequence_input"
CONDITION_INPUTS: dict[str, str] = {
    "genre": "genre_input", "mood": "mood_input", "key": "key_input", "scale_type": "scale_type_input",
}
INPUT_NAMES: tuple[str, ...] = (CHORD_INPUT, *CONDITION_INPUTS.values())
#: a song-context model's extra inputs (section id per position [B, L], metre class [B, 1]) and its two outputs.
SECTION_INPUT, METRE_INPUT = "section_input", "metre_input"
CHORDS_OUTPUT, DURATIONS_OUTPUT = "chords", "durations"

#: transpositions used by augmentation: every pitch class once, centred on no change.
TRANSPOSE_MIN, TRANSPOSE_MAX = -5, 6


@dataclass(frozen=True)
class DatasetConfig:
    """How windows become batches: sequence length, batching, shuffling and augmentation."""

    sequence_length: int = 12
    batch_size: int = 32
    seed: int = 0
    transpose: bool = True  # random -5..+6 semitone transposition (training only)
    condition_dropout: float = 0.1  # probability of replacing each condition by 0 (training only)
    substitution_rate: float = 0.0  # probability of replacing each chord by a substitute (training only)
    curriculum_epochs: int = 0  # short-first curriculum: epochs with cut windows (0: none)
    key_relative: bool = False  # every window moved so its key's tonic is C (core.key_relative)
    context: str = WINDOW  # "song": spans of the song table, with sections, metre and duration targets

    @property
    def song(self) -> bool:
        """Whether examples are song spans with section and metre inputs and duration targets."""
        return self.context == SONG


@dataclass(frozen=True)
class EncodedWindows:
    """A frame's windows as id arrays: ``chord_input``/``targets`` are [N, L]; conditions are [N].

    ``sections`` [N, L] (the section id of each target, 0 unknown and at padding), ``metre`` [N] (metre class)
    and ``durations`` [N, L] (the duration class of the chord *fed* at each step, 0 where unknown, at START and
    padding) are what a song-context model reads and predicts besides (:mod:`core.song_context`).
    """

    chord_input: np.ndarray
    targets: np.ndarray
    genre: np.ndarray
    mood: np.ndarray
    key: np.ndarray
    scale_type: np.ndarray
    sections: np.ndarray | None = None
    metre: np.ndarray | None = None
    durations: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.chord_input.shape[0])

    def inputs(self, song: bool = False) -> dict[str, np.ndarray]:
        """The model's input dict (conditions shaped [N, 1], as the model declares them); ``song``: with the section
        and metre inputs (unknown where the windows carry none)."""
        conditions = {"genre": self.genre, "mood": self.mood, "key": self.key, "scale_type": self.scale_type}
        out = {CHORD_INPUT: self.chord_input}
        for name, input_name in CONDITION_INPUTS.items():
            out[input_name] = conditions[name].reshape(-1, 1)
        if song:
            zeros = np.zeros(self.chord_input.shape, dtype=np.int32)
            out[SECTION_INPUT] = zeros if self.sections is None else self.sections.astype(np.int32)
            metre = np.zeros(len(self), dtype=np.int32) if self.metre is None else self.metre.astype(np.int32)
            out[METRE_INPUT] = metre.reshape(-1, 1)
        return out

    def model_targets(self, song: bool = False) -> np.ndarray | dict[str, np.ndarray]:
        """The training targets: the chord targets, or for a song-context model ``{"chords", "durations"}``."""
        if not song:
            return self.targets
        durations = np.zeros(self.targets.shape, dtype=np.int32) if self.durations is None else self.durations
        return {CHORDS_OUTPUT: self.targets, DURATIONS_OUTPUT: durations.astype(np.int32)}


def relative_windows(encoded: EncodedWindows) -> EncodedWindows:
    """The windows as a key-relative model reads them: chords moved so that each key's tonic is C, keys C in their mode.

    Every window of the shipped table has a key; a window without one stays as it is, with its key open.
    """
    tonics = key_tonics(encoded.key)
    return replace(encoded, chord_input=to_relative(encoded.chord_input, tonics).astype(np.int32),
                   targets=to_relative(encoded.targets, tonics).astype(np.int32),
                   key=relative_key_ids(encoded.key).astype(encoded.key.dtype))


def split_frame(frame: pd.DataFrame, split: str) -> pd.DataFrame:
    """The rows of one song-level split (``train``, ``validation`` or ``test``), index reset."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; accepted: {', '.join(SPLITS)}")
    return frame.loc[frame["split"] == split].reset_index(drop=True)


def _label_id(kind: str, value: object, labels: tuple[str, ...]) -> int:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip().lower()
    if text in ("", UNSPECIFIED):
        return 0
    try:
        return labels.index(text)
    except ValueError:
        raise InputError(f"unknown {kind} {value!r} in the table; accepted: {', '.join(labels)}") from None


def _tonic(value: object) -> int | None:
    """Key tonic from the table: a pitch-class number (``9``), a note name (``A``) or empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text == "":
        return None
    if text.lstrip("-").isdigit():
        return int(text) % 12
    return pitch_class(text)


def condition_ids(row: pd.Series | dict) -> dict[str, int]:
    """Condition ids of one table row: ``{"genre", "mood", "key", "scale_type"}`` (0 = unspecified)."""
    scale = _label_id("scale type", row["scale_type"], SCALE_TYPES)
    return {
        "genre": _label_id("genre", row["genre"], GENRES),
        "mood": _label_id("mood", row["mood"], MOODS),
        "key": key_id(_tonic(row["key_tonic"]), SCALE_TYPES[scale]),
        "scale_type": scale,
    }


def encode_window(chord_ids: list[int], ends: bool, sequence_length: int) -> tuple[list[int], list[int]]:
    """Teacher-forcing pair for one window of chord ids (unpadded): ``(input, target)``."""
    kept = chord_ids[: sequence_length - 1]
    truncated = len(chord_ids) > sequence_length - 1
    chord_input = [START_ID, *kept]
    target = kept + ([END_ID] if ends and not truncated else [])
    return chord_input, target


def encode_frame(frame: pd.DataFrame, sequence_length: int = 12) -> EncodedWindows:
    """Every row of a table-shaped frame as padded id arrays (rows without chords are dropped)."""
    if sequence_length < 2:
        raise InputError(f"sequence length must be at least 2, got {sequence_length}")
    id_of_token = {token: i for i, token in enumerate(VOCAB.tokens)}
    rows = frame.loc[frame["chords"].astype(str).str.strip() != ""]
    n = len(rows)
    chord_input = np.full((n, sequence_length), PAD_ID, dtype=np.int32)
    targets = np.full((n, sequence_length), PAD_ID, dtype=np.int32)
    conditions = np.zeros((n, 4), dtype=np.int32)
    sections = np.zeros((n, sequence_length), dtype=np.int32)
    marks = rows["section"].to_numpy() if "section" in rows.columns else np.full(n, None)
    for i, row in enumerate(rows.itertuples(index=False)):
        symbols = str(row.chords).split()
        chord_ids = [id_of_token[s] if s in id_of_token else VOCAB.id_of_symbol(s) for s in symbols]
        window_input, window_target = encode_window(chord_ids, int(row.ends) == 1, sequence_length)
        chord_input[i, : len(window_input)] = window_input
        targets[i, : len(window_target)] = window_target
        sections[i, : len(window_target)] = section_id(marks[i])  # the window's raw mark, normalised as the song table's
        ids = condition_ids(row._asdict())
        conditions[i] = (ids["genre"], ids["mood"], ids["key"], ids["scale_type"])
    return EncodedWindows(chord_input, targets, conditions[:, 0], conditions[:, 1], conditions[:, 2], conditions[:, 3],
                          sections=sections)


def transposition_table() -> np.ndarray:
    """[12, vocab] ids: row ``r`` maps every token to itself moved by ``r + TRANSPOSE_MIN`` semitones."""
    every_id = list(range(VOCAB.size))
    return np.array([VOCAB.transpose_ids(every_id, s) for s in range(TRANSPOSE_MIN, TRANSPOSE_MAX + 1)], dtype=np.int32)


def transpose_key_ids(key_ids: np.ndarray, semitones: np.ndarray | int) -> np.ndarray:
    """Key ids moved by ``semitones``, keeping the mode; 0 (unspecified) stays 0."""
    key_ids = np.asarray(key_ids)
    moved = (key_ids - 1 + semitones) % 12 + 1 + 12 * ((key_ids - 1) // 12)
    return np.where(key_ids > 0, moved, 0).astype(key_ids.dtype)


def curriculum_length(epoch: int, curriculum_epochs: int, sequence_length: int) -> int:
    """Steps of every window kept in ``epoch`` (from 0) under a short-first curriculum of ``curriculum_epochs``.

    Grows evenly: with 3 curriculum epochs and 12 steps, 3, 6 and 9 steps, then whole windows.
    """
    if epoch >= curriculum_epochs:
        return sequence_length
    return max(2, -(-sequence_length * (epoch + 1) // (curriculum_epochs + 1)))


def _substitutes(chord, scale: set[int] | None) -> list:
    """Substitutes of one chord that keep the key (``scale``: the key's pitch classes, ``None`` when unknown)."""
    from core.chords import Chord

    root, quality = chord.root, chord.quality
    out = []
    relative = {"maj": ("min", 9), "min": ("maj", 3), "maj7": ("min7", 9), "min7": ("maj7", 3)}
    if quality in relative:
        other, interval = relative[quality]
        out.append(Chord((root + interval) % 12, other))
    if quality == "7":
        out.append(Chord((root + 6) % 12, "7"))  # tritone substitute
    dropped = {"7": "maj", "maj7": "maj", "min7": "min", "6": "maj", "min6": "min", "9": "7"}
    if quality in dropped:
        out.append(Chord(root, dropped[quality]))
    if scale is not None and quality in ("maj", "min"):
        seventh = (root + 10) % 12 if (root + 10) % 12 in scale else (root + 11) % 12 if quality == "maj" else None
        if seventh in scale:
            added = {("maj", 10): "7", ("maj", 11): "maj7", ("min", 10): "min7"}[(quality, (seventh - root) % 12)]
            out.append(Chord(root, added))
    return out


def substitution_table() -> tuple[np.ndarray, np.ndarray]:
    """Substitutes of every token under every key id: ``(candidates [keys, vocab, most], counts [keys, vocab])``.

    Key id 0 (unspecified) allows only the substitutions that need no key. Special tokens have none.
    """
    from core.conditions import KEYS
    from core.numerals import SCALE_STEPS

    lists = []
    for key in range(len(KEYS)):
        scale = None
        if key > 0:
            tonic, mode = (key - 1) % 12, "major" if key <= 12 else "minor"
            scale = {(tonic + step) % 12 for step in SCALE_STEPS[mode]}
        lists.append([[VOCAB.id_of(c) for c in _substitutes(chord, scale)] if chord is not None else []
                      for chord in VOCAB.chords])
    most = max(len(c) for per_key in lists for c in per_key)
    candidates = np.zeros((len(KEYS), VOCAB.size, most), dtype=np.int32)
    counts = np.zeros((len(KEYS), VOCAB.size), dtype=np.int32)
    for key, per_key in enumerate(lists):
        for token, ids in enumerate(per_key):
            candidates[key, token, : len(ids)] = ids
            counts[key, token] = len(ids)
    return candidates, counts


def make_dataset(frame: pd.DataFrame | EncodedWindows, config: DatasetConfig, training: bool, length_limit=None):
    """A batched ``tf.data.Dataset`` of ``(inputs dict, targets)`` for a table-shaped frame, or examples already encoded
    (a song-context run's spans, :func:`core.song_spans.encode_spans`; then the targets are ``{"chords", "durations"}``).

    ``training`` turns on seeded shuffling (reshuffled every epoch) and the augmentation the
    config enables; evaluation datasets keep the frame's order and labels. ``length_limit``
    (training only: a ``tf.Variable`` a curriculum callback sets before each epoch) cuts every
    window to that many steps.
    """
    import tensorflow as tf

    if config.batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {config.batch_size}")
    if not 0.0 <= config.condition_dropout < 1.0:
        raise InputError(f"condition dropout must be in [0, 1), got {config.condition_dropout}")
    encoded = frame if isinstance(frame, EncodedWindows) else encode_frame(frame, config.sequence_length)
    if len(encoded) == 0:
        raise InputError("no windows to build a dataset from")
    if config.key_relative:
        encoded = relative_windows(encoded)
    dataset = tf.data.Dataset.from_tensor_slices((encoded.inputs(config.song), encoded.model_targets(config.song)))
    if training:
        dataset = dataset.shuffle(len(encoded), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(config.batch_size)
    if training and length_limit is not None:
        dataset = dataset.map(lambda inputs, targets: cut_windows(inputs, targets, length_limit))
    if training and (config.transpose or config.condition_dropout > 0 or config.substitution_rate > 0):
        seeds = tf.data.Dataset.random(seed=config.seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds)).map(
            lambda batch, seed: augment_batch(batch[0], batch[1], seed, config), num_parallel_calls=tf.data.AUTOTUNE,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def augment_batch(inputs: dict, targets, seed, config: DatasetConfig) -> tuple[dict, object]:
    """Augment one batch (TF tensors): per-window random transposition and per-condition dropout.

    ``seed`` is a stateless-RNG seed (shape [2] integer tensor). A window moved by ``s``
    semitones has every chord moved by ``s`` and its key id moved by ``s`` in the same mode;
    special tokens and an unspecified key stay. Each condition id becomes 0 with probability
    ``config.condition_dropout``, independently.
    """
    import tensorflow as tf

    if isinstance(targets, dict):  # a song-context batch: the chord targets augmented, the durations kept
        inputs, chords = augment_batch(inputs, targets[CHORDS_OUTPUT], seed, replace(config, context=WINDOW))
        if config.condition_dropout > 0:
            inputs = _drop_song_context(inputs, seed, config.condition_dropout)
        return inputs, {**targets, CHORDS_OUTPUT: chords}
    inputs = dict(inputs)
    size = tf.shape(targets)[0]
    if config.substitution_rate > 0:
        inputs[CHORD_INPUT], targets = substitute_chords(inputs[CHORD_INPUT], targets, inputs[CONDITION_INPUTS["key"]],
                                                         seed + 7, config.substitution_rate)
    if config.transpose:
        table = tf.constant(transposition_table())
        row = tf.random.stateless_uniform([size], seed=seed, minval=0, maxval=table.shape[0], dtype=tf.int32)
        row_table = tf.gather(table, row)  # [B, vocab]: this window's id map
        inputs[CHORD_INPUT] = tf.gather(row_table, inputs[CHORD_INPUT], batch_dims=1)
        targets = tf.gather(row_table, targets, batch_dims=1)
        keys = inputs[CONDITION_INPUTS["key"]]
        shift = tf.reshape(row + TRANSPOSE_MIN, [-1, 1])
        moved = (keys - 1 + shift) % 12 + 1 + 12 * ((keys - 1) // 12)
        inputs[CONDITION_INPUTS["key"]] = tf.where(keys > 0, moved, 0)
    if config.condition_dropout > 0:
        for offset, input_name in enumerate(CONDITION_INPUTS.values(), start=1):
            draw = tf.random.stateless_uniform([size, 1], seed=seed + offset)
            inputs[input_name] = tf.where(draw < config.condition_dropout, 0, inputs[input_name])
    return inputs, targets


def _drop_song_context(inputs: dict, seed, rate: float) -> dict:
    """Condition dropout for a song-context batch: each example's metre, and all its section ids, blanked at ``rate``."""
    import tensorflow as tf

    inputs = dict(inputs)
    size = tf.shape(inputs[METRE_INPUT])[0]
    metre_draw = tf.random.stateless_uniform([size, 1], seed=seed + 11)
    inputs[METRE_INPUT] = tf.where(metre_draw < rate, 0, inputs[METRE_INPUT])
    section_draw = tf.random.stateless_uniform([size, 1], seed=seed + 12)
    inputs[SECTION_INPUT] = tf.where(section_draw < rate, 0, inputs[SECTION_INPUT])
    return inputs


def substitute_chords(chord_input, targets, key_ids, seed, rate: float):
    """Replace each chord of a batch's windows by a random substitute with probability ``rate`` (TF tensors).

    The substitutes are the key's (:func:`substitution_table`); the input is rebuilt from the
    substituted targets (``input[t + 1] == target[t]``), so both sides agree.
    """
    import tensorflow as tf

    candidates, counts = (tf.constant(table) for table in substitution_table())
    keys = tf.broadcast_to(tf.reshape(key_ids, [-1, 1]), tf.shape(targets))
    index = tf.stack([keys, targets], axis=-1)
    available = tf.gather_nd(counts, index)  # [B, L]
    draw = tf.random.stateless_uniform(tf.shape(targets), seed=seed)
    pick = tf.random.stateless_uniform(tf.shape(targets), seed=seed + 1)
    choice = tf.minimum(tf.cast(pick * tf.cast(available, tf.float32), tf.int32), tf.maximum(available - 1, 0))
    substitute = tf.gather_nd(candidates, tf.concat([index, choice[..., None]], axis=-1))
    replaced = tf.where((draw < rate) & (available > 0), substitute, targets)
    before = tf.concat([chord_input[:, :1], replaced[:, :-1]], axis=1)
    after = tf.concat([replaced[:, 1:], tf.fill([tf.shape(targets)[0], 1], PAD_ID)], axis=1)
    repeats = (replaced != targets) & ((replaced == before) | (replaced == after))  # the corpus never repeats a chord
    targets = tf.where(repeats, targets, replaced)
    shifted = tf.concat([chord_input[:, :1], targets[:, :-1]], axis=1)
    return tf.where(chord_input == PAD_ID, chord_input, tf.where(chord_input == START_ID, chord_input, shifted)), targets


def cut_windows(inputs: dict, targets, length):
    """Keep only the first ``length`` steps of every window (the rest becomes padding), for the curriculum."""
    import tensorflow as tf

    if isinstance(targets, dict):
        inputs, _ = cut_windows(inputs, targets[CHORDS_OUTPUT], length)
        return inputs, {name: cut_windows({CHORD_INPUT: value}, value, length)[1] for name, value in targets.items()}
    keep = tf.range(tf.shape(targets)[1]) < length
    inputs = {**inputs, CHORD_INPUT: tf.where(keep, inputs[CHORD_INPUT], PAD_ID)}
    return inputs, tf.where(keep, targets, PAD_ID)


def describe_batch(
    frame: pd.DataFrame | None = None,
    split: str = "train",
    batch_size: int = 4,
    augment: bool = True,
    seed: int = 0,
    sequence_length: int = 12,
) -> str:
    """One batch of the training pipeline as text: tensor shapes, then each window decoded.

    ``frame`` defaults to the shipped table. With ``augment`` the batch is drawn as training sees
    it (shuffled, transposed, conditions blanked at random); without, the split's first windows.
    """
    from core.conditions import VOCABULARIES
    from core.corpus.table import load_table

    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    rows = split_frame(load_table() if frame is None else frame, split)
    if rows.empty:
        raise InputError(f"no {split} windows")
    config = DatasetConfig(sequence_length=sequence_length, batch_size=batch_size, seed=seed)
    inputs, targets = next(iter(make_dataset(rows, config, training=augment)))
    lines = [f"{split} batch ({'augmented' if augment else 'as stored'}), {len(rows)} windows in the split:"]
    lines += [f"  {name:24s} {tuple(value.shape)} {value.dtype.name}" for name, value in inputs.items()]
    lines.append(f"  {'targets':24s} {tuple(targets.shape)} {targets.dtype.name}")
    names = {input_name: condition for condition, input_name in CONDITION_INPUTS.items()}
    for i in range(int(targets.shape[0])):
        conditions = ", ".join(
            f"{names[name]}={VOCABULARIES[names[name]][int(np.ravel(inputs[name][i])[0])]}" for name in CONDITION_INPUTS.values()
        )
        lines.append(f"\nwindow {i + 1}: {conditions}")
        lines.append("  input : " + " ".join(VOCAB.decode(np.asarray(inputs[CHORD_INPUT][i]))))
        lines.append("  target: " + " ".join(VOCAB.decode(np.asarray(targets[i]))))
    return "\n".join(lines)
