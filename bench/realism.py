"""Realism of sampled progressions: can a classifier tell generated windows from real ones? Sampling defaults by it.

``python -m bench.realism [--quick] [--model DIR] [--windows N] [--record]`` sweeps temperature × top-p × guidance
(:data:`GRID`) and, for every row, sets progressions drawn from the model beside real windows:

* **real**: the windows of the validation songs (``data/progressions.csv.gz``; the defaults are
  *chosen* there, never on the test songs), and the test songs' windows for the figures reported
  beside (at the chosen row, at the raw model and at the current defaults of ``core/config.py``);
* **generated**: one progression per real window, drawn under that window's own genre, mood, key and
  scale type and with its length (exactly that many chords), so the judge cannot win on length or
  on conditions — only on the chords.

The **judge** (:func:`judge_accuracy`) is a logistic regression (L2, ``C`` = :data:`JUDGE_C`) on key-relative chord 1–3-grams
(:func:`ngram_features`: every chord moved so that the window's key tonic is C, with ``^``/``$``
start and end markers), real against generated (one generated per real: balanced classes), scored
by 5-fold cross-validation with the folds drawn by song (a song's real windows and the generated
windows drawn for them stay in one fold, so the judge cannot recognise a song it was trained on). Its
out-of-fold accuracy is 50 % when the two sets cannot be told apart and 100 % when every window can.

Beside it, for every row: the **sample perplexity** (the model's own perplexity, T = 1 and unguided,
of what it drew; the real windows' under their own labels is the reference) and **genre adherence**
(the genre judge of :mod:`bench.adherence`, trained on the train songs, agreeing with the requested
genre; balanced over genres; its **ceiling** is the same judge on the real windows).

The rule (:func:`choose`): among the rows whose genre adherence is at least the real windows' ceiling
and whose sample perplexity is within :data:`PERPLEXITY_BAND` of the real windows', the lowest judge
accuracy; rows within one standard error of that lowest are tied, and the tie goes to the sample
perplexity closest to the real windows'.

The whole report goes to ``bench/realism.json``; ``--record`` also stores the test-split judge
figures in ``bench/results.json`` (group ``realism``) through :mod:`bench.results_store`
(``--from-report FILE --record`` records a finished run's JSON without running again).
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

from core.chords import Chord

#: (temperature, top-p, guidance) rows of the full sweep.
GRID: tuple[tuple[float, float, float], ...] = tuple(product((0.8, 1.0, 1.1, 1.2), (0.9, 0.95, 1.0), (0.0, 0.5, 1.0)))
#: the ``--quick`` rows.
QUICK_GRID: tuple[tuple[float, float, float], ...] = tuple(product((1.0, 1.2), (0.95, 1.0), (0.0, 1.0)))
#: the model's own distribution: T = 1, no top-p, no guidance.
RAW: tuple[float, float, float] = (1.0, 1.0, 0.0)
#: a row's sample perplexity may differ from the real windows' by at most this factor (either way) to be chosen.
PERPLEXITY_BAND = 1.25
#: cross-validation folds of the judge.
FOLDS = 5
#: the judge's inverse regularisation strength (scikit-learn's ``C``): of 0.01, 0.03, 0.1, 0.3, 1 and 3 the one that
#: told the raw default model's draws from 2,500 real validation windows best (59.2 %; C = 1: 57.9 %).
JUDGE_C = 0.1
OUTPUT = Path(__file__).resolve().parent / "realism.json"


# --- the judge ------------------------------------------------------------------------------------


def relative_tokens(chords: Sequence[Chord], tonic: int) -> list[str]:
    """The chords' symbols after moving them so that the key's tonic (pitch class ``tonic``) is C."""
    return [chord.transpose(-tonic).symbol for chord in chords]


def ngram_features(chords: Sequence[Chord], tonic: int, orders: Sequence[int] = (1, 2, 3)) -> dict[str, float]:
    """Counts of the key-relative chord n-grams (``orders``) with ``^``/``$`` start and end markers.

    The markers alone (the unigrams ``^`` and ``$``) are left out: every window has them.
    """
    tokens = ["^", *relative_tokens(chords, tonic), "$"]
    features: dict[str, float] = {}
    for n in orders:
        for start in range(len(tokens) - n + 1):
            gram = tokens[start:start + n]
            if n == 1 and gram[0] in ("^", "$"):
                continue
            name = f"{n}:{' '.join(gram)}"
            features[name] = features.get(name, 0.0) + 1.0
    return features


def judge_accuracy(real: Sequence[dict[str, float]], generated: Sequence[dict[str, float]],
                   groups: Sequence[object] | None = None, folds: int = FOLDS, seed: int = 0,
                   c: float = JUDGE_C) -> dict:
    """Cross-validated accuracy of a logistic regression telling ``real`` from ``generated`` feature dicts.

    ``groups`` (one per real item, then one per generated item; e.g. song ids) keeps each group in
    one fold. Classes are weighted to balance, and the accuracy reported is the balanced one (mean
    recall of the two classes), so 50 % means indistinguishable whatever the set sizes. Returns
    ``accuracy`` (pooled out-of-fold), ``standard_error`` (the larger of the binomial one of the
    pooled accuracy and the one across folds), ``fold_accuracies``, ``median`` (of the folds), and ``count``.
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if len(real) < folds or len(generated) < folds:
        raise ValueError(f"need at least {folds} items in each set, got {len(real)} real and {len(generated)} generated")
    matrix = DictVectorizer().fit_transform([*real, *generated])  # the vocabulary only: no label is read
    labels = np.array([1] * len(real) + [0] * len(generated))
    if groups is None:
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(matrix, labels)
    else:
        if len(groups) != len(labels):
            raise ValueError(f"need one group per item ({len(labels)}), got {len(groups)}")
        splits = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(matrix, labels,
                                                                                               list(groups))
    predicted = np.empty_like(labels)
    fold_accuracies = []
    for train, held in splits:
        model = LogisticRegression(C=c, solver="liblinear", class_weight="balanced")  # lbfgs: same, ~8x slower
        model.fit(matrix[train], labels[train])
        predicted[held] = model.predict(matrix[held])
        fold_accuracies.append(_balanced(labels[held], predicted[held]))
    accuracy = _balanced(labels, predicted)
    binomial = math.sqrt(accuracy * (1 - accuracy) / len(labels))
    across = float(np.std(fold_accuracies, ddof=1) / math.sqrt(len(fold_accuracies)))
    return {"accuracy": accuracy, "standard_error": max(binomial, across), "standard_error_binomial": binomial,
            "standard_error_folds": across, "fold_accuracies": fold_accuracies,
            "median": float(np.median(fold_accuracies)), "count": int(len(labels))}


def _balanced(truth: np.ndarray, predicted: np.ndarray) -> float:
    recalls = [float((predicted[truth == value] == value).mean()) for value in (0, 1) if (truth == value).any()]
    return float(np.mean(recalls))


# --- real windows and what the model draws for them ----------------------------------------------


@dataclass
class Windows:
    """Windows with what each was (or is to be) drawn under: conditions, key tonic, song, genre."""

    progressions: list[list[Chord]]
    tonics: list[int]
    conditions: list[tuple[str, str, str, str]]  # (genre, mood, key, scale type) as Conditions.parse reads them
    songs: list[str]
    genres: list[str]
    probabilities: list[list[float]] = field(default_factory=list)

    def features(self) -> list[dict[str, float]]:
        """:func:`ngram_features` of every window, in its labelled key."""
        return [ngram_features(p, t) for p, t in zip(self.progressions, self.tonics, strict=True)]


def real_windows(frame, limit: int | None = None, seed: int = 0) -> Windows:
    """The windows of a table frame that have chords and a labelled key (a seeded sample of ``limit``, if given)."""
    from core.evaluation.condition_checks import as_chords

    rows = frame.loc[(frame["chords"].astype(str).str.strip() != "") & (frame["key_tonic"].astype(str).str.strip() != "")]
    if limit is not None and len(rows) > limit:
        rows = rows.sample(n=limit, random_state=seed)
    windows = Windows([], [], [], [], [])
    tonic_of: dict[tuple[str, str, str, str], int] = {}
    for chords, genre, mood, tonic, scale, song in zip(rows["chords"].astype(str), rows["genre"], rows["mood"],
                                                       rows["key_tonic"], rows["scale_type"], rows["song_id"],
                                                       strict=True):
        scale_text = str(scale).strip().lower()
        key = f"{str(tonic).strip()} {scale_text}" if scale_text in ("major", "minor") else str(tonic).strip()
        labels = (str(genre or "").strip().lower(), str(mood or "").strip().lower(), key, scale_text)
        if labels not in tonic_of:
            tonic_of[labels] = _conditions(labels).tonic
        windows.progressions.append(as_chords(chords))
        windows.tonics.append(tonic_of[labels])
        windows.conditions.append(labels)
        windows.songs.append(str(song))
        windows.genres.append(labels[0])
    return windows


def _conditions(labels: tuple[str, str, str, str]):
    from core.conditions import Conditions

    genre, mood, key, scale = labels
    return Conditions.parse(genre=genre or None, mood=mood or None, key=key, scale_type=scale or None)


def _groups(windows: Windows) -> dict[tuple[str, str, str, str], list[int]]:
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    for index, labels in enumerate(windows.conditions):
        groups.setdefault(labels, []).append(index)
    return dict(sorted(groups.items()))


def draw(generator, real: Windows, temperature: float, top_p: float, guidance: float, seed: int = 0) -> Windows:
    """One progression per real window, under its conditions and with its length (see the module docstring).

    Windows with the same conditions are drawn as one batch at the longest length among them, each
    sample then cut to its window's length (with ``let_model_end`` off, a prefix of a longer draw is a
    draw of that length). The same ``seed`` gives every row the same random streams.
    """
    from core.generation.generate import generate

    drawn: list[list[Chord]] = [[] for _ in real.progressions]
    probabilities: list[list[float]] = [[] for _ in real.progressions]
    for number, (labels, indices) in enumerate(_groups(real).items()):
        length = max(len(real.progressions[i]) for i in indices)
        samples = generate(generator, _conditions(labels), length=length, num_samples=len(indices),
                           temperature=temperature, top_p=top_p, top_k=0, let_model_end=False, in_key=False,
                           random_seed=seed + 7919 * number, guidance=guidance)
        for index, sample in zip(indices, samples, strict=True):
            n = len(real.progressions[index])
            drawn[index], probabilities[index] = sample.chords[:n], sample.probabilities[:n]
    return Windows(drawn, list(real.tonics), list(real.conditions), list(real.songs), list(real.genres), probabilities)


def score_real(generator, real: Windows) -> None:
    """Fill ``real.probabilities``: the model's p(chord | chords before, the window's own conditions), T = 1."""
    from core.generation.score import score_progressions

    real.probabilities = [[] for _ in real.progressions]
    for labels, indices in _groups(real).items():
        scored = score_progressions(generator, [real.progressions[i] for i in indices], _conditions(labels))
        for index, result in zip(indices, scored, strict=True):
            real.probabilities[index] = result["probabilities"]


def genre_adherence(judge, windows: Windows) -> float:
    """Balanced accuracy of the genre judge on the windows whose genre is set (its requested or labelled genre)."""
    kept = [i for i, genre in enumerate(windows.genres) if genre in judge.labels]
    return judge.accuracy([windows.progressions[i] for i in kept],
                          [windows.genres[i] for i in kept])["balanced_accuracy"]


def measure(generator, genre_judge, real: Windows, real_features: list[dict[str, float]], settings: tuple[float, ...],
            seed: int = 0) -> dict:
    """Judge accuracy, sample perplexity, genre adherence and copy share of one (T, top-p, guidance) row."""
    from bench import adherence as ad

    temperature, top_p, guidance = settings
    generated = draw(generator, real, temperature, top_p, guidance, seed)
    judged = judge_accuracy(real_features, generated.features(), groups=[*real.songs, *generated.songs], seed=seed)
    real_set = {tuple(p) for p in real.progressions}
    return {"temperature": temperature, "top_p": top_p, "guidance": guidance,
            "judge_accuracy": judged["accuracy"], "judge_standard_error": judged["standard_error"],
            "judge_fold_accuracies": judged["fold_accuracies"], "judge_median": judged["median"],
            "sample_perplexity": ad.sample_perplexity(generated.probabilities),
            "genre_adherence": genre_adherence(genre_judge, generated),
            "same_as_a_real_window": float(np.mean([tuple(p) in real_set for p in generated.progressions])),
            "count": len(generated.progressions)}


def reference(generator, genre_judge, real: Windows) -> dict:
    """The real windows' own figures: sample perplexity under their labels and the genre judge's ceiling."""
    from bench import adherence as ad

    score_real(generator, real)
    return {"sample_perplexity": ad.sample_perplexity(real.probabilities),
            "genre_adherence": genre_adherence(genre_judge, real), "count": len(real.progressions),
            "songs": len(set(real.songs))}


# --- the rule -------------------------------------------------------------------------------------


def choose(rows: Sequence[dict], real: dict, band: float = PERPLEXITY_BAND) -> dict:
    """The row chosen by the module docstring's rule.

    Eligible: genre adherence ≥ the real windows' ceiling and sample perplexity within a factor
    ``band`` of theirs (if no row is, the rows meeting the adherence condition; if none does, all
    rows). Among them, the rows within one standard error of the lowest judge accuracy are tied; of
    those, the one whose sample perplexity is closest to the real windows' (on a log scale).
    """
    if not rows:
        raise ValueError("no rows to choose from")

    def near(row: dict) -> float:
        return abs(math.log(row["sample_perplexity"] / real["sample_perplexity"]))

    adherent = [r for r in rows if r["genre_adherence"] >= real["genre_adherence"]]
    eligible = [r for r in adherent if near(r) <= math.log(band)] or adherent or list(rows)
    best = min(eligible, key=lambda r: r["judge_accuracy"])
    tied = [r for r in eligible if r["judge_accuracy"] <= best["judge_accuracy"] + best["judge_standard_error"]]
    return min(tied, key=near)


def settings_of(row: dict) -> tuple[float, float, float]:
    """A row's (temperature, top-p, guidance)."""
    return (row["temperature"], row["top_p"], row["guidance"])


# --- the run --------------------------------------------------------------------------------------


def run(model_dir: str | None = None, quick: bool = False, seed: int = 0, windows: int | None = None,
        progress: Callable[[str], None] | None = None) -> dict:
    """The sweep on the validation songs' windows, the choice, and the test songs' figures beside it.

    ``windows``: at most that many windows per split (a seeded sample; default: every window, 800 when ``quick``).
    ``progress`` receives a line per row (default: printed).
    """
    progress = progress or functools.partial(print, flush=True)
    import os

    from bench import adherence as ad
    from bench.models import trained_model_dir
    from core.config import DEFAULT_GUIDANCE, DEFAULT_TEMPERATURE, DEFAULT_TOP_P
    from core.dataset import split_frame
    from core.evaluation.evaluate import shipped_table
    from core.generation.loading import load_generator

    started = time.perf_counter()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    folder = trained_model_dir(model_dir)
    if folder is None:
        raise SystemExit("no trained model: train one or give --model DIR")
    generator = load_generator(folder)
    frame = shipped_table()
    limit = windows if windows is not None else 800 if quick else None
    genre_judge = ad.train_judge(split_frame(frame, "train"), "genre", max_rows=10000 if quick else 40000, seed=seed)
    grid = QUICK_GRID if quick else GRID

    validation = real_windows(split_frame(frame, "validation"), limit, seed)
    validation_features = validation.features()
    real_validation = reference(generator, genre_judge, validation)
    progress(f"validation: {real_validation['count']} windows of {real_validation['songs']} songs, sample perplexity "
             f"{real_validation['sample_perplexity']:.2f}, genre ceiling {_pct(real_validation['genre_adherence'])}")
    rows = []
    for settings in grid:
        rows.append(measure(generator, genre_judge, validation, validation_features, settings, seed + 1))
        progress(_line(rows[-1]) + f"  (load {os.getloadavg()[0]:.1f})")
    chosen = choose(rows, real_validation)
    current = (DEFAULT_TEMPERATURE, DEFAULT_TOP_P, DEFAULT_GUIDANCE)

    test = real_windows(split_frame(frame, "test"), limit, seed)
    test_features = test.features()
    real_test = reference(generator, genre_judge, test)
    test_rows = {}
    for name, settings in (("chosen", settings_of(chosen)), ("raw", RAW), ("current_defaults", current)):
        known = next((r for r in test_rows.values() if settings_of(r) == settings), None)
        test_rows[name] = known or measure(generator, genre_judge, test, test_features, settings, seed + 1)
        progress(f"test {name}: " + _line(test_rows[name]))
    return {"model": str(folder), "quick": quick, "seed": seed, "windows_limit": limit, "judge": {"folds": FOLDS, "c": JUDGE_C,
                                                                          "features": "key-relative chord 1-3-grams"},
            "rule": {"perplexity_band": PERPLEXITY_BAND}, "real_validation": real_validation, "rows": rows,
            "chosen": {"temperature": chosen["temperature"], "top_p": chosen["top_p"], "guidance": chosen["guidance"]},
            "real_test": real_test, "test": test_rows, "current_defaults": list(current),
            "load_average_at_start": load_at_start, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "seconds": time.perf_counter() - started}


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _line(row: dict) -> str:
    return (f"T {row['temperature']:g} top-p {row['top_p']:g} guidance {row['guidance']:g}: judge "
            f"{_pct(row['judge_accuracy'])} ± {_pct(row['judge_standard_error'])}, sample perplexity "
            f"{row['sample_perplexity']:.2f}, genre adherence {_pct(row['genre_adherence'])}")


def table(report: dict) -> list[str]:
    """The sweep as a Markdown table (chosen row in bold), the real windows last."""
    chosen = settings_of({**report["chosen"]})
    lines = ["| T | top-p | guidance | judge accuracy | sample perplexity | genre adherence |",
             "|---:|---:|---:|---:|---:|---:|"]
    for row in report["rows"]:
        cells = [f"{row['temperature']:g}", f"{row['top_p']:g}", f"{row['guidance']:g}",
                 f"{_pct(row['judge_accuracy'])} ± {_pct(row['judge_standard_error'])}", f"{row['sample_perplexity']:.2f}",
                 f"{_pct(row['genre_adherence'])}"]
        if settings_of(row) == chosen:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    real = report["real_validation"]
    lines.append(f"| real validation windows | | | (50 %) | {real['sample_perplexity']:.2f} | "
                 f"(ceiling {_pct(real['genre_adherence'])}) |")
    return lines


def results(report: dict) -> list:
    """:class:`bench.timing.Result` rows of results.json (group ``realism``): the test songs' judge accuracy at the
    chosen row and at the current defaults, each beside the raw model measured in the same run (%, lower is better)."""
    from bench.timing import Result

    raw = report["test"]["raw"]
    real = report["real_test"]
    load = f"load average {report['load_average_at_start']}–{report['load_average_at_end']}"
    entries = []
    for name, label in (("chosen", "the recommended defaults"), ("current_defaults", "the current defaults")):
        row = report["test"][name]
        spread = float(np.subtract(*np.percentile(row["judge_fold_accuracies"], [75, 25])))
        entries.append(Result(
            name=f"realism_judge_{name}_test_pct", group="realism",
            description=f"real-vs-generated judge accuracy at {label} (T {row['temperature']:g}, top-p "
                        f"{row['top_p']:g}, guidance {row['guidance']:g}), test songs' windows (%; 50 = indistinguishable)",
            unit="%", median=100 * row["judge_median"], spread=100 * spread, repeats=FOLDS,
            baseline="raw model (T 1, top-p 1, guidance 0)", baseline_median=100 * raw["judge_median"],
            target="near 50 %",
            notes=(f"median of {FOLDS} song-grouped folds; pooled {_pct(row['judge_accuracy'])} ± "
                   f"{_pct(row['judge_standard_error'])} (raw {_pct(raw['judge_accuracy'])} ± "
                   f"{_pct(raw['judge_standard_error'])}); "
                   f"sample perplexity {row['sample_perplexity']:.2f} (raw {raw['sample_perplexity']:.2f}, real "
                   f"{real['sample_perplexity']:.2f}); genre adherence {_pct(row['genre_adherence'])} (ceiling "
                   f"{_pct(real['genre_adherence'])}); {row['count']} windows of {real['songs']} songs; chosen on "
                   f"the validation songs; model {report['model']}; {load}"),
            extra={"pooled": row["judge_accuracy"], "standard_error": row["judge_standard_error"],
                   "sample_perplexity": row["sample_perplexity"], "genre_adherence": row["genre_adherence"]},
        ))
    return entries


def record(report: dict) -> Path:
    """Store :func:`results` in bench/results.json (the other groups kept) and render results.md; its path.

    ``report`` is :func:`run`'s (or the JSON it wrote, read back), so a finished run can be recorded later.
    """
    from bench import results_store

    meta = {**results_store.machine(), "quick": report["quick"], "seconds": report["seconds"],
            "load_average_at_start": report["load_average_at_start"],
            "load_average_at_end": report["load_average_at_end"], "sections": ["realism"]}  # the run's, not now
    entries = [r.to_dict() for r in results(report)]
    payload = results_store.speed_payload(meta, entries, results_store.read_json(results_store.RESULTS_JSON), {"realism"})
    return results_store.save(results_store.RESULTS_JSON, payload)


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write :data:`OUTPUT` (and, with ``--record``, the results store)."""
    from bench import results_store

    parser = argparse.ArgumentParser(prog="python -m bench.realism", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="trained model folder (default: models/default)")
    parser.add_argument("--quick", action="store_true", help="800 windows per split, 8 rows, a smaller genre judge")
    parser.add_argument("--windows", type=int, help="at most this many windows per split (default: all; 800 quick)")
    parser.add_argument("--record", action="store_true", help="store the test figures in bench/results.json")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"the report's JSON (default {OUTPUT})")
    parser.add_argument("--from-report", type=Path, help="read a finished run's JSON instead of running (to --record it)")
    args = parser.parse_args(argv)
    if args.from_report is not None:
        report = results_store.read_json(args.from_report)
    else:
        report = run(args.model, quick=args.quick, windows=args.windows)
        results_store.write_json(args.output, report)
    print("\n".join(table(report)))
    chosen = report["chosen"]
    print(f"chosen: T = {chosen['temperature']:g}, top-p = {chosen['top_p']:g}, guidance = {chosen['guidance']:g}")
    if args.record:
        print(f"recorded in {record(report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
