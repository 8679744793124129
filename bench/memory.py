"""Peak memory (VmHWM, MiB) of training and of the studio process, each in its own fresh process.

* training: ``core.training.train.train`` on the whole train split (the real pipeline, shuffle buffer
  included) for a short time budget, validation epoch included; baseline: a process that only
  imports TensorFlow/Keras and loads the corpus (the floor any training process pays);
* studio: every page that exists run through Streamlit's ``AppTest`` (the page scripts execute
  in-process, as under ``streamlit run``), then the Generate page's path (load the model,
  generate 4 samples, SVG + WAV). Baseline: ``streamlit run app.py`` headless on a loopback port
  after serving ``/`` and its health check (server only: no browser session runs the scripts).

The ``ratio`` is baseline / peak (below 1: how much more than the floor the work needs).
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

from bench.studio_server import stop_process
from bench.timing import Result, Stats, peak_rss_mib

GROUP = "memory"
REPO = Path(__file__).resolve().parent.parent


def _child(mode: str, minutes: float, model_dir: str | None) -> dict:
    """Run in the fresh process: do the work, report VmHWM."""
    notes = ""
    if mode == "floor":
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        from core.corpus.table import load_table

        load_table()
    elif mode == "train":
        from core.config import TrainConfig
        from core.training.train import train

        with tempfile.TemporaryDirectory() as folder:
            config = TrainConfig(epochs=1, max_minutes=minutes, write_reports=False, run_name="bench-memory")
            train(config, run_dir=Path(folder) / "bench-memory")
    elif mode == "app":
        notes = _app_pages(model_dir)
    else:
        raise ValueError(f"unknown child mode {mode!r}")
    return {"peak_mib": peak_rss_mib(), "notes": notes}


def _app_pages(model_dir: str | None) -> str:
    from streamlit.testing.v1 import AppTest

    from studio.page import PAGES

    os.chdir(REPO)
    ran = []
    for page in PAGES:
        app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        if page.path != "app.py":
            app.switch_page(page.path)
        app.run()
        ran.append(page.title + ("" if not app.exception else " (exception)"))
    from bench.app_path import LENGTH, SAMPLES, render
    from bench.models import trained_model_dir
    from core.conditions import Conditions
    from core.config import MODEL_DISTRIBUTION
    from core.generation.generate import generate
    from core.generation.loading import load_generator

    folder = trained_model_dir(model_dir)
    if folder is not None:
        conditions = Conditions.parse(genre="pop", key="C")
        for sample in generate(load_generator(folder), conditions, length=LENGTH, num_samples=SAMPLES, random_seed=0,
                               guidance=0.0, **MODEL_DISTRIBUTION):
            render(sample.chords, (conditions.tonic, conditions.mode))
        ran.append("generate path (4 samples, SVG, WAV)")
    return "ran: " + ", ".join(ran)


def _run_child(mode: str, minutes: float = 0.5, model_dir: str | None = None) -> dict:
    command = [sys.executable, "-m", "bench.memory", "--child", mode, "--minutes", str(minutes)]
    if model_dir:
        command += ["--model", model_dir]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vmhwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM")


def streamlit_server_peak(timeout_s: float = 90.0) -> float:
    """VmHWM of a headless ``streamlit run app.py`` after its health check and ``/`` answered."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("streamlit did not come up") from None
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
            answer.read()
        time.sleep(1.0)
        return _vmhwm_mib(process.pid)
    finally:
        stop_process(process)


def run(train_minutes: float, model_dir: str | None = None) -> list[Result]:
    """Peak RSS of training and of the studio (module docstring); one measurement each."""
    floor = _run_child("floor")["peak_mib"]
    training = _run_child("train", train_minutes)["peak_mib"]
    results = [Result.from_stats(
        "memory_training_peak_mib", GROUP, "training process peak RSS (full train split, tf.data, default model)", "MiB",
        Stats.of([training]), "process importing TensorFlow + loading the corpus", Stats.of([floor]),
        notes=f"{train_minutes:g} min training budget, then validation; one run",
    )]
    app = _run_child("app", model_dir=model_dir)
    server = streamlit_server_peak()
    results.append(Result.from_stats(
        "memory_app_peak_mib", GROUP, "studio process peak RSS: pages run (AppTest) + generate path", "MiB",
        Stats.of([app["peak_mib"]]), "headless streamlit run app.py server, no session", Stats.of([server]),
        notes=app["notes"],
    ))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="fresh-process child of the memory benchmark")
    parser.add_argument("--child", required=True)
    parser.add_argument("--minutes", type=float, default=0.5)
    parser.add_argument("--model")
    args = parser.parse_args()
    print(json.dumps(_child(args.child, args.minutes, args.model)))


if __name__ == "__main__":
    main()
