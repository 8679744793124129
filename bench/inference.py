"""Inference without TensorFlow: what a user waits for and what it costs in memory, beside the TensorFlow path it replaced.

Every figure comes from fresh processes (one warm-up run, then the median of the repeats), each
beside its baseline measured the same way in the same run: the same work with
:func:`core.generation.loading.load_generator` swapped for the loader inference used before the
framework-free weights existed (Keras load of ``model.keras``, weights copied into the same NumPy
decoder; ``--child`` modes of this module do the swap, then run the real code path):

* ``python -m core generate --num-samples 1``: wall time of the whole process (interpreter start
  included) and its peak RSS (``ru_maxrss`` of that child, from ``os.wait4`` in a small launcher);
* ``python -m core serve``: from starting the process to the first ``POST /generate`` answered;
* the studio's memory while not training: a process running what the Generate page runs (its
  modules, 2 progressions, click-to-swap alternatives, notation SVG, WAV, the genre/mood analysis),
  peak RSS and RSS at the end.

The 1-minute load average (what ``uptime`` shows) is recorded before each row: on a shared 2-core
machine, figures taken above a load of 2 are slower than an idle machine's.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.models import trained_model_dir
from bench.timing import Result, Stats

GROUP = "inference"
REPO = Path(__file__).resolve().parent.parent
BASELINE = "same path loading the Keras model (TensorFlow), as inference did before"


# --- the children ---------------------------------------------------------------------------------


def use_keras_loader() -> None:
    """Make :func:`core.generation.loading.load_generator` the pre-npz loader (Keras model, weights copied to NumPy)."""
    from core.generation import loading
    from core.generation.decoder import make_decoder
    from core.model import load_model
    from core.paths import resolve_model_file

    def load(model=None):
        model_file = resolve_model_file(model).resolve()
        return loading.Generator(make_decoder(load_model(model_file, compile=False)), model_file.parent, model_file)

    loading.load_generator = load


def generate_page_path(model_dir: str) -> dict:
    """What the Generate page computes (its modules first); returns VmHWM and VmRSS in MiB."""
    import ast

    page = REPO / "pages" / "4_generate.py"
    tree = ast.parse(page.read_text(encoding="utf-8"))
    for node in tree.body:  # the page's own imports, so its module cost is counted
        if isinstance(node, ast.Import | ast.ImportFrom):
            exec(compile(ast.Module([node], []), str(page), "exec"), {})
    from studio import loaders
    from studio.generate_url import PageLink
    from studio.page_settings import slash_text
    from studio.progression_view import sample_key

    request = PageLink.from_query({"genre": "pop", "key": "C", "samples": "2", "seed": "4"})[0].request
    shown = loaders.drawn(request, model_dir, 1.0)
    chords = tuple(shown[0].chords)
    loaders.ranked(request.conditions, False, request.guidance, chords[:1], chords[2:], False, model_dir, 1.0)
    for sample in shown:
        symbols = slash_text(sample.slash_chords)
        loaders.notation_svg(symbols, sample_key(sample), symbols)
        loaders.progression_wav(symbols, float(request.tempo))
    loaders.analysis("C G Am F", request.conditions, model_dir, 1.0)
    status = Path("/proc/self/status").read_text().splitlines()
    kib = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmHWM", "VmRSS"))}
    return {"peak_mib": kib["VmHWM"] / 1024.0, "rss_mib": kib["VmRSS"] / 1024.0,
            "tensorflow": "tensorflow" in sys.modules}


def _child(mode: str, model_dir: str, port: int | None) -> None:
    """Run in the fresh process (``--child``): swap the loader when asked, then the real code path."""
    if mode.startswith("keras-"):
        use_keras_loader()
        mode = mode.removeprefix("keras-")
    if mode == "generate":
        from core.cli import main

        sys.exit(main(["generate", "--model", model_dir, "--num-samples", "1"]))
    elif mode == "serve":
        from core.cli import main

        sys.exit(main(["serve", "--model", model_dir, "--port", str(port), "--log-level", "warning"]))
    elif mode == "studio":
        print(json.dumps(generate_page_path(model_dir)))
    else:
        raise ValueError(f"unknown child mode {mode!r}")


# --- measuring --------------------------------------------------------------------------------------


def _command(keras: bool, mode: str, model_dir: Path, port: int | None = None) -> list[str]:
    if not keras and mode == "generate":
        return [sys.executable, "-m", "core", "generate", "--model", str(model_dir), "--num-samples", "1"]
    if not keras and mode == "serve":
        return [sys.executable, "-m", "core", "serve", "--model", str(model_dir), "--port", str(port),
                "--log-level", "warning"]
    command = [sys.executable, "-m", "bench.inference", "--child", ("keras-" if keras else "") + mode,
               "--model", str(model_dir)]
    return command + (["--port", str(port)] if port else [])


#: forks and execs the measured command, then writes its wall seconds, ru_maxrss (KiB) and exit status to argv[1].
#: A process's ru_maxrss starts from the memory of the process it was forked from (Linux records it at exec),
#: so the command is started from this small interpreter, not from the benchmark (which has TensorFlow loaded).
MEASURE = """import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - start} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def _run_once(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds (interpreter start included), peak RSS (MiB) and stdout of one fresh process run to its end."""
    with tempfile.NamedTemporaryFile("r", suffix=".measure") as measured:
        done = subprocess.run([sys.executable, "-c", MEASURE, measured.name, *command], cwd=REPO, capture_output=True,
                              text=True, check=True)
        wall, max_rss_kib, status = measured.read().split()
    if int(status) != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {status}: {done.stderr[-1500:]}")
    return float(wall), int(max_rss_kib) / 1024.0, done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_answer(command: list[str], port: int, timeout_s: float = 600.0) -> float:
    """Seconds from starting the server process to its first ``POST /generate`` answered with 200."""
    body = json.dumps({"genre": "pop", "num_samples": 1}).encode()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log)
        try:
            while True:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/generate", data=body,
                                                 headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=timeout_s) as answer:
                        if answer.status == 200:
                            return time.perf_counter() - start
                except OSError as error:
                    if process.poll() is not None or time.perf_counter() - start > timeout_s:
                        log.seek(0)
                        tail = log.read().decode(errors="replace")[-1500:]
                        raise RuntimeError(f"{' '.join(command)} never answered ({error}; exit {process.poll()}): "
                                           f"{tail}") from None
                    time.sleep(0.01)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _repeat(measure, repeats: int) -> list:
    measure()  # warm-up: file cache, .pyc files
    return [measure() for _ in range(repeats)]


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _cli_rows(model_dir: Path, repeats: int) -> list[Result]:
    load = _load()
    runs = {keras: _repeat(lambda k=keras: _run_once(_command(k, "generate", model_dir)), repeats) for keras in (False, True)}
    notes = f"model {model_dir}; load average (1 min) {load} before the row"
    extra = {"load_average_1min": load}
    walls = {k: Stats.of([r[0] for r in v]) for k, v in runs.items()}
    peaks = {k: Stats.of([r[1] for r in v]) for k, v in runs.items()}
    return [
        Result.from_stats("inference_cli_generate_wall_s", GROUP,
                          "python -m core generate --num-samples 1: wall time of a fresh process", "s",
                          walls[False], BASELINE, walls[True], target="<= 0.5 s", notes=notes, extra=extra),
        Result.from_stats("inference_cli_generate_peak_mib", GROUP,
                          "python -m core generate --num-samples 1: peak RSS of the process", "MiB",
                          peaks[False], BASELINE, peaks[True], target="<= 200 MB (190.7 MiB)", notes=notes, extra=extra),
    ]


def _api_row(model_dir: Path, repeats: int) -> Result:
    load = _load()

    def once(keras: bool) -> float:
        port = _free_port()
        return _first_answer(_command(keras, "serve", model_dir, port), port)

    stats = {keras: Stats.of(_repeat(lambda k=keras: once(k), repeats)) for keras in (False, True)}
    return Result.from_stats(
        "inference_api_first_answer_s", GROUP, "python -m core serve: process start to the first POST /generate answered",
        "s", stats[False], BASELINE, stats[True], target="<= 1 s",
        notes=f"model {model_dir}; load average (1 min) {load} before the row", extra={"load_average_1min": load})


def _studio_row(model_dir: Path, repeats: int) -> Result:
    load = _load()
    reports = {keras: [json.loads(r[2].strip().splitlines()[-1]) for r in
                       _repeat(lambda k=keras: _run_once(_command(k, "studio", model_dir)), repeats)]
               for keras in (False, True)}
    peak = {k: Stats.of([r["peak_mib"] for r in v]) for k, v in reports.items()}
    rss = {k: Stats.of([r["rss_mib"] for r in v]).median for k, v in reports.items()}
    tensorflow = {k: any(r["tensorflow"] for r in v) for k, v in reports.items()}
    return Result.from_stats(
        "inference_studio_generate_peak_mib", GROUP,
        "studio memory while not training: peak RSS of the Generate page's work (2 progressions, alternatives, "
        "notation, audio, analysis)", "MiB", peak[False], BASELINE, peak[True],
        notes=f"RSS at the end {rss[False]:.0f} MiB (before: {rss[True]:.0f} MiB); TensorFlow imported: "
              f"{tensorflow[False]} (before: {tensorflow[True]}); load average (1 min) {load} before the row",
        extra={"rss_end_mib": rss[False], "baseline_rss_end_mib": rss[True], "tensorflow_imported": tensorflow[False],
               "load_average_1min": load},
    )


def run(repeats: int = 5, model_dir: str | None = None) -> list[Result]:
    """Every row of the module docstring (nothing without a trained model)."""
    folder = trained_model_dir(model_dir)
    if folder is None:
        return []
    return [*_cli_rows(folder, repeats), _api_row(folder, repeats), _studio_row(folder, repeats)]


def main() -> None:
    parser = argparse.ArgumentParser(description="fresh-process child of the inference benchmark")
    parser.add_argument("--child", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    _child(args.child, args.model, args.port)


if __name__ == "__main__":
    main()
