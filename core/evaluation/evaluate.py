"""Held-out evaluation: the LSTM against unigram/bigram/trigram baselines on the test songs.

Every number is per chord token: the targets are the window's chords plus ``END`` where the
window closes its section (exactly the model's training targets), padding excluded. For each
model, overall and per value of each labelled condition (``per_genre``, ``per_mood``,
``per_scale_type``; blank labels count as ``unspecified``):

* ``top1`` / ``top5`` — share of targets among the 1 / 5 most probable tokens (a target tied
  with others counts as ranked after none of them: rank = number of strictly more probable tokens);
* ``cross_entropy`` — mean ``-ln p(target)`` in nats (the training loss's units);
* ``perplexity`` — ``exp(cross_entropy)``;
* ``tokens`` — how many targets were counted.

A song-context model is scored on the same windows, told each window's section (its ``section`` mark read into
the song table's labels, :func:`core.song_context.section_id`) with the metre unknown; its whole-song figures
are another protocol, kept apart (:mod:`core.evaluation.songs`, ``whole_song`` in ``test_results.json``).

Models: ``lstm`` (conditions as labelled), ``lstm_unconditioned`` (every condition set to 0,
"unspecified": the gap to ``lstm`` is what the conditions buy; a key-relative model still reads the
chords moved into their key, :func:`key_relative_predictor`), and the n-gram baselines of
:mod:`core.evaluation.ngram` fitted on the frame's ``train`` split (untransposed), plus
``trigram_key_relative``: a trigram over chords transposed so every window's tonic is C (windows
without a key stay as they are), scored in each test window's own key — the LSTM is told the
key, so this is the fair n-gram comparison. ``topk_curve`` has top-k accuracy for k = 1..10.

A fine-tuned run (``train --init-from``) adds ``base_lstm``: the model it started from, on the
same songs, beside it. A run trained on a subset or on another table (a genre, the user's own
songs) is evaluated on that data's test songs (:func:`evaluate_model_file` reads the run's
``config.json``), and the n-gram baselines are fitted on that data's train songs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from core.conditions import UNSPECIFIED
from core.corpus.table import shipped_table
from core.dataset import CHORD_INPUT, CONDITION_INPUTS, EncodedWindows, encode_frame, split_frame
from core.errors import InputError
from core.evaluation.metrics import CURVE_K, ngram_probabilities, target_ranks, token_metrics, topk_curve
from core.evaluation.ngram import NGramModel, fit_baselines
from core.key_relative import KEY_RELATIVE, absolute_distributions, key_tonics, relative_key_ids, to_relative
from core.run_files import TEST_RESULTS_FILE

#: the metrics live in core.evaluation.metrics (the whole-song protocol reads them too); named here as before.
__all__ = ["CURVE_K", "evaluate_model", "evaluate_model_file", "evaluate_run", "ngram_probabilities", "target_ranks",
           "token_metrics", "topk_curve"]
from core.vocabulary import PAD_ID, VOCAB

#: conditions the results are broken down by (``per_genre``, ``per_mood``, ``per_scale_type``).
PER_CONDITION: tuple[str, ...] = ("genre", "mood", "scale_type")
#: a function from the model's input dict (conditions [N, 1]) to probabilities [N, L, V].
Predictor = Callable[[dict[str, np.ndarray]], np.ndarray]


# --- predictions per target token ---------------------------------------------------------------


def _flat_targets(encoded: EncodedWindows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(window index, position, target id) of every non-padding target."""
    windows, positions = np.nonzero(encoded.targets != PAD_ID)
    return windows, positions, encoded.targets[windows, positions].astype(np.int64)


def training_sequences(encoded: EncodedWindows) -> list[list[int]]:
    """Framed sequences ``[START] + targets`` (chords, then END where the window ends) for n-gram fitting."""
    return [[int(encoded.chord_input[i, 0])] + [int(t) for t in row if t != PAD_ID] for i, row in enumerate(encoded.targets)]


def window_tonics(encoded: EncodedWindows) -> np.ndarray:
    """Tonic pitch class of each window's key (0 where the key is unspecified)."""
    key = np.asarray(encoded.key, dtype=np.int64)
    return np.where(key > 0, (key - 1) % 12, 0)


#: ``_TO_C[s, token]`` = the token moved down by ``s`` semitones (specials unchanged).
_TO_C = np.array([VOCAB.transpose_ids(range(len(VOCAB)), -shift) for shift in range(12)], dtype=np.int64)


def transposed_to_c(encoded: EncodedWindows) -> EncodedWindows:
    """The windows with every chord moved so that the window's tonic is C (conditions unchanged)."""
    shift = window_tonics(encoded)[:, None]
    return replace(encoded, chord_input=_TO_C[shift, encoded.chord_input], targets=_TO_C[shift, encoded.targets])


def key_relative_probabilities(model: NGramModel, encoded: EncodedWindows, windows: np.ndarray,
                               positions: np.ndarray) -> np.ndarray:
    """A key-relative n-gram's distributions [n, V] over the windows' own (untransposed) tokens."""
    relative = ngram_probabilities(model, transposed_to_c(encoded), windows, positions)
    return np.take_along_axis(relative, _TO_C[window_tonics(encoded)[windows]], axis=1)


def keras_predictor(model, batch_size: int = 256) -> Predictor:
    """A :data:`Predictor` running a Keras model in inference mode (dropout off).

    It feeds the model the inputs it declares (a window model ignores the section and metre inputs a
    window's dict carries) and reads its chord distribution (a song-context model's ``chords`` output).
    """
    from core.model import chord_probabilities

    names = {tensor.name.split(":")[0] for tensor in model.inputs}

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(inputs.values())))
        fed = {k: v for k, v in inputs.items() if k in names}
        batches = [
            np.asarray(chord_probabilities(model({k: v[start : start + batch_size] for k, v in fed.items()},
                                                 training=False)), dtype=np.float64)
            for start in range(0, n, batch_size)
        ]
        return np.concatenate(batches, axis=0)

    return predict


def _unconditioned(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = dict(inputs)
    for name in CONDITION_INPUTS.values():
        out[name] = np.zeros_like(inputs[name])
    return out


def key_relative_predictor(predict: Predictor, open_conditions: bool = False) -> Predictor:
    """A key-relative model's predictor seen from outside: windows of absolute chords in, absolute distributions out.

    Each window is moved so that its key's tonic is C (:func:`core.dataset.relative_windows`), the model
    runs, and its distributions are moved back. ``open_conditions`` then opens every condition: the
    chords are still read in their key (the encoding needs the tonic), the model is told nothing else.
    """

    def run(inputs: dict[str, np.ndarray]) -> np.ndarray:
        keys = inputs[CONDITION_INPUTS["key"]][:, 0]
        tonics = key_tonics(keys)
        moved = {**inputs, CHORD_INPUT: to_relative(inputs[CHORD_INPUT], tonics).astype(np.int32),
                 CONDITION_INPUTS["key"]: relative_key_ids(keys).astype(np.int32).reshape(-1, 1)}
        return absolute_distributions(predict(_unconditioned(moved) if open_conditions else moved), tonics)

    return run


def _resolve_predictor(model_dir_or_model) -> tuple[Predictor, Predictor, str]:
    """The model's predictor, the same with every condition open, and where the model came from."""
    if hasattr(model_dir_or_model, "predict"):  # a Keras model
        model, source = model_dir_or_model, getattr(model_dir_or_model, "name", "model")
    elif callable(model_dir_or_model):
        return model_dir_or_model, lambda inputs: model_dir_or_model(_unconditioned(inputs)), "predictor"
    else:
        from core.model import load_model
        from core.paths import resolve_model_file

        model_file = resolve_model_file(model_dir_or_model)
        model, source = load_model(model_file, compile=False), str(model_file.parent)
    from core.model import model_config_of

    predict = keras_predictor(model)
    if model_config_of(model).chord_encoding == KEY_RELATIVE:
        return key_relative_predictor(predict), key_relative_predictor(predict, open_conditions=True), source
    return predict, lambda inputs: predict(_unconditioned(inputs)), source


# --- the evaluation -----------------------------------------------------------------------------


def _per_value(labels: np.ndarray, distributions: dict[str, np.ndarray], targets: np.ndarray) -> dict[str, dict]:
    """``{value: {model: metrics}}`` over the targets of each label value (blank labels count as unspecified)."""
    labels = pd.Series(labels).astype(str).str.strip().replace("", UNSPECIFIED).to_numpy()
    return {value: {name: token_metrics(dist[labels == value], targets[labels == value])
                    for name, dist in distributions.items()}
            for value in sorted(set(labels))}


def _scored_distributions(predictors: tuple[Predictor, Predictor], base_model, encoded: EncodedWindows,
                          encoded_train: EncodedWindows, targets: tuple[np.ndarray, np.ndarray],
                          progress: Callable[[float], None]) -> dict[str, np.ndarray]:
    """Each model's distribution [n, V] before every (window, position) target, reporting the share done after each."""
    windows, positions = targets
    predict, predict_open = predictors
    inputs = encoded.inputs(song=True)  # the windows' section labels and an unknown metre: a window model ignores them
    baselines = fit_baselines(training_sequences(encoded_train))
    steps: list[tuple[str, Callable[[], np.ndarray]]] = [
        ("lstm", lambda: predict(inputs)[windows, positions]),
        *([("base_lstm", lambda: _resolve_predictor(base_model)[0](inputs)[windows, positions])] if base_model is not None
          else []),
        ("lstm_unconditioned", lambda: predict_open(inputs)[windows, positions]),
        *[(name, lambda model=model: ngram_probabilities(model, encoded, windows, positions))
          for name, model in baselines.items()],
        ("trigram_key_relative", lambda: key_relative_probabilities(
            NGramModel(order=3, vocab_size=len(VOCAB)).fit(training_sequences(transposed_to_c(encoded_train))),
            encoded, windows, positions)),
    ]
    distributions: dict[str, np.ndarray] = {}
    for done, (name, score) in enumerate(steps, start=1):
        distributions[name] = score()
        progress(done / len(steps))
    return distributions


def evaluate_model(
    model_dir_or_model,
    frame: pd.DataFrame,
    split: str = "test",
    sequence_length: int = 12,
    base_model=None,
    progress: Callable[[float], None] | None = None,
) -> dict:
    """Metrics of the LSTM (conditioned and not) and the n-gram baselines on one split of ``frame``.

    ``model_dir_or_model`` is a model folder or ``.keras`` path, a Keras model, or a
    :data:`Predictor` (tests inject a stub). ``frame`` is table-shaped (every split; the baselines
    are fitted on its ``train`` rows). ``base_model`` (the same kinds) is a model this one was
    fine-tuned from, scored beside it as ``base_lstm``. Returns the ``test_results.json`` payload
    (module docstring). ``progress(share)`` hears the share of the work done (0 to 1) after each
    model is scored; whatever it raises ends the evaluation (the trainer's stop request does).
    """
    predict, predict_open, source = _resolve_predictor(model_dir_or_model)
    evaluated = split_frame(frame, split)
    train = split_frame(frame, "train")
    if evaluated.empty:
        raise InputError(f"no {split} windows to evaluate")
    if train.empty:
        raise InputError("no train windows to fit the n-gram baselines on")
    encoded = encode_frame(evaluated, sequence_length)
    evaluated = evaluated.loc[evaluated["chords"].astype(str).str.strip() != ""].reset_index(drop=True)
    windows, positions, targets = _flat_targets(encoded)

    distributions = _scored_distributions((predict, predict_open), base_model, encoded, encode_frame(train, sequence_length),
                                          (windows, positions), progress or (lambda share: None))

    per_condition = {
        f"per_{condition}": _per_value(evaluated[condition].to_numpy()[windows], distributions, targets)
        for condition in PER_CONDITION
    }
    return {
        "split": split,
        "model": source,
        f"{split}_songs": int(evaluated["song_id"].nunique()),
        f"{split}_windows": int(len(encoded)),
        f"{split}_tokens": int(len(targets)),
        "models": {name: token_metrics(dist, targets) for name, dist in distributions.items()},
        **per_condition,
        "topk_curve": {"k": list(CURVE_K), **{name: topk_curve(dist, targets) for name, dist in distributions.items()}},
        "units": "per chord token (targets incl. END, excl. padding); cross_entropy in nats; perplexity = exp(cross_entropy)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def evaluate_run(run_dir: str | Path, frame: pd.DataFrame | None = None, split: str = "test",
                 progress: Callable[[float], None] | None = None) -> dict:
    """Evaluate a run folder's ``model.keras`` and write ``test_results.json`` there atomically.

    Also fits the genre/mood calibration on the validation songs and writes ``calibration.json``
    (:mod:`core.evaluation.calibrate`); a table without labelled validation songs leaves the
    ranking uncalibrated. ``progress`` as in :func:`evaluate_model`.
    """
    from core.evaluation.calibrate import write_calibration
    from core.paths import resolve_model_file
    from core.run_files import write_json_atomic

    run_dir = Path(run_dir)
    results = evaluate_model_file(resolve_model_file(run_dir), split=split, frame=frame, progress=progress)
    write_json_atomic(run_dir / TEST_RESULTS_FILE, results)
    try:
        write_calibration(run_dir, frame)
    except InputError:  # no validation songs labelled with a genre or mood: nothing to fit on
        pass
    return results


def run_folder_of(model_file: Path) -> Path | None:
    """The run folder holding ``model_file`` (``model.keras`` or ``checkpoints/*.keras``), if it has a ``config.json``."""
    from core.run_files import CHECKPOINTS_DIR, CONFIG_FILE

    folder = Path(model_file).parent
    if folder.name == CHECKPOINTS_DIR and not (folder / CONFIG_FILE).is_file():
        folder = folder.parent
    return folder if (folder / CONFIG_FILE).is_file() else None


def evaluate_model_file(model_file: Path, split: str = "test", frame: pd.DataFrame | None = None,
                        progress: Callable[[float], None] | None = None) -> dict:
    """Evaluate a model file on the data its run trained on, beside the model it was fine-tuned from.

    The run's ``config.json`` (when the file sits in a run folder) chooses the table and the
    genre/source/mood subset (:func:`core.training.run_data.run_frame`; ``frame`` replaces the
    table) and names the base model (``"init"``), scored as ``base_lstm`` when its file is still
    there. Without a run folder: the shipped table (or ``frame``), no base. The payload gains
    ``data`` (table and subset) and, for a fine-tuned run, ``base`` (path, recorded hash, and
    whether the file has ``changed`` since, or is ``missing``).
    """
    from core.run_files import CONFIG_FILE, read_json
    from core.training.run_data import describe_data, load_run_config, run_frame
    from core.training.transfer import base_changed, base_model_file

    folder = run_folder_of(model_file)
    if folder is None:
        results = evaluate_model(model_file, shipped_table() if frame is None else frame, split=split, progress=progress)
        return {**results, "data": {"table": "shipped" if frame is None else "given", "subset": {}}}
    config = load_run_config(folder)
    init = read_json(folder / CONFIG_FILE).get("init")
    base_file = base_model_file(init)
    if config.corpus_table is None and frame is None:
        frame = shipped_table()  # the InputError that says how to build it
    results = evaluate_model(model_file, run_frame(config, frame), split=split, base_model=base_file,
                             sequence_length=config.model.sequence_length, progress=progress)
    results["data"] = describe_data(config)
    if config.model.song_context:  # its own protocol, under its own key: never mixed with the window figures
        results["whole_song"] = whole_song_results(model_file, config, frame)
    if isinstance(init, dict):
        results["base"] = {**init, "missing": base_file is None,
                           "changed": base_file is not None and base_changed(init, base_file)}
    return results


def whole_song_results(model_file: Path, config, songs: pd.DataFrame | None = None) -> dict:
    """The whole-song protocol (:mod:`core.evaluation.songs`) for a model file on its run's songs.

    ``songs`` is a song table; the run's own (the shipped song table, narrowed to its subset) when not given.
    """
    from core.evaluation.songs import evaluate_songs
    from core.model import load_model
    from core.training.run_data import run_songs

    if songs is not None and "section_index" not in songs.columns:
        songs = None  # a windows table was given for the window protocol: the songs are the run's own
    return evaluate_songs(load_model(model_file, compile=False), run_songs(config, songs))


def _base_lines(base: dict | None) -> list[str]:
    """The header lines naming the model a fine-tuned run started from (``base_lstm`` in the table)."""
    if not base:
        return []
    state = ""
    if base.get("missing"):
        state = " (missing now: not scored)"
    elif base.get("changed"):
        state = " (changed since: scored as it is now)"
    return [f"base_lstm = the model this run was fine-tuned from: {base.get('path')} (sha256 {base.get('sha256')}){state}"]


def results_table(results: dict) -> str:
    """A plain-text table of :func:`evaluate_model` results: overall, then per genre, mood and scale type."""
    split = results.get("split", "test")
    subset = (results.get("data") or {}).get("subset") or {}
    lines = [
        f"{split}: {results.get(f'{split}_songs')} songs, {results.get(f'{split}_windows')} windows, "
        f"{results.get(f'{split}_tokens')} chord tokens" + "".join(f", {k} {v}" for k, v in subset.items()),
        *_base_lines(results.get("base")),
        "",
        f"{'model':<20}{'top1':>8}{'top5':>8}{'xent':>8}{'ppl':>9}",
    ]
    for name, m in results["models"].items():
        lines.append(f"{name:<20}{m['top1']:>8.3f}{m['top5']:>8.3f}{m['cross_entropy']:>8.3f}{m['perplexity']:>9.2f}")
    for condition in PER_CONDITION:
        per_value = results.get(f"per_{condition}")
        if not per_value:  # results written before the per-mood and per-scale-type sections
            continue
        lines += ["", f"{condition:<12}{'tokens':>7}  " + "  ".join(f"{n:>18}" for n in results["models"])]
        for value, by_model in per_value.items():
            tokens = next(iter(by_model.values()))["tokens"]
            cells = "  ".join(f"{m['top1']:>7.3f} / {m['perplexity']:>8.2f}" for m in by_model.values())
            lines.append(f"{value:<12}{tokens:>7}  {cells}")
    lines.append("(per value: top1 / perplexity)")
    curve = results.get("topk_curve", {})
    if "lstm" in curve:
        lines += ["", "lstm top-k: " + "  ".join(f"k={k}:{v:.3f}" for k, v in zip(curve["k"], curve["lstm"], strict=True))]
    return "\n".join([*lines, *_whole_song_lines(results.get("whole_song"))])


def _whole_song_lines(whole: dict | None) -> list[str]:
    """The whole-song protocol's table (its own protocol: never compared with the window figures above)."""
    if not whole:
        return []
    lines = ["", f"WHOLE SONGS (another protocol, not comparable with the windows above): {whole['songs']} songs, "
             f"{whole['tokens']} chord tokens, context up to {whole['model_length']} chords",
             f"{'model':<20}{'top1':>8}{'top5':>8}{'xent':>8}{'ppl':>9}"]
    for name, m in whole["models"].items():
        lines.append(f"{name:<20}{m['top1']:>8.3f}{m['top5']:>8.3f}{m['cross_entropy']:>8.3f}{m['perplexity']:>9.2f}")
    durations = whole.get("durations")
    if durations:
        lines.append(f"durations over {durations['model']['chords']} timed chords: " + "; ".join(
            f"{name} accuracy {m['accuracy']:.3f}, perplexity {m['perplexity']:.2f}"
            for name, m in (("model", durations["model"]), ("genre x metre baseline", durations["baseline_genre_metre"]))))
    return lines
