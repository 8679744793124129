"""The Generate page's path: corpus and model load in a fresh process, then generate + notation SVG + WAV for 4 samples.

Fresh-process figures run ``python -m bench.app_path --child MODE`` in a subprocess and read the
seconds it reports (measured inside the child with ``perf_counter``, imports included,
interpreter start-up excluded; the child's whole wall time is kept in ``extra``):

* corpus load: :func:`core.corpus.table.load_table` (strings kept as strings); baseline:
  ``pd.read_csv`` with pandas' default type inference;
* model load: :func:`core.generation.loading.load_generator` (the framework-free weights beside
  the model file into the NumPy decoder; no TensorFlow); baseline: :func:`core.model.load_model`
  (TensorFlow import included) plus the first ``model.predict`` a page without the fast decoder
  would need before it could answer.

Warm in-process figure: 4 samples of 8 chords (the page's default) generated, engraved as SVG
(music21 + verovio) and rendered as WAV; baseline: the same with the naive ``model.predict``
loop generating.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.models import trained_model_dir
from bench.timing import Result, Stats, measure

GROUP = "app path"
SAMPLES = 4
LENGTH = 8
REPO = Path(__file__).resolve().parent.parent


def _child(mode: str, model_dir: str | None) -> dict:
    """Run in the fresh process: time one load and report it."""
    start = time.perf_counter()
    if mode == "corpus":
        from core.corpus.table import load_table

        rows = len(load_table())
    elif mode == "corpus-naive":
        import pandas as pd

        from core.paths import CORPUS_TABLE

        rows = len(pd.read_csv(CORPUS_TABLE))
    elif mode == "model":
        from core.generation.loading import load_generator

        generator = load_generator(model_dir)
        rows = generator.decoder.vocab_size
    elif mode == "model-naive":
        from core.dataset import CHORD_INPUT, CONDITION_INPUTS
        from core.model import load_model

        model = load_model(model_dir, compile=False)
        inputs = {CHORD_INPUT: np.ones((1, int(model.inputs[0].shape[1])), dtype=np.int32),
                  **{name: np.zeros((1, 1), dtype=np.int32) for name in CONDITION_INPUTS.values()}}
        rows = int(model.predict(inputs, verbose=0).shape[-1])
    else:
        raise ValueError(f"unknown child mode {mode!r}")
    return {"seconds": time.perf_counter() - start, "rows": rows}


def fresh_process(mode: str, model_dir: str | None, repeats: int) -> tuple[Stats, float]:
    """Median seconds of ``mode`` over ``repeats`` fresh processes, and the median whole-process wall time."""
    inner, outer = [], []
    command = [sys.executable, "-m", "bench.app_path", "--child", mode]
    if model_dir is not None:
        command += ["--model", str(model_dir)]
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        outer.append(time.perf_counter() - start)
        inner.append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
    return Stats.of(inner), Stats.of(outer).median


def render(chords, key) -> tuple[int, int]:
    """SVG notation and WAV for one progression (what the page shows and plays); returns their sizes."""
    from core.notation.score import build_score
    from core.notation.svg import to_svg
    from core.notation.wav import to_wav

    svg = to_svg(build_score(chords, title=" ".join(c.symbol for c in chords), key=key))
    wav = to_wav(chords)
    return len(svg), len(wav)


def run(repeats: int, fresh_repeats: int, model_dir: str | None = None) -> list[Result]:
    """Every page-path figure (module docstring)."""
    from bench.generation import naive_progressions
    from core.conditions import Conditions
    from core.config import MODEL_DISTRIBUTION
    from core.generation.generate import generate
    from core.generation.loading import load_generator
    from core.notation.wav import synth_backend
    from core.vocabulary import VOCAB

    results: list[Result] = []
    corpus, corpus_wall = fresh_process("corpus", None, fresh_repeats)
    corpus_naive, _ = fresh_process("corpus-naive", None, fresh_repeats)
    results.append(Result.from_stats(
        "app_corpus_load_s", GROUP, "corpus table load in a fresh process (imports included)", "s", corpus,
        "pd.read_csv with default type inference", corpus_naive,
        notes=f"whole child process incl. interpreter start: {corpus_wall:.2f} s", extra={"process_wall_s": corpus_wall},
    ))
    folder = trained_model_dir(model_dir)
    if folder is None:
        return results  # nothing trained: no model to load or generate with
    model, model_wall = fresh_process("model", str(folder), fresh_repeats)
    model_naive, _ = fresh_process("model-naive", str(folder), fresh_repeats)
    results.append(Result.from_stats(
        "app_model_load_s", GROUP, "model load to first answer in a fresh process (imports included)", "s", model,
        "keras load_model + first model.predict", model_naive,
        notes=f"model {folder}; whole child process: {model_wall:.2f} s", extra={"process_wall_s": model_wall},
    ))

    generator = load_generator(folder)
    conditions = Conditions.parse(genre="pop", mood="happy", key="C")
    key = (conditions.tonic, conditions.mode)
    rng = np.random.default_rng(0)
    parts: dict[str, list[float]] = {"generate": [], "render": []}

    def page() -> None:
        start = time.perf_counter()
        samples = generate(generator, conditions, length=LENGTH, num_samples=SAMPLES, random_seed=int(rng.integers(1 << 30)),
                           guidance=0.0, **MODEL_DISTRIBUTION)
        generated = time.perf_counter()
        for sample in samples:
            render(sample.chords, key)
        parts["generate"].append(generated - start)
        parts["render"].append(time.perf_counter() - generated)

    def naive_page() -> None:
        for row in naive_progressions(generator_model, SAMPLES, rng, LENGTH):
            render([VOCAB.chord(t) for t in row], key)

    from core.model import load_model

    generator_model = load_model(folder, compile=False)
    stats = measure(page, repeats)
    naive = measure(naive_page, max(2, repeats // 2))
    generate_ms, render_ms = (float(np.median(parts[k][1:]) * 1000) for k in ("generate", "render"))
    results.append(Result.from_stats(
        "app_generate_render_4_ms", GROUP, f"generate {SAMPLES} x {LENGTH} chords + SVG notation + WAV, warm", "ms",
        stats.scaled(1000.0), "same page with the naive model.predict generator", naive.scaled(1000.0),
        notes=f"generate {generate_ms:.1f} ms + SVG and WAV {render_ms:.0f} ms; synth: {synth_backend()}",
        extra={"generate_ms": generate_ms, "render_ms": render_ms, "synth": synth_backend()},
    ))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="fresh-process child of the app-path benchmark")
    parser.add_argument("--child", required=True)
    parser.add_argument("--model")
    args = parser.parse_args()
    print(json.dumps(_child(args.child, args.model)))


if __name__ == "__main__":
    main()
