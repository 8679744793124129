"""Transfer learning on one genre: the default fine-tuned on its songs against the default as it is and a genre-only model.

    python -m bench quality --only transfer [--quick]
    python -m bench.transfer [--minutes 2] [--genre jazz]   # this section alone, without waiting for an idle machine

Two trainings, one after the other, each with the same wall-clock budget (``minutes``, 2 by
default; the trainer stops at the end of the batch during which the budget runs out):

* **fine-tuned**: ``core train --init-from <default> --genre jazz --lr 3e-4`` (the default's
  architecture and weights, a lower learning rate), every other setting the studio's default;
* **from scratch**: ``core train --genre jazz`` (the studio's default recipe on the genre's songs
  only), same budget.

All three models are scored on the genre's test songs with :func:`core.evaluation.evaluate.evaluate_model`
(top-1, top-5 and perplexity per chord token), the default's own score being the baseline of the
fine-tuned row (``ratio`` = the default's perplexity ÷ the fine-tuned model's: above 1 is better).
Each training takes the machine's training lock (waiting while another training holds it) and
records the load average before and after it. The runs land in ``output/runs/bench-transfer-*``
and are replaced on every run of this section. ``python -m bench.transfer`` runs the section alone
and merges it into ``bench/quality.json`` (the other sections kept), as ``--only transfer`` does.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: the learning rate the fine-tuning run uses (the default's own was 1e-3).
FINE_TUNE_LR = 3e-4


@dataclass(frozen=True)
class TransferSettings:
    """The genre, the budget of each training, and the run names."""

    genre: str = "jazz"
    minutes: float = 2.0

    def run_name(self, kind: str) -> str:
        return f"bench-transfer-{kind}-{self.genre}"


def _launch(name: str, flags: str, minutes: float) -> int:
    """``core train`` for one run under the training lock (taken here, handed to the trainer); its exit status."""
    from core.training.lock import TrainingBusy, acquire_training_lock

    command = [sys.executable, "-m", "core", "train", "--run-name", name, "--max-minutes", str(minutes), "--no-reports",
               *shlex.split(flags)]
    while True:
        try:
            held = acquire_training_lock(name)
            break
        except TrainingBusy:
            time.sleep(10)  # another training took the machine: wait for it
    print(f"[transfer] {time.strftime('%H:%M:%S')} {' '.join(command)}", flush=True)
    try:
        child = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent, env={**os.environ, **held.child_env()},
                                 pass_fds=(held.fd,))
    except BaseException:
        held.release()
        raise
    held.hand_over()
    return child.wait()


def _train(name: str, flags: str, minutes: float) -> dict:
    """One training under the lock, with the load average around it; its run folder replaced first."""
    from core.paths import RUNS_DIR

    shutil.rmtree(RUNS_DIR / name, ignore_errors=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    status = _launch(name, flags, minutes)
    return {"run": name, "flags": flags, "exit": status, "wall_s": round(time.perf_counter() - started, 1),
            "load_before": load_before, "load_after": [round(x, 2) for x in os.getloadavg()]}


def _trained(folder: Path) -> dict:
    """Epochs, training seconds and stop reason from a run's metrics.jsonl."""
    from core.training.run_folder import epoch_records, read_metrics

    records = read_metrics(folder)
    epochs = epoch_records(records)
    final = records[-1] if records else {}
    return {"epochs": len(epochs), "train_s": epochs[-1].get("elapsed") if epochs else None,
            "reason": final.get("reason", ""), "best_val_loss": final.get("best_val_loss")}


def run(default_dir: Path, settings: TransferSettings = TransferSettings()) -> dict:
    """Train the two runs, score the three models on the genre's test songs; the ``transfer`` section of quality.json."""
    from core.evaluation.evaluate import evaluate_model, shipped_table
    from core.paths import RUNS_DIR
    from core.training.run_data import select_subset
    from core.training.transfer import short_hash

    default_file = Path(default_dir) / "model.keras"
    tune = settings.run_name("finetune")
    scratch = settings.run_name("scratch")
    trainings = [
        _train(tune, f"--init-from {default_dir} --genre {settings.genre} --lr {FINE_TUNE_LR}", settings.minutes),
        _train(scratch, f"--genre {settings.genre}", settings.minutes),
    ]
    frame = select_subset(shipped_table(), {"genre": settings.genre})
    rows = []
    for label, folder in ((f"default ({default_dir})", Path(default_dir)),
                          (f"default fine-tuned on {settings.genre}, {settings.minutes:g} min", RUNS_DIR / tune),
                          (f"{settings.genre} only, from scratch, {settings.minutes:g} min", RUNS_DIR / scratch)):
        if not (folder / "model.keras").exists():
            rows.append({"label": label, "model": str(folder), "missing": True})
            continue
        results = evaluate_model(folder, frame)
        rows.append({"label": label, "model": str(folder), "metrics": results["models"]["lstm"],
                     **({} if folder == Path(default_dir) else {"training": _trained(folder)})})
    base, tuned = rows[0].get("metrics"), rows[1].get("metrics")
    return {
        "genre": settings.genre, "minutes": settings.minutes, "default_sha256": short_hash(default_file),
        "test_songs": int(frame.loc[frame["split"] == "test", "song_id"].nunique()),
        "test_tokens": base["tokens"] if base else None, "rows": rows, "trainings": trainings,
        "ratio": base["perplexity"] / tuned["perplexity"] if base and tuned else None,
        "units": "per chord token on the genre's test songs; ratio = default perplexity / fine-tuned perplexity",
    }


def main(argv: list[str] | None = None) -> int:
    """Run this section alone and merge it into bench/quality.json (the other sections kept)."""
    from bench import results_store
    from bench.models import trained_model_dir
    from bench.report import transfer_markdown

    parser = argparse.ArgumentParser(prog="python -m bench.transfer", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=TransferSettings.minutes, help="budget of each training")
    parser.add_argument("--genre", default=TransferSettings.genre)
    parser.add_argument("--model", help="model folder to fine-tune (default: models/default)")
    args = parser.parse_args(argv)
    default_dir = trained_model_dir(args.model)
    if default_dir is None:
        print("no trained model: pass --model", file=sys.stderr)
        return 2
    section = run(default_dir, TransferSettings(genre=args.genre, minutes=args.minutes))
    section = {**section, "machine": results_store.machine(), "load_average_at_end": results_store.load_average_now()}
    results_store.save_section(results_store.QUALITY_JSON, "transfer", section)
    print("\n".join(transfer_markdown(section)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
