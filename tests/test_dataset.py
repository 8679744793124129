"""Windows → ids: teacher-forcing pairs, padding, condition ids, tf.data batches and augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from core.chords import pitch_class
from core.conditions import GENRES, KEYS, MOODS, SCALE_TYPES, key_id
from core.dataset import (
    CHORD_INPUT,
    CONDITION_INPUTS,
    TRANSPOSE_MAX,
    TRANSPOSE_MIN,
    DatasetConfig,
    augment_batch,
    encode_frame,
    encode_window,
    make_dataset,
    split_frame,
    transpose_key_ids,
    transposition_table,
)
from core.errors import InputError
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB
from tests.progression_frames import PROGRESSIONS, progression_frame

L = 12


def test_encode_window_shifts_targets_and_adds_end_only_to_whole_windows():
    ids = VOCAB.encode(["C", "G", "Am", "F"])
    chord_input, target = encode_window(ids, ends=True, sequence_length=L)
    assert chord_input == [START_ID, *ids]
    assert target == [*ids, END_ID]
    _, open_target = encode_window(ids, ends=False, sequence_length=L)
    assert open_target == ids
    long_ids = VOCAB.encode("Am F C G Am F C G Am F C G E7".split())
    cut_input, cut_target = encode_window(long_ids, ends=True, sequence_length=L)
    assert cut_input == [START_ID, *long_ids[: L - 1]] and len(cut_input) == L
    assert cut_target == long_ids[: L - 1]  # truncated: the song goes on, no END


def test_encode_frame_pads_with_zero_and_pairs_input_with_next_target():
    frame = progression_frame(1, splits=("train",))
    encoded = encode_frame(frame, L)
    assert len(encoded) == len(PROGRESSIONS)
    assert encoded.chord_input.shape == encoded.targets.shape == (len(PROGRESSIONS), L)
    assert encoded.chord_input.dtype == np.int32
    for row, (_, _, _, _, chords, ends) in enumerate(PROGRESSIONS):
        ids = VOCAB.encode(chords.split())[: L - 1]
        n = len(ids)
        assert encoded.chord_input[row, 0] == START_ID
        assert list(encoded.chord_input[row, 1 : n + 1]) == ids
        assert (encoded.chord_input[row, n + 1 :] == PAD_ID).all()
        assert list(encoded.targets[row, :n]) == ids
        truncated = len(chords.split()) > L - 1
        expected_tail = END_ID if ends and not truncated else PAD_ID
        assert encoded.targets[row, n] == expected_tail
        assert (encoded.targets[row, n + 1 :] == PAD_ID).all()
        # teacher forcing: the input at t+1 is the target at t, for every chord
        assert list(encoded.chord_input[row, 1 : n + 1]) == list(encoded.targets[row, :n])


def test_condition_ids_follow_core_conditions():
    encoded = encode_frame(progression_frame(1, splits=("train",)), L)
    genre, mood, tonic, scale, _, _ = PROGRESSIONS[3]  # jazz, calm, D major
    assert encoded.genre[3] == GENRES.index(genre)
    assert encoded.mood[3] == MOODS.index(mood)
    assert encoded.key[3] == key_id(pitch_class(tonic), scale) == KEYS.index("D major")
    assert encoded.scale_type[3] == SCALE_TYPES.index("major")
    assert encoded.mood[1] == 0  # no mood evidence → unspecified
    assert encoded.key[7] == 0 and encoded.scale_type[7] == 0  # no key known
    assert encoded.key[4] == KEYS.index("C minor")
    inputs = encoded.inputs()
    assert set(inputs) == {CHORD_INPUT, *CONDITION_INPUTS.values()}
    assert inputs["key_input"].shape == (len(encoded), 1)


def test_key_tonic_may_be_a_pitch_class_number_and_unknown_labels_are_input_errors():
    frame = progression_frame(1, splits=("train",)).head(2).copy()
    frame.loc[0, "key_tonic"] = "9"
    frame.loc[0, "scale_type"] = "minor"
    assert encode_frame(frame, L).key[0] == KEYS.index("A minor")
    frame.loc[1, "genre"] = "polka"
    with pytest.raises(InputError, match="polka"):
        encode_frame(frame, L)
    with pytest.raises(InputError):
        encode_frame(frame.head(1), 1)


def test_split_frame_selects_rows_and_rejects_unknown_splits():
    frame = progression_frame(2)
    assert len(split_frame(frame, "train")) == 2 * len(PROGRESSIONS)
    assert split_frame(frame, "test").empty
    with pytest.raises(InputError, match="unknown split"):
        split_frame(frame, "dev")


def test_evaluation_dataset_yields_the_encoded_windows_in_order():
    frame = progression_frame(1, splits=("train",))
    config = DatasetConfig(batch_size=5, seed=3)
    batches = list(make_dataset(frame, config, training=False))
    assert len(batches) == 3
    inputs, targets = batches[0]
    assert set(inputs) == {CHORD_INPUT, *CONDITION_INPUTS.values()}
    assert inputs[CHORD_INPUT].shape == (5, L) and targets.shape == (5, L)
    assert inputs["genre_input"].shape == (5, 1)
    encoded = encode_frame(frame, L)
    chord_input = np.concatenate([b[0][CHORD_INPUT].numpy() for b in batches])
    np.testing.assert_array_equal(chord_input, encoded.chord_input)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), encoded.targets)


def test_training_dataset_is_seeded():
    frame = progression_frame(3, splits=("train",))
    config = DatasetConfig(batch_size=8, seed=11)
    first = next(iter(make_dataset(frame, config, training=True)))
    again = next(iter(make_dataset(frame, config, training=True)))
    np.testing.assert_array_equal(first[0][CHORD_INPUT].numpy(), again[0][CHORD_INPUT].numpy())
    np.testing.assert_array_equal(first[1].numpy(), again[1].numpy())


def test_transposition_table_matches_vocabulary_transpose_ids():
    table = transposition_table()
    assert table.shape == (TRANSPOSE_MAX - TRANSPOSE_MIN + 1, VOCAB.size)
    for row, semitones in enumerate(range(TRANSPOSE_MIN, TRANSPOSE_MAX + 1)):
        assert list(table[row]) == VOCAB.transpose_ids(range(VOCAB.size), semitones)
        assert list(table[row, :3]) == [PAD_ID, START_ID, END_ID]
    assert list(transpose_key_ids(np.array([0, 1, 12, 13, 24]), 2)) == [0, 3, 2, 15, 14]


def _semitones_between(original: list[int], moved: list[int]) -> int:
    """The shift that maps the first chord of ``original`` onto ``moved``'s (special tokens skipped)."""
    first = next(i for i, token in enumerate(original) if VOCAB.chord(token) is not None)
    return (VOCAB.chord(moved[first]).root - VOCAB.chord(original[first]).root) % 12


def test_augmentation_moves_chords_and_key_together_and_transposing_back_recovers_the_window():
    import tensorflow as tf

    encoded = encode_frame(progression_frame(20, splits=("train",)), L)
    inputs = {name: tf.constant(value) for name, value in encoded.inputs().items()}
    config = DatasetConfig(transpose=True, condition_dropout=0.0)
    moved_inputs, moved_targets = augment_batch(inputs, tf.constant(encoded.targets), tf.constant([5, 9], tf.int64), config)
    moved_chords, moved_targets = moved_inputs[CHORD_INPUT].numpy(), moved_targets.numpy()
    moved_keys = moved_inputs["key_input"].numpy()[:, 0]
    shifts = set()
    for row in range(len(encoded)):
        original = list(encoded.chord_input[row])
        semitones = _semitones_between(original, list(moved_chords[row]))
        shifts.add(semitones)
        assert list(moved_chords[row]) == VOCAB.transpose_ids(original, semitones)
        assert list(moved_targets[row]) == VOCAB.transpose_ids(list(encoded.targets[row]), semitones)
        assert VOCAB.transpose_ids(list(moved_chords[row]), -semitones) == original
        assert VOCAB.transpose_ids(list(moved_targets[row]), -semitones) == list(encoded.targets[row])
        assert moved_keys[row] == transpose_key_ids(encoded.key[row], semitones)
        assert transpose_key_ids(moved_keys[row], -semitones) == encoded.key[row]
        assert (moved_chords[row] == PAD_ID).sum() == (encoded.chord_input[row] == PAD_ID).sum()
    assert len(shifts) >= 10  # all twelve pitch classes are reachable
    for name in ("genre_input", "mood_input", "scale_type_input"):
        np.testing.assert_array_equal(moved_inputs[name].numpy(), encoded.inputs()[name])


def test_condition_dropout_blanks_conditions_at_the_configured_rate_only():
    import tensorflow as tf

    encoded = encode_frame(progression_frame(200, splits=("train",)), L)  # 2,400 windows
    inputs = {name: tf.constant(value) for name, value in encoded.inputs().items()}
    config = DatasetConfig(transpose=False, condition_dropout=0.25)
    dropped, targets = augment_batch(inputs, tf.constant(encoded.targets), tf.constant([1, 2], tf.int64), config)
    np.testing.assert_array_equal(dropped[CHORD_INPUT].numpy(), encoded.chord_input)
    np.testing.assert_array_equal(targets.numpy(), encoded.targets)
    for name in CONDITION_INPUTS.values():
        before, after = encoded.inputs()[name][:, 0], dropped[name].numpy()[:, 0]
        kept = after != 0
        np.testing.assert_array_equal(after[kept], before[kept])  # never changed, only blanked
        blanked = (after == 0) & (before != 0)
        rate = blanked.sum() / max(1, (before != 0).sum())
        assert 0.18 < rate < 0.32, (name, rate)


def test_describe_batch_prints_shapes_and_decoded_windows():
    from core.dataset import describe_batch

    frame = progression_frame()
    text = describe_batch(frame, split="train", batch_size=2, augment=False)
    assert "chord_sequence_input     (2, 12) int32" in text and "targets                  (2, 12) int32" in text
    first = frame[frame["split"] == "train"].iloc[0]
    assert "  input : <start> " + first["chords"] in text
    assert text.count("\nwindow ") == 2
    with pytest.raises(InputError, match="batch size"):
        describe_batch(frame, batch_size=0)
