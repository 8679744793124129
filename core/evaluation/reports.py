"""The reports written into a run folder after training: its test results and a few samples.

Why a module of its own, in ``evaluation``: the trainer (:mod:`core.training.train`) sits below
evaluation and generation and must not import them; whoever starts a training and wants the
reports (the command line's ``train``, which the studio's runs also go through) hands
:func:`write_run_reports` to ``train(..., reports=...)``. The trainer calls it after the model is
saved and before the run's closing line, so a run reads "finished" only once its reports exist.
"""

from __future__ import annotations

from pathlib import Path

from core.evaluation.evaluate import evaluate_run
from core.generation.run_samples import write_generated_samples
from core.training.run_folder import write_phase


def write_run_reports(run_dir: Path) -> list[str]:
    """Write ``test_results.json`` and ``generated_samples.json`` into ``run_dir``.

    Each report is announced in ``phase.json`` (evaluating, then sampling) so the Training page can
    say what the run is doing. Returns the problems met, one line each: a failing report is
    recorded in ``metrics.jsonl`` by the trainer but does not fail the training run.
    """
    problems = []
    for name, phase, report in (("evaluate_run", "evaluating", evaluate_run),
                                ("write_generated_samples", "sampling", write_generated_samples)):
        write_phase(run_dir, phase)
        try:
            report(run_dir)
        except Exception as exc:  # recorded in metrics.jsonl, training itself succeeded
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    return problems
