"""Hardening of the data build, the output paths and training writes (issue 13, parts 1, 5 and 6).

Data build: a truncated JSON says where it breaks off, a bad When-in-Rome numeral and a bad token in
an unused RS200 macro are reported with file and line, free-midi-chords ids do not shift after a
skipped line, the report holds every skipped line and the console says where. Output folders blocked
by a file fail at once with one ``error:`` line. A full disk mid-training leaves no partial file, a
loadable best checkpoint and one line naming the disk.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import paths
from core.cli import main
from core.corpus import free_midi_chords, jazz_standards, rs200, when_in_rome
from core.corpus.build import SOURCES, build_corpus, parse_sources
from core.corpus.rows import BuildReport
from core.corpus.table import load_table
from core.errors import EnvironmentFault, InputError
from core.run_files import (
    BEST_CHECKPOINT,
    CONFIG_FILE,
    METRICS_FILE,
    MODEL_FILE,
    append_jsonl,
    write_json_atomic,
)
from tests.sample_corpus import write_sample_table

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


def _sources_with(tmp_path: Path, replaced: str) -> Path:
    """A sources folder linking every fixture source except ``replaced``, which is an empty folder to fill."""
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in SOURCES:
        if name == replaced:
            (sources / name).mkdir()
        else:
            (sources / name).symlink_to(FIXTURES / name, target_is_directory=True)
    return sources / replaced


def _error_lines(captured: str) -> list[str]:
    lines = captured.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured
    return lines


# --------------------------------------------------------------------------- data build reports


def test_truncated_jazz_json_says_where_it_breaks_off(tmp_path: Path) -> None:
    folder = _sources_with(tmp_path, "jazz-standards")
    text = (FIXTURES / "jazz-standards" / jazz_standards.FILE_NAME).read_text(encoding="utf-8")
    (folder / jazz_standards.FILE_NAME).write_text(text[: len(text) // 2], encoding="utf-8")
    report = BuildReport()
    with pytest.raises(InputError) as raised:
        parse_sources(folder.parent, report, log=lambda _: None)
    message = str(raised.value)
    assert "jazz-standards gave no songs" in message
    assert "invalid JSON at line" in message and "column" in message
    assert f"{folder / jazz_standards.FILE_NAME}:" in message


def test_bad_when_in_rome_numeral_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    piece = tmp_path / "Early_Choral" / "Bach,_Johann_Sebastian" / "Chorales" / "1"
    piece.mkdir(parents=True)
    analysis = piece / "analysis.txt"
    analysis.write_text("Composer: J. S. Bach\nTitle: Test\nTime Signature: 4/4\n\n"
                        "m1 C: I b3 V\nm2 I b2 Qz7 b3 IV\nm3 V7 b3 I ||\n", encoding="utf-8")
    report = BuildReport()
    songs = when_in_rome.parse(tmp_path, report, workers=1)
    assert len(songs) == 1
    [skipped] = report.skipped["when-in-rome"]
    assert skipped.startswith(f"{analysis}:6: m2 ") and "'Qz7'" in skipped
    assert "no key in force" not in skipped


def test_when_in_rome_parse_failure_is_one_line_with_the_line_music21_names() -> None:
    error = Exception("At line 28 for token <RTMeasure 42>, an exception was raised: \nTraceback (most recent call last):\n"
                      '  File "translate.py", line 381, in translateTokens\nRomanTextTranslateException: too many notes')
    line, reason = when_in_rome.parse_failure(error)
    assert line == 28
    assert "\n" not in reason and "Traceback" not in reason and reason.endswith("too many notes")


def test_bad_token_in_an_unused_rs200_macro_is_reported(tmp_path: Path) -> None:
    harmony = tmp_path / "rs200_harmony"
    harmony.mkdir()
    text = (FIXTURES / "rs200" / "rs200_harmony" / "1999_tdc.har").read_text(encoding="utf-8")
    lines = text.splitlines()
    (harmony / "1999_tdc.har").write_text("\n".join([*lines, "Unused: I Qq7 | $Nowhere"]) + "\n", encoding="utf-8")
    report = BuildReport()
    assert rs200.parse(tmp_path, report)
    skipped = report.skipped["rs200"]
    where = f"{harmony / '1999_tdc.har'}:{len(lines) + 1}:"
    assert any(s.startswith(where) and "'Qq7'" in s and "unused macro Unused" in s for s in skipped)
    assert any(s.startswith(where) and "$Nowhere" in s for s in skipped)


def test_free_midi_ids_do_not_shift_after_a_skipped_line(tmp_path: Path) -> None:
    before = {song.song_id: song.title for song in free_midi_chords.parse(FIXTURES / "free-midi-chords", BuildReport())}
    lines = (FIXTURES / "free-midi-chords" / free_midi_chords.FILE_NAME).read_text(encoding="utf-8").splitlines()
    assert lines[2].strip().startswith('"I I IM-5')  # the first entry of prog_maj
    lines[2] = "    I I IM-5 IM-5,  # unquoted: not a progression string"
    lines.insert(4, "    # a comment and a blank line take no number")
    lines.insert(5, "")
    (tmp_path / free_midi_chords.FILE_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = BuildReport()
    after = {song.song_id: song.title for song in free_midi_chords.parse(tmp_path, report)}
    assert len(report.skipped["free-midi-chords"]) == 1
    assert after == {song_id: title for song_id, title in before.items() if song_id != "free-midi-chords:maj-001"}


def test_report_holds_every_skipped_line_and_the_console_says_where(tmp_path: Path) -> None:
    folder = _sources_with(tmp_path, "free-midi-chords")
    lines = (FIXTURES / "free-midi-chords" / free_midi_chords.FILE_NAME).read_text(encoding="utf-8").splitlines()
    lines[3:3] = [f'    "I Xq{n} V =Sad",' for n in range(5)]  # inside prog_maj
    (folder / free_midi_chords.FILE_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    logged: list[str] = []
    build_corpus(folder.parent, tmp_path / "out" / "table.csv.gz", log=logged.append)
    report = json.loads((tmp_path / "out" / "build_report.json").read_text(encoding="utf-8"))
    listed = report["sources"]["free-midi-chords"]["skipped_lines"]
    assert len(listed) == report["sources"]["free-midi-chords"]["skipped"] == 5
    assert [f"Xq{n}" in line for n, line in enumerate(listed)] == [True] * 5
    shown = [line for line in logged if line.startswith("  skipped in free-midi-chords:")]
    assert len(shown) == 3 and "  ... and 2 more skipped in free-midi-chords" in logged
    assert any(line.startswith("all ") and str(tmp_path / "out" / "build_report.json") in line for line in logged)


# --------------------------------------------------------------------------- output folders and unreadable files


def test_data_build_out_under_a_file_fails_before_parsing(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    # --sources does not exist: were --out checked only at the write, this would be the error instead
    assert main(["data", "build", "--sources", str(tmp_path / "missing"), "--out", str(blocker / "t.csv.gz")]) == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert "--out" in line and f"{blocker} is a file" in line


def test_summary_diagram_into_a_blocked_path_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["summary", "--diagram", str(blocker / "d.svg")]) == 2
    assert "--diagram" in _error_lines(capsys.readouterr().err)[0]
    assert main(["summary", "--diagram", str(tmp_path)]) == 2
    assert "is a folder" in _error_lines(capsys.readouterr().err)[0]
    monkeypatch.setattr(paths, "OUTPUT_DIR", blocker)  # CHORDSMITH_OUTPUT pointing at a file
    assert main(["summary"]) == 1
    assert f"{blocker} is a file" in _error_lines(capsys.readouterr().err)[0]


@pytest.mark.parametrize("blocked", ["output", "runs/x", "runs/x/checkpoints"])
def test_train_into_a_folder_blocked_by_a_file_is_one_line(tmp_path: Path, capsys, monkeypatch, blocked: str) -> None:
    out = tmp_path / "output"
    monkeypatch.setattr(paths, "OUTPUT_DIR", out)
    monkeypatch.setattr(paths, "RUNS_DIR", out / "runs")
    blocker = tmp_path / blocked if blocked == "output" else out / blocked
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("x", encoding="utf-8")
    assert main(["train", "--run-name", "x", "--epochs", "1"]) == 1
    assert f"{blocker} is a file" in _error_lines(capsys.readouterr().err)[0]
    assert not (out / "runs" / "x" / METRICS_FILE).exists()


def test_unreadable_corpus_table_is_an_environment_fault(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.csv.gz"
    garbage.write_bytes(b"not gzip at all")
    good = write_sample_table(tmp_path / "good.csv.gz")
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(good.read_bytes()[:-20])
    for path in (garbage, truncated, tmp_path):
        with pytest.raises(EnvironmentFault, match="cannot be read"):
            load_table(path)


@pytest.mark.parametrize("damaged", ["table", "report"])
def test_data_stats_on_damaged_files_is_one_line(tmp_path: Path, damaged: str) -> None:
    table = write_sample_table(tmp_path / "progressions.csv.gz")
    if damaged == "table":
        table.write_bytes(b"\x1f\x8b garbage")
    else:
        (tmp_path / "build_report.json").write_text('{"sources": {"pop909": {"songs": 1', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "core", "data", "stats"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "CHORDSMITH_CORPUS": str(table)}, timeout=120)
    assert done.returncode == 1
    assert "cannot be read" in _error_lines(done.stderr)[0]


# --------------------------------------------------------------------------- a full disk mid-training


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_leaves_json_and_metrics_as_they_were(tmp_path: Path, monkeypatch) -> None:
    config, metrics = tmp_path / CONFIG_FILE, tmp_path / METRICS_FILE
    write_json_atomic(config, {"epochs": 1})
    append_jsonl(metrics, {"status": "started"})
    monkeypatch.setattr(os, "fsync", _disk_full)
    with pytest.raises(OSError):
        write_json_atomic(config, {"epochs": 2})
    with pytest.raises(OSError):
        append_jsonl(metrics, {"status": "running", "epoch": 1})
    assert json.loads(config.read_text(encoding="utf-8")) == {"epochs": 1}
    assert metrics.read_text(encoding="utf-8") == '{"status": "started"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == [CONFIG_FILE, METRICS_FILE]


def test_full_disk_mid_table_write_keeps_the_old_table(tmp_path: Path, monkeypatch) -> None:
    from core.corpus.table import write_table
    from tests.sample_corpus import sample_frame

    table = write_sample_table(tmp_path / "progressions.csv.gz")
    before = table.read_bytes()

    def half_written(self, data):
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
        _disk_full()

    monkeypatch.setattr(Path, "write_bytes", half_written)
    with pytest.raises(OSError):
        write_table(sample_frame().iloc[:3], table)
    monkeypatch.undo()
    assert table.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["progressions.csv.gz"]


def test_full_disk_mid_checkpoint_keeps_the_last_best(tmp_path: Path, monkeypatch) -> None:
    import keras
    import numpy as np

    from core.model import load_model, save_model
    from core.training.callbacks import AtomicModelCheckpoint
    from tests.tiny_models import tiny_model

    model = tiny_model(seed=1)
    checkpoint = AtomicModelCheckpoint(tmp_path / BEST_CHECKPOINT)
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_loss": 2.0})
    saved = [w.copy() for w in model.get_weights()]
    save_model(model, tmp_path / MODEL_FILE)

    original_save = keras.Model.save

    def half_written_save(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
        _disk_full()

    monkeypatch.setattr(keras.Model, "save", half_written_save)
    model.set_weights([w + 1.0 for w in saved])
    with pytest.raises(OSError):
        checkpoint.on_epoch_end(1, {"val_loss": 1.0})  # an improvement: it tries to save
    with pytest.raises(OSError):
        save_model(model, tmp_path / MODEL_FILE)
    monkeypatch.setattr(keras.Model, "save", original_save)
    assert not [p for p in tmp_path.rglob("*") if "partial" in p.name]
    for path in (tmp_path / BEST_CHECKPOINT, tmp_path / MODEL_FILE):
        kept = load_model(path).get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(kept, saved, strict=True))


def test_full_disk_mid_training_is_one_line_and_keeps_a_loadable_best(tmp_path: Path, capsys, monkeypatch) -> None:
    import keras

    from core.model import load_model

    out = tmp_path / "output"
    monkeypatch.setattr(paths, "OUTPUT_DIR", out)
    monkeypatch.setattr(paths, "RUNS_DIR", out / "runs")
    original_save, calls = keras.Model.save, []

    def save_until_the_disk_fills(self, filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) == 1:  # the first epoch's checkpoint
            return original_save(self, filepath, *args, **kwargs)
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")  # the next save: a later checkpoint or model.keras
        _disk_full()

    monkeypatch.setattr(keras.Model, "save", save_until_the_disk_fills)
    status = main(["train", "--run-name", "full", "--epochs", "3", "--batch-size", "8", "--max-train-windows", "40",
                   "--lstm-units", "16", "--embedding-dim", "8", "--no-reports"])
    monkeypatch.setattr(keras.Model, "save", original_save)
    assert status == 1 and len(calls) == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert "disk is full" in line and "best checkpoint" in line
    run_dir = out / "runs" / "full"
    assert not [p for p in run_dir.rglob("*") if "partial" in p.name]
    assert load_model(run_dir / BEST_CHECKPOINT).get_layer("lstm_1").units == 16
    records = [json.loads(line) for line in (run_dir / METRICS_FILE).read_text(encoding="utf-8").splitlines()]
    assert records[-1]["status"] == "failed"
