"""Bounded by construction (issue 25, items 1-3, 5, 9-11): hostile files cost a bounded amount and are one line.

Archives (``.mxl`` songs, ``.keras`` models, inference weights) are refused from their directory
before anything is inflated; MIDI and MusicXML are refused past their event, note and chord-symbol
limits before music21 sees them; small pointer files are read with a bound; a damaged metrics file
or pointer is one line naming the file; empty output paths and binary or deeply nested configs are
bad input (status 2). Memory is measured in a child process (its own peak RSS, or an address-space
limit so a regression fails the test instead of taking the machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core import paths
from core.bounded_reads import ArchiveLimits, archive_problem, read_bounded, read_bounded_text
from core.cli import main
from core.config import MAX_MIDI_NOTES, MAX_MUSICXML_CHORD_SYMBOLS, MAX_POINTER_BYTES
from core.corpus import user_import, user_songs
from core.errors import EnvironmentFault, InputError, ModelFault
from core.run_files import MODEL_FILE
from tests.hostile_files import crowded_zip, keras_bomb, midi_bytes, musicxml_bytes, mxl_bomb, nested_json, random_bytes
from tests.tiny_models import saved_tiny_model

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "user-songs"

PEAK_RSS_SCRIPT = """
import resource, sys
from core.cli import main
status = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)  # kilobytes on Linux
sys.exit(status)
"""


def run_child(argv: list[str], output: Path, address_space_gb: float | None = None) -> tuple[int, str, int]:
    """``python -m core ARGV`` in a child: its status, its stderr lines but the last, and its peak RSS in MB.

    ``address_space_gb`` caps the child's memory (RLIMIT_AS), so a regression ends in MemoryError, not the machine's.
    """
    def limit() -> None:
        if address_space_gb is not None:
            import resource

            cap = int(address_space_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    done = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT, *argv], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=600, preexec_fn=limit,
                          env={**os.environ, "CHORDSMITH_OUTPUT": str(output), "OMP_NUM_THREADS": "1",
                               "OPENBLAS_NUM_THREADS": "1"})
    lines = done.stderr.strip().splitlines()
    peak = int(lines[-1]) // 1024 if lines and lines[-1].isdigit() else -1
    return done.returncode, "\n".join(lines[:-1] if peak >= 0 else lines), peak


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.out + captured.err and "unexpected" not in captured.err
    return lines[0]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return saved_tiny_model(tmp_path_factory.mktemp("bounds-model") / "tiny")


# --------------------------------------------------------------------------- the bounded readers


def test_read_bounded_stops_at_the_limit_whatever_the_file_claims(tmp_path: Path) -> None:
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="more than 4,096 bytes"):
        read_bounded(link, 4096, "the pointer")
    (tmp_path / "folder").mkdir()
    with pytest.raises(EnvironmentFault, match="is a folder"):
        read_bounded(tmp_path / "folder", 10, "the pointer", EnvironmentFault)
    with pytest.raises(InputError, match="not UTF-8"):
        read_bounded_text(random_bytes(tmp_path / "noise"), 10_000, "the file")
    (tmp_path / "ok").write_bytes(b"x" * 10)
    assert read_bounded(tmp_path / "ok", 10, "the file") == b"x" * 10


def test_archive_limits_read_the_directory_only(tmp_path: Path) -> None:
    bomb = mxl_bomb(tmp_path / "bomb.mxl", unpacked_mb=40)
    assert bomb.stat().st_size < 200_000
    assert "unpacks to" in archive_problem(bomb, ArchiveLimits(entries=10, unpacked_bytes=20_000_000))
    assert archive_problem(bomb, ArchiveLimits(entries=10, unpacked_bytes=50_000_000)) is None
    crowded = crowded_zip(tmp_path / "crowded.zip", entries=300)
    assert "300 entries" in archive_problem(crowded, ArchiveLimits(entries=64, unpacked_bytes=10**9))
    assert "its score.xml unpacks" in archive_problem(
        bomb.read_bytes(), ArchiveLimits(entries=10, unpacked_bytes=10**9, member_bytes={"score.xml": 1000}))
    assert archive_problem(b"not a zip", ArchiveLimits(1, 1)) is None  # not the reader's concern: others say so


# --------------------------------------------------------------------------- 1: an .mxl bomb


def test_an_mxl_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="bomb.mxl: it unpacks to .* at most 20,000,000"):
        user_songs.read_file("bomb.mxl", mxl_bomb(tmp_path / "bomb.mxl", unpacked_mb=64).read_bytes())
    with pytest.raises(InputError, match="5,000 entries; at most 64"):
        user_songs.read_file("crowded.mxl", crowded_zip(tmp_path / "crowded.mxl").read_bytes())


def test_data_import_of_an_mxl_bomb_stays_small_in_memory(tmp_path: Path) -> None:
    """600 MB unpacked: refused from the archive's directory, in a child whose peak stays near a tiny import's."""
    bomb = mxl_bomb(tmp_path / "bomb.mxl", unpacked_mb=600)
    status, err, bomb_peak = run_child(["data", "import", str(bomb)], tmp_path, address_space_gb=6)
    assert status == 2 and err.startswith("error: ") and "unpacks to" in err and "\n" not in err, err
    status, err, baseline = run_child(["data", "import", str(FIXTURES / "empty.txt")], tmp_path)
    assert status == 2, err
    assert bomb_peak - baseline < 150, f"the bomb took {bomb_peak} MB, a refused tiny file {baseline} MB"


# --------------------------------------------------------------------------- 2: a .keras bomb


def test_a_keras_bomb_is_a_model_fault_before_keras_opens_it(tiny_dir: Path, tmp_path: Path) -> None:
    from core.model import load_model
    from core.model_faults import check_model_archive, file_problem

    bomb = keras_bomb(tiny_dir / MODEL_FILE, tmp_path / "bomb.keras", unpacked_mb=64)
    assert "config.json unpacks to" in file_problem(bomb)
    with pytest.raises(ModelFault, match="config.json unpacks to .* at most 10,000,000"):
        check_model_archive(bomb)
    with pytest.raises(ModelFault, match="bomb.keras: its config.json unpacks"):
        load_model(bomb, compile=False)
    check_model_archive(tiny_dir / MODEL_FILE)  # a real model passes


def test_generate_with_a_keras_bomb_is_one_line_and_small_in_memory(tiny_dir: Path, tmp_path: Path) -> None:
    bomb = keras_bomb(tiny_dir / MODEL_FILE, tmp_path / "bomb.keras", unpacked_mb=600)
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(bytes(range(256)) * 16)
    status, err, bomb_peak = run_child(["generate", "--model", str(bomb)], tmp_path, address_space_gb=8)
    assert status == 1 and err.startswith("error: cannot load the model") and "unpacks to" in err, err
    status, err, baseline = run_child(["generate", "--model", str(garbage)], tmp_path)
    assert status == 1 and "not a Keras model file" in err, err
    assert bomb_peak - baseline < 150, f"the bomb took {bomb_peak} MB, a garbage file {baseline} MB"


def test_an_npz_bomb_beside_a_model_is_never_inflated(tiny_dir: Path, tmp_path: Path) -> None:
    import hashlib
    import shutil
    import tracemalloc

    from core.generation.loading import load_generator
    from core.inference_weights import file_sha256, read_inference_weights, weights_files

    folder = tmp_path / "model"
    shutil.copytree(tiny_dir, folder)
    model_file = folder / MODEL_FILE
    npz, description_file = weights_files(model_file)
    load_generator(folder)  # derives and writes the inference weights beside the model
    assert read_inference_weights(model_file, file_sha256(model_file)) is not None
    with zipfile.ZipFile(npz) as original:
        names = original.namelist()
    with zipfile.ZipFile(npz, "w", zipfile.ZIP_DEFLATED) as bomb:  # same arrays by name, each 64 MiB of spaces
        for name in names:
            from tests.hostile_files import write_bomb_member

            write_bomb_member(bomb, name, b"", 64)
    description = json.loads(description_file.read_text())
    description["weights_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    description_file.write_text(json.dumps(description))
    tracemalloc.start()
    try:
        assert read_inference_weights(model_file, file_sha256(model_file)) is None  # derived again from the model
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MB traced"


# --------------------------------------------------------------------------- 3: huge MIDI and MusicXML


def test_midi_events_are_counted_as_music21_reads_them() -> None:
    from music21 import midi

    for data in ((FIXTURES / "four_chords.mid").read_bytes(), midi_bytes(50)):
        parsed = midi.MidiFile()
        parsed.readstr(data)
        events = sum(1 for track in parsed.tracks for event in track.events if not event.isDeltaTime())
        notes = sum(1 for track in parsed.tracks for event in track.events if event.isNoteOn())
        assert user_songs.midi_counts(data) == (events, notes)


def test_a_huge_midi_file_is_refused_with_its_note_count() -> None:
    with pytest.raises(InputError, match=f"huge.mid: 60,000 notes; at most {MAX_MIDI_NOTES:,} per MIDI file"):
        user_songs.read_file("huge.mid", midi_bytes(20_000))


def test_musicxml_with_too_many_chord_symbols_is_refused() -> None:
    with pytest.raises(InputError, match=f"9,000 chord symbols; at most {MAX_MUSICXML_CHORD_SYMBOLS:,}"):
        user_songs.read_file("many.musicxml", musicxml_bytes(9_000))  # 1.9 MB, under the file limit


def test_the_cli_refuses_huge_song_files_in_one_line(tmp_path: Path, capsys) -> None:
    for name, data in (("midi_79k.mid", midi_bytes(26_400)), ("many_harmony.musicxml", musicxml_bytes(5_000))):
        (tmp_path / name).write_bytes(data)
        assert main(["data", "import", str(tmp_path / name)]) == 2
        assert "at most" in one_error_line(capsys)


def test_whatever_before_file_raises_stops_the_import(monkeypatch) -> None:
    """The studio's progress call raises when the visitor has left: no file after it is read."""
    read: list[str] = []
    real = user_import.read_file
    monkeypatch.setattr(user_import, "read_file", lambda name, data: read.append(name) or real(name, data))

    class VisitorLeft(Exception):
        pass

    def before_file(index: int, name: str) -> None:
        if index == 1:
            raise VisitorLeft

    files = [(f"song{i}.txt", b"C G Am F\nF C G C\nAm F C G\n") for i in range(3)]
    with pytest.raises(VisitorLeft):
        user_import.import_songs(files, before_file=before_file)
    assert read == ["song0.txt"]
    assert len(user_import.import_songs(files).songs) == 9  # without it, every file is read


# --------------------------------------------------------------------------- 5 and 9: pointer and metrics files


@pytest.fixture()
def output(tmp_path: Path, monkeypatch) -> Path:
    from tests.private_output import private_output

    out = private_output(tmp_path, monkeypatch)
    out.mkdir(parents=True)
    return out


def test_a_pointer_linked_to_dev_zero_is_one_line_in_a_child_with_little_memory(output: Path, tiny_dir: Path) -> None:
    (output / "active_model.txt").symlink_to("/dev/zero")
    status, err, _ = run_child(["generate", "--length", "4"], output, address_space_gb=4)
    assert status == 1 and err.startswith("error: the active-model pointer") and "\n" not in err, err
    assert f"more than {MAX_POINTER_BYTES:,} bytes" in err


@pytest.mark.parametrize("damage", ["noise", "folder", "two lines"])
def test_a_damaged_pointer_is_one_line_naming_it_and_the_studio_falls_back(output: Path, damage: str,
                                                                           capsys) -> None:
    pointer = output / "active_model.txt"
    if damage == "noise":
        random_bytes(pointer)
    elif damage == "folder":
        pointer.mkdir()
    else:
        pointer.write_text("/a/b\n/c/d\x07\n", encoding="utf-8")
    assert paths.active_model_dir() == paths.DEFAULT_MODEL_DIR
    assert str(pointer) in paths.active_model_problem()
    assert main(["generate", "--length", "4"]) == 1
    assert "active-model pointer" in one_error_line(capsys)


def test_a_good_pointer_still_chooses_its_model(output: Path, tiny_dir: Path) -> None:
    paths.set_active_model_dir(tiny_dir)
    assert paths.active_model_dir() == tiny_dir.resolve() and paths.active_model_problem() is None


def test_a_folder_in_place_of_metrics_is_one_line_naming_it(output: Path) -> None:
    from core.training.run_folder import read_metrics, summarize_run

    run = output / "runs" / "damaged"
    (run / "metrics.jsonl").mkdir(parents=True)
    with pytest.raises(EnvironmentFault, match="metrics.jsonl is not a file"):
        read_metrics(run)
    summary = summarize_run(run)
    assert summary.status == "failed" and str(run / "metrics.jsonl") in summary.reason


def test_numbers_out_of_range_in_metrics_are_skipped_and_named(output: Path) -> None:
    from core.training.run_folder import epoch_records, read_metrics, summarize_run

    run = output / "runs" / "huge"
    run.mkdir(parents=True)
    lines = ['{"status": "started", "time": 1.0}', '{"epoch": 1e400, "loss": 1.0, "val_loss": 2.0}',
             '{"epoch": 2, "loss": NaN}', '{"epoch": ' + "9" * 500 + ', "loss": 1.0}',
             '{"epoch": 3, "loss": 0.5, "val_loss": 0.7}']
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [r["epoch"] for r in epoch_records(read_metrics(run))] == [3]
    summary = summarize_run(run)
    assert summary.best_val_loss == 0.7 and "3 lines of" in summary.reason and "metrics.jsonl" in summary.reason


# --------------------------------------------------------------------------- 10: empty paths, bad configs


@pytest.mark.parametrize("argv", [
    ["export", "--format", "onnx", "--out", ""], ["generate", "--export", ""], ["generate", "--export", "  "],
    ["data", "import", ""], ["train", "--config", ""],
])
def test_an_empty_output_or_input_path_is_bad_input(argv: list[str], tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert "an empty path" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


@pytest.mark.parametrize("kind", ["binary", "nested", "nested model", "huge"])
def test_a_config_that_is_not_a_settings_file_is_one_line_status_2(kind: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.json"
    if kind == "binary":
        random_bytes(path)
    elif kind == "nested":
        nested_json(path)
    elif kind == "nested model":
        path.write_text('{"model": ' + "{\"a\": " * 100_000 + "1" + "}" * 100_000 + "}", encoding="utf-8")
    else:
        path.write_text('{"epochs": 1' + " " * 2_000_000 + "}", encoding="utf-8")
    assert main(["train", "--config", str(path)]) == 2
    line = one_error_line(capsys)
    assert str(path) in line and ("not UTF-8" in line or "nested too deeply" in line or "more than" in line), line


# --------------------------------------------------------------------------- 11: paths shown relative


def test_pages_show_paths_relative_to_the_project() -> None:
    from core.training.run_names import run_dir
    from studio.run_tables import tensorboard_command

    message = f"cannot load the model {paths.REPO_ROOT / 'output' / 'runs' / 'x' / MODEL_FILE}: the file is empty"
    assert paths.shown_paths(message) == "cannot load the model output/runs/x/model.keras: the file is empty"
    assert paths.shown_path("/etc/secret/place.keras") == "place.keras"
    command = tensorboard_command("some-run")
    assert str(paths.REPO_ROOT) not in command and str(run_dir("some-run").parent) not in command


def _page_with_a_path_in_its_error() -> None:
    from core import paths as project_paths
    from core.errors import ModelFault
    from studio.page import input_errors

    with input_errors():
        raise ModelFault(f"cannot load the model {project_paths.REPO_ROOT}/output/runs/x/model.keras: the file is empty")


def test_an_error_box_never_shows_the_servers_layout() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page_with_a_path_in_its_error, default_timeout=60).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["cannot load the model output/runs/x/model.keras: the file is empty"]


@pytest.mark.parametrize("page", ["app.py", "pages/2_training.py", "pages/3_evaluation.py", "pages/4_generate.py"])
def test_every_page_names_a_damaged_pointer_in_one_line_and_keeps_working(page: str, output: Path) -> None:
    from streamlit.testing.v1 import AppTest

    random_bytes(output / "active_model.txt")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if page != "app.py":
        at.switch_page(page)  # as a server does: a page run as the entry point could not link to app.py
    at.run()
    assert not at.exception, at.exception
    shown = [e.value.replace("\\", "") for e in at.error]  # as typed: the page escapes Markdown marks
    assert len(shown) == 1 and "active-model pointer" in shown[0] and "active_model.txt" in shown[0], shown
    assert str(output) not in shown[0]  # the output folder set elsewhere is written $CHORDSMITH_OUTPUT


@pytest.mark.parametrize("page", ["pages/2_training.py", "pages/3_evaluation.py", "pages/4_generate.py"])
def test_pages_survive_a_damaged_metrics_file(page: str, output: Path, tiny_dir: Path) -> None:
    """A folder in place of one run's metrics.jsonl, numbers out of range in another's: no traceback on any page."""
    import shutil

    from streamlit.testing.v1 import AppTest

    for name in ("damaged", "huge"):
        shutil.copytree(tiny_dir, output / "runs" / name)
    (output / "runs" / "damaged" / "metrics.jsonl").mkdir()
    (output / "runs" / "huge" / "metrics.jsonl").write_text(
        '{"status": "started", "time": 1.0}\n{"epoch": 1e400, "loss": 1e400, "val_loss": 1e400}\n'
        '{"status": "finished", "reason": "done"}\n', encoding="utf-8")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception


def test_a_runs_json_files_are_read_with_a_bound(output: Path) -> None:
    """config.json linked to /dev/zero, or random bytes: read as missing (the table) or refused in one line (resume)."""
    from core.run_files import read_json
    from core.training.run_data import load_run_config

    run = output / "runs" / "linked"
    run.mkdir(parents=True)
    (run / "config.json").symlink_to("/dev/zero")
    assert read_json(run / "config.json") is None
    with pytest.raises(InputError, match="holds more than"):
        load_run_config(run)
    (run / "config.json").unlink()
    random_bytes(run / "config.json")
    with pytest.raises(InputError, match="not UTF-8"):
        load_run_config(run)
    (run / "config.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert read_json(run / "config.json") is None
    with pytest.raises(InputError, match="is not JSON"):
        load_run_config(run)


def test_a_metrics_file_over_its_bound_is_named_not_read(output: Path, monkeypatch) -> None:
    import core.training.run_folder as run_folder

    monkeypatch.setattr(run_folder, "MAX_METRICS_BYTES", 1_000)
    run = output / "runs" / "long"
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text('{"epoch": 1, "loss": 1.0}\n' * 100, encoding="utf-8")
    summary = run_folder.summarize_run(run)
    assert summary.status == "failed" and "holds 2,600 bytes; at most 1,000" in summary.reason
