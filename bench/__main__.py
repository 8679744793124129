"""``python -m bench``: speed and memory benchmarks; ``python -m bench quality``: model quality and conditioning control.

    python -m bench [--quick] [--only generation,training,levers,time_to_quality,app,memory,inference] [--model DIR]
    python -m bench quality [--quick] [--model DIR] [--no-conditioning | --reuse-conditioning]

Speed results go to ``bench/results.json`` (one object per benchmark: ``name``, ``median``,
``unit``, ``baseline_median``, ``ratio`` and more), quality results to ``bench/quality.json``;
``bench/results.md`` is rendered from both. Benchmarks are not tests: nothing here asserts a time.
``--quick`` keeps the speed run under about two minutes (fewer repeats, smaller samples, no
memory and no time-to-quality section); the full run stays under about ten minutes on a 2-core CPU
plus the time-to-quality trainings (two from-scratch trainings on the full corpus, capped at 30 and
45 minutes; ``--only time_to_quality`` runs them alone).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTIONS: tuple[str, ...] = ("generation", "training", "levers", "time_to_quality", "app", "memory", "inference")


def _speed(args: argparse.Namespace) -> int:
    from bench import report
    from bench.timing import Result

    started = time.perf_counter()
    only = set(args.only.split(",")) if args.only else set(SECTIONS) - ({"memory", "time_to_quality"} if args.quick else set())
    unknown = only - set(SECTIONS)
    if unknown:
        print(f"unknown section(s): {', '.join(sorted(unknown))}; accepted: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    meta = {**report.machine(), "quick": args.quick}
    results: list[Result] = []
    previous = json.loads(report.RESULTS_JSON.read_text(encoding="utf-8")) if report.RESULTS_JSON.exists() else {}

    def save() -> None:
        meta["seconds"] = time.perf_counter() - started
        meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        meta["sections"] = sorted(only)
        benchmarks = [r.to_dict() for r in results]
        if args.only and previous:  # keep the other sections of the file as it was before this run, marked as such
            kept = [{**b, "notes": b.get("notes", "") if "(from the run of" in b.get("notes", "")
                     else f"{b.get('notes', '')} (from the run of {previous['meta']['date']})".strip()}
                    for b in previous.get("benchmarks", []) if _section_of(b) not in only]
            benchmarks = sorted(benchmarks + kept, key=lambda b: SECTIONS.index(_section_of(b)))
        report.write_json(report.RESULTS_JSON, {"meta": meta, "benchmarks": benchmarks})
        report.render()

    def section(name: str, function) -> None:
        if name not in only:
            return
        print(f"[bench] {name} …", flush=True)
        section_start = time.perf_counter()
        for result in function():
            results.append(result)
            ratio = "—" if result.ratio is None else f"{result.ratio:.2f}x"
            print(f"  {result.name}: {result.median:.4g} {result.unit} (±{result.spread:.2g}) | baseline "
                  f"{result.baseline_median if result.baseline_median is None else f'{result.baseline_median:.4g}'} | "
                  f"ratio {ratio}", flush=True)
        print(f"  ({time.perf_counter() - section_start:.0f} s)", flush=True)
        save()  # after every section, so a later failure keeps what was measured

    from bench import app_path, generation, inference, memory, training

    section("generation", lambda: generation.run(
        generation.GenerationSettings(repeats=7 if args.quick else 25, naive_repeats=2 if args.quick else 5), args.model))
    section("training", lambda: training.run(training.TrainingSettings(
        train_windows=512 if args.quick else 2048, repeats=1 if args.quick else 3,
        starvation_steps=30 if args.quick else 100)))
    section("levers", lambda: training.lever_rows(training.train_sample(512 if args.quick else 2048), 1 if args.quick else 2))
    section("time_to_quality", lambda: training.time_to_quality(training.TimeToQualitySettings()))
    section("app", lambda: app_path.run(repeats=3 if args.quick else 7, fresh_repeats=1 if args.quick else 3,
                                        model_dir=args.model))
    section("memory", lambda: memory.run(train_minutes=0.3 if args.quick else 0.5, model_dir=args.model))
    section("inference", lambda: inference.run(repeats=3 if args.quick else 5, model_dir=args.model))
    save()
    print(f"wrote {report.RESULTS_JSON} and {report.RESULTS_MD} ({meta['seconds']:.0f} s)")
    return 0


def _section_of(benchmark: dict) -> str:
    """The section a results.json entry came from (its group; "app path" is the ``app`` section)."""
    return {"app path": "app", "training levers": "levers", "time to quality": "time_to_quality"}.get(
        benchmark["group"], benchmark["group"])


def _quality(args: argparse.Namespace) -> int:
    from bench import conditioning, quality, report
    from bench.models import trained_model_dir

    started = time.perf_counter()
    default_dir = trained_model_dir(args.model)  # after the wait: a training may just have written models/default
    if default_dir is None:
        print("no trained model: train models/default (python -m core train --reproduce-default) or pass --model",
              file=sys.stderr)
        return 2
    meta = {**report.machine(), "quick": args.quick}
    print(f"[quality] evaluating {default_dir} and variants on the test split …", flush=True)
    evaluation = quality.evaluate_all(default_dir, quality.variant_dirs())
    for row in evaluation["rows"]:
        m = row["metrics"]
        print(f"  {row['label']:<46} top1 {m['top1']:.3f}  top5 {m['top5']:.3f}  ppl {m['perplexity']:.2f}", flush=True)
    payload = {"meta": meta, "default_model": str(default_dir), "evaluation": evaluation}
    previous = json.loads(report.QUALITY_JSON.read_text(encoding="utf-8")) if report.QUALITY_JSON.exists() else {}
    if args.reuse_conditioning and previous.get("conditioning") and previous.get("default_model") == str(default_dir):
        print("[quality] conditioning control: kept from the previous run (same default model)", flush=True)
        payload["conditioning"] = previous["conditioning"]
    elif not args.no_conditioning:
        print("[quality] conditioning control …", flush=True)
        settings = (conditioning.ConditioningSettings(per_value=40, unconditioned=80, sweep_per_genre=20, judge_rows=8000)
                    if args.quick else conditioning.ConditioningSettings())
        payload["conditioning"] = conditioning.run(default_dir, settings)
    meta["seconds"] = time.perf_counter() - started
    report.write_json(report.QUALITY_JSON, payload)
    print(f"wrote {report.QUALITY_JSON} and {report.render()} ({meta['seconds']:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the speed benchmarks or the quality report."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = "quality" if argv[:1] == ["quality"] else "speed"
    if command == "quality":
        argv = argv[1:]
    parser = argparse.ArgumentParser(prog="python -m bench" + (" quality" if command == "quality" else ""),
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller, faster run")
    parser.add_argument("--model", help="model folder (default: models/default, else the newest run)")
    if command == "speed":
        parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
        parser.add_argument("--no-wait", action="store_true", help="start even while a training runs")
    else:
        parser.add_argument("--no-conditioning", action="store_true", help="skip the conditioning-control report")
        parser.add_argument("--reuse-conditioning", action="store_true",
                            help="keep the conditioning-control report of bench/quality.json when it is for the same model")
    args = parser.parse_args(argv)
    if command == "speed" and args.no_wait:
        return _speed(args)
    from bench.variants import machine_for_benchmark

    print("[bench] waiting until no training and no other benchmark runs (timings on a shared 2-core CPU mean little, "
          "and a training's budget is wall-clock) …", flush=True)
    with machine_for_benchmark():
        return _speed(args) if command == "speed" else _quality(args)


if __name__ == "__main__":
    sys.exit(main())
