"""Song-context models: section and metre inputs, the duration head, spans, the decoder against Keras, generation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.config import ModelConfig, TrainConfig
from core.dataset import CHORD_INPUT, CHORDS_OUTPUT, CONDITION_INPUTS, DURATIONS_OUTPUT, METRE_INPUT, SECTION_INPUT
from core.generation.decoder import FastDecoder, KerasDecoder, SongPlace
from core.inference_weights import DecoderWeights
from core.song_context import (
    DURATION_BEATS,
    SECTION_LABELS,
    beats_of_duration_ids,
    duration_ids,
    metre_id,
    normalise_label,
    section_id,
)
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB
from tests.tiny_models import tiny_model

SONG = {"context": "song", "sequence_length": 10}


def _song_model(seed: int = 0, **overrides):
    return tiny_model(seed=seed, **{**SONG, **overrides})


def _keras_outputs(model, chords: np.ndarray, conditions: np.ndarray, sections: np.ndarray, metre: np.ndarray):
    inputs = {CHORD_INPUT: chords.astype(np.int32), SECTION_INPUT: sections.astype(np.int32),
              METRE_INPUT: metre.astype(np.int32).reshape(-1, 1)}
    for column, name in enumerate(("genre", "mood", "key", "scale_type")):
        inputs[CONDITION_INPUTS[name]] = conditions[:, column : column + 1].astype(np.int32)
    outputs = model(inputs, training=False)
    return np.asarray(outputs[CHORDS_OUTPUT], dtype=np.float64), np.asarray(outputs[DURATIONS_OUTPUT], dtype=np.float64)


def test_labels_metres_and_duration_classes():
    assert section_id("verse") == SECTION_LABELS.index("verse") and section_id(None) == 0 and section_id("") == 0
    assert section_id("Verse 2") == section_id("verse") and section_id("A'") == section_id("A")
    assert section_id("Zz") == section_id("other") and normalise_label("Ch") == "chorus"
    assert metre_id(4) == 3 and metre_id(11) == 0 and metre_id(None) == 0 and metre_id(float("nan")) == 0
    beats = np.array([1.0, 2.0, 2.9, 4.5, 20.0, 0.25, np.nan, 0.0])
    ids = duration_ids(beats)
    assert beats_of_duration_ids(ids).tolist() == [1, 2, 3, 4, 16, 1, 0, 0]  # 4.5 beats is nearer 4 than 6 in log scale
    assert len(DURATION_BEATS) + 1 == ModelConfig().duration_count


def test_fast_decoder_matches_keras_for_chords_and_durations():
    model = _song_model(seed=3)
    decoder = FastDecoder(DecoderWeights.from_model(model), dtype=np.float64)
    rng = np.random.default_rng(0)
    rows, length = 3, 10
    chords = np.full((rows, length), PAD_ID)
    chords[:, 0] = START_ID
    chords[:, 1:7] = rng.integers(END_ID + 1, VOCAB.size, size=(rows, 6))
    sections = rng.integers(0, len(SECTION_LABELS), size=(rows, length))
    metre = np.array([0, 3, 5])
    conditions = np.array([[1, 2, 3, 1], [0, 0, 0, 0], [4, 1, 20, 2]])
    probabilities, durations = _keras_outputs(model, chords, conditions, sections, metre)
    state = decoder.initial(conditions, SongPlace(sections, metre))
    for t in range(7):
        np.testing.assert_allclose(np.exp(state.log_probs), probabilities[:, t], atol=1e-5)
        np.testing.assert_allclose(np.exp(state.durations), durations[:, t], atol=1e-5)
        if t < 6:
            state = decoder.advance(state, chords[:, t + 1])
    taken = decoder.take(state, np.array([2, 0]))
    np.testing.assert_allclose(taken.durations, state.durations[[2, 0]])
    moved = decoder.advance(taken, np.array([END_ID + 1, END_ID + 2]))
    assert moved.durations.shape == (2, ModelConfig().duration_count)


def test_keras_decoder_reads_places_and_durations():
    model = _song_model(seed=4)
    fast = FastDecoder(DecoderWeights.from_model(model), dtype=np.float64)
    keras_decoder = KerasDecoder(model)
    conditions = np.array([[1, 2, 3, 1]])
    place = SongPlace.of([2, 2, 4, 4], metre=3)
    a, b = fast.initial(conditions, place), keras_decoder.initial(conditions, place)
    for token in (END_ID + 5, END_ID + 9, END_ID + 2):
        a, b = fast.advance(a, np.array([token])), keras_decoder.advance(b, np.array([token]))
        np.testing.assert_allclose(a.log_probs, b.log_probs, atol=1e-4)
        np.testing.assert_allclose(a.durations, b.durations, atol=1e-4)


def test_window_models_ignore_places_and_have_no_durations():
    model = tiny_model(seed=1)
    decoder = FastDecoder(DecoderWeights.from_model(model))
    conditions = np.array([[1, 2, 3, 1]])
    plain = decoder.initial(conditions)
    placed = decoder.initial(conditions, SongPlace.of([3], 2))
    np.testing.assert_array_equal(plain.log_probs, placed.log_probs)
    assert plain.durations is None and decoder.advance(plain, np.array([END_ID + 1])).durations is None


def test_sections_change_the_song_models_distribution():
    decoder = FastDecoder(DecoderWeights.from_model(_song_model(seed=5)))
    conditions = np.array([[1, 2, 3, 1]])
    verse = decoder.initial(conditions, SongPlace.of([section_id("verse")], 3))
    chorus = decoder.initial(conditions, SongPlace.of([section_id("chorus")], 3))
    assert np.abs(verse.log_probs - chorus.log_probs).max() > 1e-4


def _saved_song_model(folder, seed: int = 0):
    from core.model import save_model
    from core.run_files import MODEL_FILE

    save_model(_song_model(seed=seed), folder / MODEL_FILE)
    return folder


def test_inference_weights_round_trip_and_generation_with_durations(tmp_path):
    from core.conditions import Conditions
    from core.generation.generate import generate
    from core.generation.loading import load_generator
    from core.inference_weights import read_inference_weights, weights_files, write_inference_weights
    from core.model import load_model
    from core.run_files import MODEL_FILE

    folder = _saved_song_model(tmp_path / "song")
    generator = load_generator(folder)  # derives and writes the weights copy
    npz, _ = weights_files(folder / MODEL_FILE)
    assert npz.exists()
    from core.inference_weights import file_sha256

    copy = read_inference_weights(folder / MODEL_FILE, file_sha256(folder / MODEL_FILE))
    assert copy is not None and copy.decoder.song_context and copy.decoder.duration_kernel.shape[1] == 9
    write_inference_weights(load_model(folder, compile=False), folder / MODEL_FILE)  # what training writes: the same
    samples = generate(generator, Conditions.parse(genre="pop", key="C"), length=6, num_samples=3, random_seed=1)
    for sample in samples:
        assert len(sample.durations) == len(sample.chords) == 6
        assert set(sample.durations) <= set(DURATION_BEATS)
        assert sample.to_dict()["durations"] == sample.durations
    again = generate(generator, Conditions.parse(genre="pop", key="C"), length=6, num_samples=3, random_seed=1)
    assert [s.durations for s in again] == [s.durations for s in samples]
    open_key = generate(generator, Conditions.parse(genre="rock"), length=4, num_samples=2, random_seed=2, guidance=1.0,
                        locks={2: "G"}, place=SongPlace.of([section_id("chorus")], 3))
    assert all(len(s.durations) == len(s.chords) for s in open_key)


def test_window_model_samples_have_no_durations(tmp_path):
    from core.conditions import Conditions
    from core.generation.generate import generate
    from tests.tiny_models import saved_tiny_model

    samples = generate(saved_tiny_model(tmp_path / "w"), Conditions.parse(genre="pop"), length=4, random_seed=0)
    assert samples[0].durations is None and "durations" not in samples[0].to_dict()


def test_duration_loss_ignores_padding_and_unknown_durations():
    from core.model import MaskedSparseCategoricalCrossentropy

    loss = MaskedSparseCategoricalCrossentropy()
    predictions = np.full((1, 4, 9), 1 / 9, dtype=np.float32)
    predictions[0, 1] = np.eye(9, dtype=np.float32)[3] * 0.9 + 0.1 / 9
    known = float(loss(np.array([[0, 3, 0, 0]]), predictions))
    assert known == pytest.approx(-np.log(0.9 + 0.1 / 9), rel=1e-5)  # positions with target 0 count for nothing


def test_song_spans_cross_sections_and_end_the_song():
    from core.song_spans import encode_spans

    rows = []
    for position, (section, label, chord, beats) in enumerate([(0, "verse", "C", 4.0), (0, "verse", "F", 2.0),
                                                               (1, "chorus", "G", 4.0), (1, "chorus", "Am", None)]):
        rows.append({"song_id": "s1", "position": position, "section_index": section, "section_label": label,
                     "genre": "pop", "mood": "", "key_tonic": "G", "scale_type": "major", "metre": 4, "chord": chord,
                     "beats": beats, "split": "train"})
    spans = encode_spans(pd.DataFrame(rows), sequence_length=6)
    assert len(spans) == 2  # one per section start
    assert VOCAB.decode(spans.targets[0]) == ["C", "F", "G", "Am", "<end>", "<pad>"]
    assert spans.sections[0].tolist() == [section_id("verse")] * 2 + [section_id("chorus")] * 3 + [0]
    assert beats_of_duration_ids(spans.durations[0]).tolist() == [0, 4, 2, 4, 0, 0]  # the chord fed at each step
    assert VOCAB.decode(spans.chord_input[1])[:3] == ["<start>", "G", "Am"] and spans.metre.tolist() == [3, 3]
    short = encode_spans(pd.DataFrame(rows), sequence_length=3)  # cut: no END
    assert VOCAB.decode(short.targets[0]) == ["C", "F", "<pad>"]


def test_song_context_config_defaults_to_song_spans():
    assert TrainConfig.from_values({"context": "song"}).model.sequence_length == 32
    assert TrainConfig.from_values({"context": "song", "sequence_length": 16}).model.sequence_length == 16
    assert TrainConfig().updated({"context": "song"}).model.sequence_length == 32
    assert TrainConfig().model.context == "window" and TrainConfig().model.sequence_length == 12
    assert TrainConfig.from_dict({"train": {"model": {}}}).model.context == "window"  # runs before the setting


def test_fit_to_bars_fills_every_bar():
    from core.generation.song import fit_to_bars
    from core.song.form import TimeSignature

    four = TimeSignature(4, 4)
    assert fit_to_bars([4, 4, 4, 4, 4], 2, four) == (4, 4)  # as many as it takes
    fitted = fit_to_bars([3, 3, 3], 2, four)
    assert fitted == (3, 1, 4) and sum(fitted) == 8  # the second stops at its bar line, the last fills the rest
    assert fit_to_bars([16, 2], 4, four) == (16,)  # a chord on a bar line holds whole bars
    assert fit_to_bars([6, 2, 2], 3, four) == (4, 2, 6)  # 6 from a bar line: one whole bar
    assert fit_to_bars([1], 1, TimeSignature(3, 4)) == (3,)


def test_song_mode_uses_the_models_sections_and_durations(tmp_path, monkeypatch):
    from core.conditions import Conditions
    from core.config import GenerationSettings, SongSettings
    from core.generation import song as song_module
    from core.generation.loading import load_generator

    generator = load_generator(_saved_song_model(tmp_path / "song", seed=7))
    assert song_module.predicts_durations(generator)
    places = []
    real = song_module.generate

    def spy(*args, **kwargs):
        places.append(kwargs.get("place"))
        samples = real(*args, **kwargs)
        spy.durations.append(samples[0].durations)
        return samples

    spy.durations = []
    monkeypatch.setattr(song_module, "generate", spy)
    settings = SongSettings(form="Verse Chorus Verse", bars="2,2,2", time_signature="3/4")
    song = song_module.generate_song(generator, settings, Conditions.parse(genre="pop", key="G"),
                                     GenerationSettings(random_seed=3))
    assert song.notes == (song_module.SONG_MODEL_NOTE,)
    assert [sum(s.durations) for s in song.sections] == [6, 6, 6]
    assert places[0].sections[0, 0] == section_id("verse") and places[0].metre.tolist() == [metre_id(3)]
    assert places[1].sections[0, -1] == section_id("chorus") and places[1].sections[0, 0] == section_id("verse")
    first = song.sections[0]
    assert first.durations == song_module.fit_to_bars(spy.durations[0], 2, song.time)  # the model's own, fitted
    assert song.sections[2].chords == first.chords  # a returning section repeats


def test_song_mode_keeps_the_corpus_rhythm_for_window_models(tmp_path):
    from core.conditions import Conditions
    from core.config import GenerationSettings, SongSettings
    from core.generation import song as song_module
    from tests.tiny_models import saved_tiny_model

    song = song_module.generate_song(saved_tiny_model(tmp_path / "w"), SongSettings(form="Verse Chorus", bars="2,2"),
                                     Conditions.parse(genre="pop"), GenerationSettings(random_seed=1))
    assert song.notes[0] == song_module.TODAY_NOTE and [sum(s.durations) for s in song.sections] == [8, 8]


def test_whole_song_protocol_reads_every_chord_once():
    from core.evaluation.songs import reading_starts
    from core.song_spans import encode_starts, song_arrays

    rows = []
    labels = ["verse"] * 5 + ["chorus"] * 14 + ["outro"] * 2
    for song in ("a", "b"):
        for position, label in enumerate(labels):
            rows.append({"song_id": song, "position": position, "section_index": labels.index(label) if label != "chorus"
                         else 5, "section_label": label, "genre": "pop", "mood": "", "key_tonic": "C",
                         "scale_type": "major", "metre": 4, "chord": ["C", "F", "G", "Am"][position % 4], "beats": 2.0,
                         "split": "test"})
    arrays = song_arrays(pd.DataFrame(rows))
    starts, span, position, target_rows = reading_starts(arrays, 8)
    assert len(span) == 2 * (len(labels) + 1) and (target_rows == -1).sum() == 2
    assert position.max() <= 8 - 2 and position.min() >= 0
    encoded = encode_starts(arrays, starts, 8)
    read = encoded.targets[span, position]
    chord_ids = arrays["chord_id"].to_numpy()
    assert (read[target_rows >= 0] == chord_ids[target_rows[target_rows >= 0]]).all()
    assert (read[target_rows == -1] == END_ID).all()
    assert position[0] == 0 and position[5] == 5  # the chorus's first chord is read after the whole verse


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite", "onnx"])
def test_song_context_exports_match_keras_and_generate_with_durations(tmp_path, fmt):
    from core.conditions import Conditions
    from core.generation.generate import generate
    from core.model import model_config_of
    from core.serving.export import export_model, probe_inputs
    from core.serving.runtimes import DURATIONS_NAME, exported_generator, load_exported

    model = _song_model(seed=9)
    result = export_model(model, fmt, tmp_path)  # both outputs checked against Keras
    assert result.max_abs_error is not None and result.max_abs_error <= 1e-5
    outputs = load_exported(result.path).outputs(probe_inputs(model_config_of(model), rows=2))
    assert outputs[DURATIONS_NAME].shape == (2, SONG["sequence_length"], ModelConfig().duration_count)
    samples = generate(exported_generator(tmp_path, fmt), Conditions.parse(genre="pop", key="A minor"), length=3,
                       random_seed=0)
    assert len(samples[0].durations) == 3


def test_a_song_context_run_trains_on_spans_logs_the_chord_loss_and_generates(tmp_path):
    import json

    from core.conditions import Conditions
    from core.generation.generate import generate
    from core.generation.loading import load_generator
    from core.run_files import HISTORY_FILE, METRICS_FILE
    from core.training.train import train

    config = TrainConfig.from_values({
        "context": "song", "sequence_length": 16, "embedding_dim": 8, "lstm_units": 8, "lstm_layers": 1,
        "conditioning_units": 8, "epochs": 1, "batch_size": 64, "max_train_windows": 6, "write_reports": False,
        "run_name": "song-tiny", "mixed_precision": False})
    run = train(config, run_dir=tmp_path / "run")
    records = [json.loads(line) for line in (run / METRICS_FILE).read_text().splitlines()]
    history = json.loads((run / HISTORY_FILE).read_text())
    assert records[0]["train_windows"] < 200  # spans of six songs, not their chords
    assert records[1]["val_loss"] == pytest.approx(history["val_chords_loss"][0])  # the chord loss, not the total
    assert history["val_total_loss"][0] > history["val_chords_loss"][0]
    samples = generate(load_generator(run), Conditions.parse(genre="jazz", key="F"), length=5, random_seed=4)
    assert len(samples[0].durations) == 5


def test_song_batches_keep_durations_and_drop_sections_and_metre_at_the_dropout_rate():
    from core.dataset import DatasetConfig, make_dataset
    from core.song_spans import encode_spans

    rows = []
    for song in range(40):
        for position in range(6):
            rows.append({"song_id": f"s{song}", "position": position, "section_index": position // 3,
                         "section_label": "verse" if position < 3 else "chorus", "genre": "pop", "mood": "",
                         "key_tonic": "D", "scale_type": "major", "metre": 3, "chord": ["D", "G", "A"][position % 3],
                         "beats": 3.0, "split": "train"})
    spans = encode_spans(pd.DataFrame(rows), sequence_length=8)
    config = DatasetConfig(sequence_length=8, batch_size=80, condition_dropout=0.5, context="song", key_relative=True,
                           transpose=False)
    inputs, targets = next(iter(make_dataset(spans, config, training=True)))
    assert set(targets) == {"chords", "durations"} and targets["durations"].shape == (80, 8)
    metre = np.asarray(inputs[METRE_INPUT])[:, 0]
    sections = np.asarray(inputs[SECTION_INPUT])
    assert 0 < (metre == 0).sum() < 80 and set(metre) <= {0, metre_id(3)}
    blank = (sections == 0).all(axis=1)
    assert 0 < blank.sum() < 80  # whole examples' sections blanked, the others kept
    assert (np.asarray(targets["durations"])[:, 1:4] == duration_ids(np.array([3.0]))[0]).all()


def test_the_cli_calls_a_song_runs_examples_spans():
    from core.cli.train import format_record

    line = format_record({"status": "started", "run_name": "s", "parameters": 10, "train_windows": 5,
                          "validation_windows": 2, "epochs_planned": 1, "context": "song"})
    assert "5 train / 2 validation song spans" in line
    assert "validation windows" in format_record({"status": "started", "train_windows": 5, "validation_windows": 2})
