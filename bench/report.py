"""bench/results.md's text from the stored figures: every section's tables, made from plain data.

The renderer only: it is handed the contents of results.json, recipes.json and quality.json
(:func:`bench.results_store.render` reads them and writes the file) and imports none of the modules
that measure, so a section's table is rewritten without running anything.
"""

from __future__ import annotations

import math

#: published figures on other corpora, shown beside ours and marked as such.
ANCHORS: tuple[tuple[str, str, str, str, str], ...] = (
    ("ChordSeqAI — GRU", "22k songs (ChordSeqAI corpus)", "56.6–60.2 %", "—", "other corpus, other vocabulary"),
    ("ChordSeqAI — Transformer-L", "22k songs (ChordSeqAI corpus)", "76.9 %", "2.42", "other corpus, other vocabulary"),
    ("Chordonomicon transformer", "Chordonomicon (~680k songs)", "60.1 %", "—", "other corpus, other vocabulary"),
)


def format_number(value: float | None, unit: str = "") -> str:
    """A figure with sensible precision for a table (``—`` for missing)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or value != value else f"{100 * value:.{digits}f} %"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def _change(reduction: float) -> str:
    return f"{100 * abs(reduction):.1f} % " + ("lower" if reduction >= 0 else "higher")


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def speed_markdown(results: dict) -> list[str]:
    """The speed/memory tables."""
    meta = results["meta"]
    lines = [
        "## Speed and memory (`python -m bench" + (" --quick" if meta.get("quick") else "") + "`)",
        "",
        f"{meta['date']} · {meta['cpu']} · {meta['cores']} cores · {meta['memory_gib']} GiB · Python {meta['python']} · "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + f" · load average (1/5/15 min) at start {meta['load_average_at_start']}, at end {meta.get('load_average_at_end', '—')}"
        + f" · total {meta.get('seconds', 0):.0f} s",
        "",
        "The machine is shared (other sessions' tests and trainings run beside the benchmarks): a load average above "
        "2 means the benchmarks did not have the 2 cores to themselves, and throughput figures suffer most.",
        "",
        "Median of the repeats after a warm-up; spread = interquartile range (max − min under 4 repeats). "
        "Ratio = times better than the baseline measured in the same run (> 1: better).",
        "",
    ]
    group = None
    for item in results["benchmarks"]:
        if item["group"] != group:
            group = item["group"]
            lines += ["", f"### {group}", "",
                      "| benchmark | median | spread | baseline | baseline median | ratio | target | notes |",
                      "|---|---:|---:|---|---:|---:|---|---|"]
        unit = item["unit"]
        ratio = "—" if item["ratio"] is None else f"{item['ratio']:.2f}×"
        lines.append(
            f"| {item['description']} | {format_number(item['median'], unit)} | ±{format_number(item['spread'])} | "
            f"{item['baseline']} | {format_number(item['baseline_median'], unit)} | {ratio} | {item.get('target') or ''} | "
            f"{item.get('notes', '')} |"
        )
    return lines


def quality_markdown(quality: dict) -> list[str]:
    """The quality and conditioning tables."""
    meta = quality["meta"]
    evaluation = quality["evaluation"]
    genres = [g for g, n in sorted(evaluation["genre_tokens"].items(), key=lambda kv: -kv[1])]
    lines = [
        "## Model quality on the test songs (`python -m bench quality" + (" --quick" if meta.get("quick") else "") + "`)",
        "",
        f"{meta['date']} · {meta['cpu']} · {meta['cores']} cores · default model: `{quality['default_model']}`",
        "",
        f"{evaluation['test_songs']} test songs, {evaluation['test_windows']} windows, {evaluation['test_tokens']:,} "
        "target tokens (chords + END). Perplexity = exp(mean cross-entropy per token). Training time is the run's own "
        "wall time on this 2-core CPU (budget in brackets); n-grams fit in seconds.",
        "",
        "| model | top-1 | top-5 | perplexity | " + " | ".join(f"ppl {g}" for g in genres) + " | training | best val loss |",
        "|---|---:|---:|---:|" + "---:|" * len(genres) + "---|---:|",
    ]
    for row in evaluation["rows"]:
        m, training = row["metrics"], row["training"]
        per = " | ".join(_num(row["per_genre"].get(g, {}).get("perplexity")) for g in genres)
        if training.get("note"):
            time_text = f"{training['seconds']:.1f} s (fit)"
        elif training:
            budget = f" [budget {training['max_minutes']:g} min]" if training.get("max_minutes") else ""
            time_text = f"{_minutes(training.get('seconds'))}, {training.get('epochs')} ep{budget}"
        else:
            time_text = "—"
        lines.append(f"| {row['label']} | {_pct(m['top1'])} | {_pct(m['top5'])} | {_num(m['perplexity'])} | {per} "
                     f"| {time_text} | {_num(training.get('best_val_loss'), 3)} |")
    curve = evaluation.get("default_curve") or []
    budgets = sorted({row["training"]["max_minutes"] for row in evaluation["rows"]
                      if row["training"].get("max_minutes") and row["source"] != quality.get("default_model")})
    for budget in budgets:
        within = [p for p in curve if p["elapsed"] is not None and p["elapsed"] <= budget * 60 and p["val_loss"] is not None]
        if within:
            best = min(within, key=lambda p: p["val_loss"])
            lines += ["", f"Same budget for the default: its best val loss within {budget:g} min of training was "
                          f"{best['val_loss']:.3f} (epoch {best['epoch']}), to set beside the variants' best val loss."]
        else:
            lines += ["", f"Same budget for the default: it had not finished an epoch within {budget:g} min."]
    lines += ["", "Per-genre tokens: " + ", ".join(f"{g} {evaluation['genre_tokens'][g]:,}" for g in genres), ""]
    goal = evaluation.get("goals", {})
    if goal:
        lines += [
            f"- Perplexity vs best n-gram ({goal['best_ngram_perplexity']['label']}, "
            f"{goal['best_ngram_perplexity']['value']:.2f}): {_change(goal['perplexity_reduction'])} — goal ≥ 15 % lower: "
            f"**{'met' if goal['perplexity_goal_met'] else 'not met'}**",
            f"- Top-1 vs best n-gram ({goal['best_ngram_top1']['label']}, {_pct(goal['best_ngram_top1']['value'])}): "
            f"{goal['top1_gain_points']:+.1f} points — goal ≥ +5: **{'met' if goal['top1_goal_met'] else 'not met'}**",
        ]
        if "conditioning_perplexity_reduction" in goal:
            lines.append(f"- Conditioning: perplexity {_change(goal['conditioning_perplexity_reduction'])} than with every "
                         f"condition unspecified — **{'met' if goal['conditioning_goal_met'] else 'not met'}**")
    lines += ["", "Training blanks each condition independently with probability 0.1 (condition dropout), so the model has "
              "seen one condition open often but all four open together almost never (~0.01 % of windows): the "
              "single-condition rows are in-distribution, the all-unspecified row is not and overstates what the "
              "conditions buy. A model trained without conditions would be the clean comparison."]
    lines += ["", "### Published anchors (other corpora — not comparable one-for-one)", "",
              "| model | corpus | top-1 | perplexity | note |", "|---|---|---:|---:|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in ANCHORS]
    if quality.get("conditioning"):
        lines += conditioning_markdown(quality["conditioning"])
    if quality.get("guidance"):
        lines += guidance_markdown(quality["guidance"])
    if quality.get("calibration"):
        lines += calibration_markdown(quality["calibration"])
    if quality.get("transfer"):
        lines += transfer_markdown(quality["transfer"])
    if quality.get("strategies"):
        lines += strategies_markdown(quality["strategies"])
    kept = quality.get("kept") or {}
    if kept:
        lines += ["", "Sections kept from earlier runs (`--only`): "
                  + ", ".join(f"{name} ({date})" for name, date in sorted(kept.items())) + "."]
    return lines


def calibration_markdown(report: dict) -> list[str]:
    """Raw vs calibrated genre/mood posteriors on the test songs, and the two example cases."""
    origin = ("as stored beside the model (fitted on the validation songs)" if report["stored"]
              else "fitted here on the validation songs (none stored)")
    lines = [
        "", "### Calibrated genre and mood fits (`score --rank`, Analyze)", "",
        f"Model `{report['model']}`; calibration {origin}: "
        "posterior ∝ exp(log-likelihood / (T · max(1, chords / n0)^a)). Scored on the test songs' openings of "
        f"{', '.join(str(n) for n in report['openings'])} chords (other conditions open). ECE: 10 equal-width bins of the top "
        f"value's probability. A fit is clear when the top value is at least {report['clear_fit_ratio']:g}× the runner-up. "
        f"{report['seconds']:.0f} s.",
        "",
        "| condition | T | a | n0 | openings | ECE raw → calibrated | NLL raw → calibrated | accuracy | "
        "mean confidence raw → calibrated | clear fits raw → calibrated | accuracy when clear (calibrated) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in report["test"].items():
        before, after = row["before"], row["after"]
        lines.append(
            f"| {name} | {row['temperature']:.3f} | {row['length_exponent']:g} | {row.get('length_floor', 1)} | "
            f"{after['rows']:,} | "
            f"{_pct(before['ece'])} → {_pct(after['ece'])} | {_num(before['nll'], 3)} → {_num(after['nll'], 3)} | "
            f"{_pct(after['accuracy'])} | {_pct(before['mean_confidence'])} → {_pct(after['mean_confidence'])} | "
            f"{_pct(before['clear_share'])} → {_pct(after['clear_share'])} | {_pct(after['accuracy_when_clear'])} |")
    lengths = sorted({int(n) for row in report["test"].values() for n in row["per_length"]})
    lines += ["", "ECE per opening length (raw → calibrated)", "",
              "| condition | " + " | ".join(f"{n} chords" for n in lengths) + " |", "|---|" + "---:|" * len(lengths)]
    for name, row in report["test"].items():
        cells = [row["per_length"].get(str(n)) for n in lengths]
        lines.append(f"| {name} | " + " | ".join(f"{_pct(c['before'])} → {_pct(c['after'])}" if c else "—" for c in cells)
                     + " |")
    if report.get("examples"):
        lines += ["", "| progression | raw top 3 | calibrated top 3 | clear fit |", "|---|---|---|---|"]
        for label, row in report["examples"].items():
            def top(pairs: list) -> str:
                return ", ".join(f"{value} {_pct(p, 0)}" for value, p in pairs)
            rank = f" (pop ranked {row['pop_rank']} raw)" if row.get("pop_rank") else ""
            lines.append(f"| {label}{rank} | {top(row['raw_top'])} | {top(row['calibrated_top'])} | "
                         f"{row['clear_fit'] or 'no clear fit'} |")
    return lines


def guidance_markdown(report: dict) -> list[str]:
    """The guidance sweep: adherence, mood gap, fluency and copying per weight, and the chosen default."""
    settings, ceilings, choice = report["settings"], report["ceilings"], report["choice"]
    corpus = report["corpus_sad_minus_happy"]
    lines = [
        "", "### Guidance sweep (classifier-free guidance on genre and mood)", "",
        f"Model `{report['model']}`; {settings['per_value']} progressions per requested value at every weight (ten genres "
        "with mood open, four moods with genre open; T = 1, up to 11 chords; the same seeds at every weight), genre and "
        f"mood guided with the same w. Judges as in the conditioning control (≤ {settings['judge_rows']:,} train windows). "
        f"Ceilings (balanced accuracy on real test windows): genre {_pct(ceilings['genre']['balanced_accuracy'])} "
        f"(ten genres), {_pct(ceilings['genre_largest']['balanced_accuracy'])} (five largest: "
        f"{', '.join(ceilings['genre_largest']['values'])}), mood {_pct(ceilings['mood']['balanced_accuracy'])}. "
        f"Corpus sad − happy minor-chord share: {100 * corpus['train']:+.1f} points in the training windows "
        f"({100 * corpus['test']:+.1f} in the test windows). Sample perplexity is under the unguided model (its own "
        f"probabilities with the requested conditions). Real test windows copy "
        f"{_pct(report['real_test_copying']['copied_4grams'])} of their 4-grams and "
        f"{_pct(report['real_test_copying']['copied_progressions'])} of whole progressions from the training windows. "
        f"{report['seconds']:.0f} s.",
        "",
        "| w | genre adherence (10) | genre adherence (5 largest) | mood adherence | minor share sad / happy | "
        "sad − happy | sample perplexity | × w=0 | 4-grams copied (exact) | (any key) | progressions copied |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["rows"]:
        lines.append(
            f"| {row['weight']:g} | {_pct(row['genre_adherence'])} | {_pct(row['genre_adherence_largest'])} | "
            f"{_pct(row['mood_adherence'])} | {_pct(row['minor_share']['sad'])} / {_pct(row['minor_share']['happy'])} | "
            f"{100 * row['sad_minus_happy']:+.1f} | {_num(row['sample_perplexity'])} | {_num(row['perplexity_ratio'])} | "
            f"{_pct(row['copied_4grams'])} | {_pct(row['copied_4grams_any_key'])} | {_pct(row['copied_progressions'])} |")
    lines += ["", "| target | needed | " + " | ".join(f"w={w}" for w in choice["targets"]) + " |",
              "|---|---:|" + "---|" * len(choice["targets"])]
    labels = {"genre_at_ceiling": ("genre adherence ≥ ceiling", _pct(choice["genre_ceiling"])),
              "mood_gap_twice_corpus": ("sad − happy ≥ 2 × corpus gap", f"{100 * choice['mood_gap_needed']:+.1f} pts"),
              "perplexity_within_limit": ("sample perplexity ≤ 1.5 × w=0", "1.5×"),
              "copies_no_more_than_real": ("whole progressions copied ≤ real test windows",
                                           _pct(choice["real_copied_progressions"]))}
    for key, (label, needed) in labels.items():
        lines.append(f"| {label} | {needed} | " + " | ".join("met" if flags[key] else "—" for flags in choice["targets"].values())
                     + " |")
    lines += ["", f"**Chosen default: w = {choice['weight']:g}** — {choice['reason']}."]
    return lines


def conditioning_markdown(report: dict) -> list[str]:
    """Judge accuracies, per-value hit rates, mood and scale profiles, sample statistics, temperature sweep."""
    settings = report["settings"]
    lines = [
        "", "### Conditioning control", "",
        f"Model `{report['model']}`; {settings['per_value']} generated progressions per requested value (other conditions "
        f"open, T = 1, up to 11 chords, END decides), {settings['unconditioned']} unconditioned. Judges: logistic regression "
        "on Roman-numeral unigrams/bigrams in the key read from the chords (+ minor share, variety), trained on "
        f"≤ {settings['judge_rows']:,} train windows, class-balanced. Ceiling = balanced accuracy on real test windows; "
        "adherence = mean hit rate over requested values (balanced by construction); floor = the same with unconditioned "
        "samples (equals chance when the judge's guesses are spread, higher when it always says one value).",
        "",
        "| condition | values | ceiling (real test) | adherence (generated) | floor (unconditioned) | chance |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for condition, judge in report["judges"].items():
        lines.append(f"| {condition} | {len(judge['values'])} | {_pct(judge['test_ceiling']['balanced_accuracy'])} | "
                     f"{_pct(judge['adherence'])} | {_pct(judge['floor'])} | {_pct(judge['chance'])} |")
    for condition, judge in report["judges"].items():
        lines += ["", f"Per requested {condition}: judge says it (generated with it requested) vs (unconditioned samples)", "",
                  f"| {condition} | test windows | requested → judged | unconditioned → judged |", "|---|---:|---:|---:|"]
        for value, row in judge["per_value"].items():
            lines.append(f"| {value} | {judge['test_counts'].get(value, 0):,} | {_pct(row['requested_hit_rate'])} | "
                         f"{_pct(row['unconditioned_rate'])} |")
    profile = report["mood_profile"]
    lines += ["", "Mood profile: minor-chord share and chord-change variety (distinct chords / chords)", "",
              "| mood | real test minor share | generated minor share | real test variety | generated variety |",
              "|---|---:|---:|---:|---:|"]
    for mood, real in profile["real_test"].items():
        generated = profile["generated"].get(mood, {})
        lines.append(f"| {mood} | {_pct(real['minor_share'])} | {_pct(generated.get('minor_share'))} | "
                     f"{_num(real['variety'])} | {_num(generated.get('variety'))} |")
    none = profile["unconditioned"].get("(none)", {})
    lines.append(f"| (unconditioned) | — | {_pct(none.get('minor_share'))} | — | {_num(none.get('variety'))} |")
    scale = report["scale_minor_share"]
    lines += ["", "| scale type | real test minor share | generated minor share |", "|---|---:|---:|"]
    for name in ("major", "minor"):
        lines.append(f"| {name} | {_pct(scale[name]['real_test'])} | {_pct(scale[name]['generated'])} |")
    lines.append(f"| (unconditioned) | — | {_pct(scale['unconditioned']['generated'])} |")
    samples = report["samples"]
    novelty = samples["novelty"]
    lines += ["", f"Sample statistics ({samples['count']:,} generated progressions; real test windows for reference)", "",
              "| measure | generated | real test windows |", "|---|---:|---:|"]
    rows = [
        ("4-grams found in training windows (exact)", "copied_4grams"),
        ("4-grams found in training windows (any key)", "copied_4grams_any_key"),
        ("whole progressions = a training window (exact)", "copied_progressions"),
        ("whole progressions = a training window (any key)", "copied_progressions_any_key"),
    ]
    for label, key in rows:
        lines.append(f"| {label} | {_pct(novelty['generated'][key])} | {_pct(novelty['real test windows'][key])} |")
    lines.append(f"| immediate-repeat rate | {_pct(samples['immediate_repeat_rate']['generated'], 2)} | "
                 f"{_pct(samples['immediate_repeat_rate']['real test'], 2)} |")
    in_key = samples["in_key_rate"]
    generated_keys = ", ".join(f"{k.split()[-1]}: {_pct(v)}" for k, v in in_key.items() if k.startswith("generated"))
    lines.append(f"| in-key rate (chords inside the requested / labelled key's scale) | {generated_keys} | "
                 f"{_pct(in_key['real test windows (labelled key)'])} |")
    lines.append(f"| mean length (chords) | {_num(samples['mean_length']['generated'], 1)} | "
                 f"{_num(samples['mean_length']['real test'], 1)} |")
    lines += ["", f"Temperature sweep ({settings['sweep_per_genre']} samples per genre at each T)", "",
              "| T | sample perplexity (model, T = 1) | 4-grams copied (exact) | 4-grams copied (any key) | "
              "progressions copied (exact) | genre adherence | immediate repeats |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for temperature, row in report["temperature_sweep"].items():
        lines.append(f"| {temperature} | {_num(row['sample_perplexity'])} | {_pct(row['copied_4grams'])} | "
                     f"{_pct(row['copied_4grams_any_key'])} | {_pct(row['copied_progressions'])} | "
                     f"{_pct(row['genre_adherence'])} | {_pct(row['immediate_repeat_rate'], 2)} |")
    return lines


def recipes_markdown(report: dict) -> list[str]:
    """The recipe table for bench/results.md."""
    most = max((len(row["curve"]) for row in report["rows"]), default=0)
    shown = min(most, 14)
    lines = ["", "### Recipe experiments (validation loss per epoch, full corpus; `python -m bench.recipes`)", "",
             "Each run trained alone under the training lock on the shared 2-core machine; `cpu s/epoch` is the trainer's "
             "own CPU time per epoch (all threads, load-proof), `load` the 1-minute load average at its epochs. "
             f"Target: validation loss <= {report['target']}.", "",
             "| recipe | " + " | ".join(f"ep {i}" for i in range(1, shown + 1))
             + " | best (epochs run) | epochs to target | cpu s/epoch | load |",
             "|---|" + "---:|" * shown + "---:|---:|---:|---|"]
    for row in report["rows"]:
        values = {p["epoch"]: p["val_loss"] for p in row["curve"]}
        cells = [f"{values[i]:.3f}" if values.get(i) is not None else "" for i in range(1, shown + 1)]
        cpu = [p["cpu_s"] for p in row["curve"] if p["cpu_s"] is not None]
        loads = [p["load"] for p in row["curve"] if p["load"] is not None]
        lines.append(f"| {row['label']} | " + " | ".join(cells) + f" | {row['best_val_loss']:.3f} ({len(row['curve'])}) "
                     + f"| {row['epochs_to_target'] or 'not in ' + str(len(row['curve']))} | "
                     + (f"{sorted(cpu)[len(cpu) // 2]:.0f}" if cpu else "—") + " | "
                     + (f"{min(loads):.0f}–{max(loads):.0f}" if loads else "—") + " |")
    return lines


def transfer_markdown(report: dict) -> list[str]:
    """The transfer table for bench/results.md."""
    ratio = f" Perplexity ratio default ÷ fine-tuned: **{report['ratio']:.2f}×**." if report.get("ratio") else ""
    lines = [
        "", f"### Transfer learning: {report['genre']} ({report['test_songs']} test songs, {report['test_tokens']} chord tokens)",
        "",
        f"The default (sha256 `{report['default_sha256']}`) fine-tuned on the {report['genre']} songs for "
        f"{report['minutes']:g} minutes, against the default as it is and a model trained on the {report['genre']} songs "
        f"only for the same time.{ratio}",
        "", "| model | top-1 | top-5 | perplexity | epochs | stopped by |", "|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        if row.get("missing"):
            lines.append(f"| {row['label']} | — | — | — | — | not trained |")
            continue
        m, t = row["metrics"], row.get("training", {})
        lines.append(f"| {row['label']} | {m['top1']:.1%} | {m['top5']:.1%} | {m['perplexity']:.2f} | "
                     f"{t.get('epochs', '—')} | {t.get('reason') or '—'} |")
    loads = "; ".join(f"{t['run']}: load {t['load_before'][0]} → {t['load_after'][0]}, {t['wall_s']:.0f} s wall"
                      for t in report["trainings"])
    lines += ["", f"Machine load (1-minute average) around each training: {loads}."]
    return lines


def _verdict(row: dict) -> str:
    """In words, against the plain run: perplexity (lower is better) and top-1 (higher is better) together."""
    ppl, top1 = row["perplexity_change"], row["top1_change_points"]
    if abs(ppl) < 0.01 and abs(top1) < 0.5:
        return "no measurable difference"
    if ppl < 0 and top1 >= 0:
        return "better"
    if ppl > 0 and top1 <= 0:
        return "worse"
    return "mixed"


def strategies_markdown(report: dict) -> list[str]:
    """The strategies table for bench/results.md."""
    settings = report["settings"]
    genres = sorted({g for row in report["rows"] for g in row["per_genre"]})
    lines = [
        "", "### Training strategies at equal compute (`bench quality --only strategies`)", "",
        f"Each run: the studio's default recipe for {settings['epochs']} epochs over the full training split (the "
        f"ensemble's {settings['members']} members {settings['epochs'] // settings['members']} epochs each, other seeds), "
        "scored on the test songs by the NumPy decoder. Equal compute stands for equal wall time: wall seconds on this "
        "shared machine are listed with the load average during each run. "
        f"{report['seconds'] / 60:.0f} min in all, load average at the end {report['load_average_at_end']}.",
        "",
        "| strategy | top-1 | perplexity | vs plain | " + " | ".join(f"ppl {g}" for g in genres)
        + " | epochs | wall | load | verdict |",
        "|---|---:|---:|---|" + "---:|" * len(genres) + "---:|---:|---|---|",
    ]
    for row in report["rows"]:
        m, training = row["metrics"], row["training"]
        load = training.get("load_average")
        cells = [f"{row['per_genre'][g]['perplexity']:.2f}" if g in row["per_genre"] else "—" for g in genres]
        change = "—" if row is report["rows"][0] else (f"ppl {100 * row['perplexity_change']:+.1f} %, "
                                                      f"top-1 {row['top1_change_points']:+.1f} pts")
        lines.append(f"| {row['label']} | {100 * m['top1']:.1f} % | {m['perplexity']:.2f} | {change} | " + " | ".join(cells)
                     + f" | {training.get('epochs') or '—'} | "
                     + (f"{training['seconds'] / 60:.1f} min" if training.get("seconds") else "—")
                     + f" | {f'{load[0]:.0f}–{load[1]:.0f}' if load else '—'} | "
                     + ("—" if row is report["rows"][0] else _verdict(row)) + " |")
    return lines


def results_markdown(results: dict, recipes: dict, quality: dict) -> str:
    """The whole of bench/results.md from results.json, recipes.json and quality.json (any of them may be empty)."""
    lines = ["# Chordsmith benchmarks", "", "Produced by `python -m bench` (speed, memory) and `python -m bench quality` "
             "(model quality, conditioning control); do not edit by hand.", ""]
    if results:
        lines += speed_markdown(results) + [""]
    if recipes:
        lines += recipes_markdown(recipes) + [""]
    if quality:
        lines += quality_markdown(quality) + [""]
    return "\n".join(lines)
