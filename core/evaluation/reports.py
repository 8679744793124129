"""The reports written into a run folder after training: its test results and a few samples.

Why a module of its own, in ``evaluation``: the trainer (:mod:`core.training.train`) sits below
evaluation and generation and must not import them; whoever starts a training and wants the
reports (the command line's ``train``, which the studio's runs also go through) hands
:func:`write_run_reports` to ``train(..., reports=...)``. The trainer calls it after the model is
saved and before the run's closing line, so a run reads "finished" only once its reports exist.

The evaluation reports its share done into ``phase.json`` (the Training page's ETA for it), and a
stop request (the run folder's ``STOP``) ends the reports at the next model scored: a stopped run
has its model saved and no test results, which the Evaluation page computes on request.
"""

from __future__ import annotations

from pathlib import Path

from core.evaluation.evaluate import evaluate_run
from core.generation.run_samples import write_generated_samples
from core.run_files import STOP_FILE
from core.training.run_folder import write_phase, write_phase_progress

#: the line a run's reports leave in ``metrics.jsonl`` when a stop request ended them.
STOPPED_REPORTS = "stopped before the test results and samples: compute them on the Evaluation page"


class ReportsStopped(Exception):
    """A stop request arrived while the reports were being written."""


def _evaluation_progress(run_dir: Path):
    """The progress callback of the evaluation: records the share done, and ends it when a stop is requested."""
    def report(done: float) -> None:
        if (run_dir / STOP_FILE).exists():
            raise ReportsStopped
        write_phase_progress(run_dir, done)

    return report


def write_run_reports(run_dir: Path) -> list[str]:
    """Write ``test_results.json`` and ``generated_samples.json`` into ``run_dir``.

    Each report is announced in ``phase.json`` (evaluating, then sampling) so the Training page can
    say what the run is doing. Returns the problems met, one line each: a failing report is
    recorded in ``metrics.jsonl`` by the trainer but does not fail the training run. A stop
    request, before or during them, ends them (:data:`STOPPED_REPORTS` is the line returned).
    """
    run_dir = Path(run_dir)
    problems = []
    reports = (("evaluate_run", "evaluating", lambda: evaluate_run(run_dir, progress=_evaluation_progress(run_dir))),
               ("write_generated_samples", "sampling", lambda: write_generated_samples(run_dir)))
    for name, phase, report in reports:
        if (run_dir / STOP_FILE).exists():
            return [*problems, STOPPED_REPORTS]
        write_phase(run_dir, phase)
        try:
            report()
        except ReportsStopped:
            return [*problems, STOPPED_REPORTS]
        except Exception as exc:  # recorded in metrics.jsonl, training itself succeeded
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    return problems
