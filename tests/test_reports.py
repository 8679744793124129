"""The reports after training (issue 23, item 9): their own progress and ETA, a Stop that ends them, no STOP left.

The evaluation tells its share done into ``phase.json`` (the Training page's ETA for it); a stop
request before or during the reports ends them at the next step; the trainer answers the request and
leaves no ``STOP`` file in the run folder (nor in its zip).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.evaluation import reports
from core.evaluation.evaluate import evaluate_model
from core.run_files import METRICS_FILE, STOP_FILE, request_stop
from core.training.run_folder import phase_time_left, read_metrics, read_phase, write_launch, write_phase
from core.training.train import train
from tests.progression_frames import progression_frame
from tests.test_train import _config


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    write_launch(folder, 1000.0)
    return folder


def test_the_evaluation_reports_its_share_done_and_a_stop_ends_it(run_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    shares: list[float | None] = []
    samples: list[Path] = []

    def evaluation(folder: Path, progress) -> None:
        progress(0.25)
        shares.append(read_phase(folder).get("done"))
        request_stop(folder)  # the user clicks Stop while the test songs are scored
        progress(0.5)
        shares.append(read_phase(folder).get("done"))  # never reached

    monkeypatch.setattr(reports, "evaluate_run", evaluation)
    monkeypatch.setattr(reports, "write_generated_samples", samples.append)
    assert reports.write_run_reports(run_dir) == [reports.STOPPED_REPORTS]
    assert shares == [0.25] and samples == []


def test_a_stop_before_the_reports_skips_them(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    monkeypatch.setattr(reports, "evaluate_run", lambda folder, progress: called.append("evaluate"))
    monkeypatch.setattr(reports, "write_generated_samples", lambda folder: called.append("samples"))
    request_stop(run_dir)
    assert reports.write_run_reports(run_dir) == [reports.STOPPED_REPORTS] and called == []
    (run_dir / STOP_FILE).unlink()
    assert reports.write_run_reports(run_dir) == [] and called == ["evaluate", "samples"]


def test_the_phase_eta_follows_the_share_done(run_dir: Path) -> None:
    write_phase(run_dir, "evaluating")
    since = read_phase(run_dir)["since"]
    assert phase_time_left(run_dir, since + 10) is None  # nothing done yet: no ETA to give
    reports.write_phase_progress(run_dir, 0.25)
    assert phase_time_left(run_dir, since + 10) == pytest.approx(30.0)  # 10 s for a quarter: 30 s for the rest
    write_phase(run_dir, "sampling")
    assert "done" not in read_phase(run_dir)  # a new phase starts from nothing done


def test_evaluate_model_reports_every_step_up_to_the_whole() -> None:
    from test_evaluate import FRAME, stub_predictor

    shares: list[float] = []
    evaluate_model(stub_predictor(), FRAME, progress=shares.append)
    assert shares == sorted(shares) and shares[-1] == 1.0 and len(shares) >= 5


def test_a_stop_during_the_reports_leaves_no_stop_file_and_says_so(tmp_path: Path) -> None:
    def stopped_reports(folder: Path) -> list[str]:
        request_stop(folder)
        return [reports.STOPPED_REPORTS]

    run_dir = train(_config(write_reports=True, max_train_windows=16), frame=progression_frame(2),
                    run_dir=tmp_path / "stopped", reports=stopped_reports)
    assert not (run_dir / STOP_FILE).exists()
    closing = read_metrics(run_dir)[-1]
    assert closing["status"] == "finished" and "stop requested during the reports" in closing["reason"]
    assert closing["report_errors"] == [reports.STOPPED_REPORTS]
    assert json.loads((run_dir / METRICS_FILE).read_text().splitlines()[-1]) == closing
