"""``python -m bench``: speed and memory benchmarks; ``python -m bench quality``: model quality and conditioning control.

    python -m bench [--quick] [--only generation,training,levers,time_to_quality,app,memory,inference,page,api_load,
                     api_burst,song,visitors,realism]
                    [--model DIR]
    python -m bench quality [--quick] [--model DIR] [--no-conditioning | --reuse-conditioning]
                            [--only evaluation,conditioning,guidance,calibration,strategies,transfer]

Speed results go to ``bench/results.json`` (one object per benchmark: ``name``, ``median``,
``unit``, ``baseline_median``, ``ratio`` and more), quality results to ``bench/quality.json``;
``bench/results.md`` is rendered from both. Benchmarks are not tests: nothing here asserts a time.
``--quick`` keeps the speed run under about two minutes (fewer repeats, smaller samples, no
memory, time-to-quality, page, visitors or realism section); the full run stays under about ten
minutes on a 2-core CPU plus the realism sweep (:mod:`bench.realism`: sampling defaults judged
real-vs-generated, about ten minutes more) and the time-to-quality trainings (two from-scratch
trainings on the full corpus, capped at 30 and 45 minutes; ``--only time_to_quality`` runs them alone). ``--only`` runs some
sections and keeps the others from the previous file (when it is for the same model), marked
with the date of the run that measured them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import results_store
from bench.results_store import QUALITY_SECTIONS, SECTIONS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _speed(args: argparse.Namespace) -> int:
    from bench.timing import Result

    started = time.perf_counter()
    slow = {"memory", "time_to_quality", "page", "visitors", "realism"} if args.quick else set()
    only = set(args.only.split(",")) if args.only else set(SECTIONS) - slow
    unknown = only - set(SECTIONS)
    if unknown:
        print(f"unknown section(s): {', '.join(sorted(unknown))}; accepted: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    meta = {**results_store.machine(), "quick": args.quick}
    results: list[Result] = []
    previous = results_store.read_json(results_store.RESULTS_JSON)  # its other sections are kept under --only

    def save() -> None:
        meta["seconds"] = time.perf_counter() - started
        meta["load_average_at_end"] = results_store.load_average_now()
        meta["sections"] = sorted(only)
        payload = results_store.speed_payload(meta, [r.to_dict() for r in results], previous,
                                              only if args.only else None)
        results_store.save(results_store.RESULTS_JSON, payload)

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

    from bench import (
        api_burst,
        api_load,
        app_path,
        generate_page,
        generation,
        inference,
        memory,
        realism,
        song,
        training,
        visitors,
    )

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
    section("page", lambda: generate_page.run(repeats=3 if args.quick else 5, model_dir=args.model))
    section("api_load", lambda: api_load.run(requests=300 if args.quick else 1000, model_dir=args.model))
    section("api_burst", lambda: api_burst.run(model_dir=args.model))
    section("song", lambda: song.run(repeats=3 if args.quick else 7, model_dir=args.model, songs=12 if args.quick else 40))
    section("visitors", lambda: visitors.run(model_dir=args.model))
    section("realism", lambda: realism.results(realism.run(args.model)))
    save()
    print(f"wrote {results_store.RESULTS_JSON} and {results_store.RESULTS_MD} ({meta['seconds']:.0f} s)")
    return 0


def _quality_sections(args: argparse.Namespace) -> set[str] | None:
    """The quality sections to run (``None``: an unknown name, reported on stderr)."""
    only = set(args.only.split(",")) if args.only else set(QUALITY_SECTIONS)
    unknown = only - set(QUALITY_SECTIONS)
    if unknown:
        print(f"unknown section(s): {', '.join(sorted(unknown))}; accepted: {', '.join(QUALITY_SECTIONS)}", file=sys.stderr)
        return None
    return only - ({"conditioning"} if args.no_conditioning or args.reuse_conditioning else set())


def _quality(args: argparse.Namespace) -> int:
    from bench import conditioning, guidance, quality
    from bench.models import trained_model_dir

    started = time.perf_counter()
    only = _quality_sections(args)
    if only is None:
        return 2
    default_dir = trained_model_dir(args.model)  # after the wait: a training may just have written models/default
    if default_dir is None:
        print("no trained model: train models/default (python -m core train --reproduce-default) or pass --model",
              file=sys.stderr)
        return 2
    meta = {**results_store.machine(), "quick": args.quick, "sections": sorted(only)}
    payload = results_store.quality_payload(meta, str(default_dir), results_store.read_json(results_store.QUALITY_JSON),
                                            only)

    def save() -> None:
        meta["seconds"] = time.perf_counter() - started
        meta["load_average_at_end"] = results_store.load_average_now()
        results_store.save(results_store.QUALITY_JSON, payload)

    if "evaluation" in only:
        print(f"[quality] evaluating {default_dir} and variants on the test split …", flush=True)
        payload["evaluation"] = quality.evaluate_all(default_dir, quality.variant_dirs())
        for row in payload["evaluation"]["rows"]:
            m = row["metrics"]
            print(f"  {row['label']:<46} top1 {m['top1']:.3f}  top5 {m['top5']:.3f}  ppl {m['perplexity']:.2f}", flush=True)
        save()
    if "conditioning" in only:
        print("[quality] conditioning control …", flush=True)
        settings = (conditioning.ConditioningSettings(per_value=40, unconditioned=80, sweep_per_genre=20, judge_rows=8000)
                    if args.quick else conditioning.ConditioningSettings())
        payload["conditioning"] = conditioning.run(default_dir, settings)
        save()
    if "guidance" in only:
        print("[quality] guidance sweep …", flush=True)
        settings = (guidance.GuidanceSettings(per_value=40, judge_rows=8000) if args.quick
                    else guidance.GuidanceSettings(per_value=args.per_value or guidance.GuidanceSettings.per_value))
        payload["guidance"] = guidance.run(default_dir, settings)
        save()
    if "strategies" in only:
        print("[quality] training strategies at equal compute (trains the runs it lacks) …", flush=True)
        from bench import strategies

        payload["strategies"] = strategies.run()
        save()
    if "transfer" in only:
        print("[quality] transfer: the default fine-tuned on jazz, against jazz only from scratch (trains both) …", flush=True)
        from bench import transfer

        payload["transfer"] = transfer.run(default_dir, transfer.TransferSettings(minutes=0.5 if args.quick else 2.0))
        save()
    if "calibration" in only:
        print("[quality] calibration of the genre/mood ranking …", flush=True)
        from bench import calibration

        payload["calibration"] = calibration.run(default_dir)
        save()
    save()
    print(f"wrote {results_store.QUALITY_JSON} and {results_store.RESULTS_MD} ({meta['seconds']:.0f} s)")
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
        parser.add_argument("--no-conditioning", action="store_true",
                            help="skip the conditioning-control report (the previous one is kept for the same model)")
        parser.add_argument("--reuse-conditioning", action="store_true",
                            help="keep the conditioning-control report of bench/quality.json when it is for the same model")
        parser.add_argument("--only", help=f"comma-separated sections: {','.join(QUALITY_SECTIONS)} (others are kept)")
        parser.add_argument("--per-value", type=int, help="guidance sweep: samples per requested value (default 200)")
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
