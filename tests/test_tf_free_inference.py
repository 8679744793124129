"""Inference never imports TensorFlow: ``generate``, ``score``, the HTTP API and the Generate page, each in a fresh process.

Each case runs in its own interpreter (this test process has TensorFlow loaded already) and
reports which of ``tensorflow`` and ``keras`` ended up in ``sys.modules``. The model is a tiny
one whose framework-free weights were written beside it; a model saved without them pays the
TensorFlow import once, on its first load, and never again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.generation.loading import load_generator
from core.inference_weights import file_sha256, read_inference_weights, weights_files
from core.paths import DEFAULT_MODEL_DIR
from core.run_files import MODEL_FILE
from tests.tiny_models import saved_tiny_model

REPO = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("tensorflow", "keras")


def imported_frameworks(body: str, env: dict[str, str] | None = None) -> list[str]:
    """Run ``body`` in a fresh interpreter; the frameworks it left in ``sys.modules``."""
    script = textwrap.dedent(body) + textwrap.dedent(f"""
        import json, sys
        print("FRAMEWORKS=" + json.dumps([m for m in {FRAMEWORKS!r} if m in sys.modules]))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("FRAMEWORKS=")][-1]
    return json.loads(line.removeprefix("FRAMEWORKS="))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A run folder holding a tiny model and its inference weights (written by its first load, here)."""
    folder = saved_tiny_model(tmp_path_factory.mktemp("runs") / "tiny", end_bias=-3.0)
    load_generator(folder)
    assert weights_files(folder / MODEL_FILE)[0].is_file()
    return folder


def test_the_inference_side_modules_import_without_tensorflow() -> None:
    """Every module of core.generation and studio, and the light core modules they build on (lazy imports audited)."""
    assert imported_frameworks("""
        import importlib, pkgutil
        import core.generation, studio
        for name in ("core.chords", "core.conditions", "core.notation", "core.audio", "core.config", "core.paths",
                     "core.errors", "core.dataset", "core.serving.api", "core.training.run_folder", "core.training.lock",
                     "core.training.processes", "core.training.follow", "core.training.active_model",
                     "core.training.run_management", "core.cli"):
            importlib.import_module(name)
        for package in (core.generation, studio):
            for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
                importlib.import_module(module.name)
    """) == []


def test_cli_generate_and_score_do_not_import_tensorflow(model_dir: Path) -> None:
    assert imported_frameworks(f"""
        from core.cli import main
        assert main(["generate", "--model", {str(model_dir)!r}, "--genre", "pop", "--random-seed", "1"]) == 0
    """) == []
    assert imported_frameworks(f"""
        from core.cli import main
        assert main(["score", "--model", {str(model_dir)!r}, "--chords", "C G Am F", "--rank", "genre"]) == 0
    """) == []


def test_the_api_starts_and_answers_without_tensorflow(model_dir: Path) -> None:
    assert imported_frameworks(f"""
        from fastapi.testclient import TestClient
        from core.serving.api import create_app
        with TestClient(create_app({str(model_dir)!r})) as client:
            answer = client.post("/generate", json={{"genre": "pop", "num_samples": 2, "random_seed": 3}})
            assert answer.status_code == 200 and len(answer.json()["samples"]) == 2, answer.text
    """) == []


def test_the_generate_page_runs_without_tensorflow(model_dir: Path, tmp_path: Path) -> None:
    """The Generate page itself (under streamlit.testing, so every import it makes is followed) with the tiny model
    active: progressions with notation and audio, a chord's alternatives, the composer and Analyze."""
    (tmp_path / "active_model.txt").write_text(str(model_dir), encoding="utf-8")
    assert imported_frameworks("""
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("app.py", default_timeout=120).run()
        at.switch_page("pages/4_generate.py")
        at.query_params.update({"genre": "pop", "key": "C", "samples": "2", "length": "4", "seed": "4"})
        at.run()
        assert not at.exception and at.get("image"), at.exception
        at.button_group(key="gen-chords-0").set_value(1).run()  # a chord's panel: its alternatives
        assert not at.exception and any((b.key or "").startswith("gen-swap-0-1-") for b in at.button), at.exception
        for view, text in (("Compose", None), ("Analyze a progression", "C G Am F")):
            at.session_state["gen-view"] = view
            at.run()
            if text:
                at.text_area(key="gen-analyze").set_value(text).run()
            assert not at.exception, (view, at.exception)
    """, env={"CHORDSMITH_OUTPUT": str(tmp_path)}) == []


def test_a_model_without_weights_imports_tensorflow_once(tmp_path: Path) -> None:
    folder = saved_tiny_model(tmp_path / "old")
    generate = f"""
        from core.cli import main
        assert main(["generate", "--model", {str(folder)!r}, "--num-samples", "2"]) == 0
    """
    assert imported_frameworks(generate) == list(FRAMEWORKS)  # derived from the Keras model, written beside it
    assert weights_files(folder / MODEL_FILE)[1].is_file()
    assert imported_frameworks(generate) == []


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / MODEL_FILE).exists(), reason="models/default is not trained")
def test_the_shipped_default_model_carries_its_inference_weights() -> None:
    model_file = DEFAULT_MODEL_DIR / MODEL_FILE
    assert read_inference_weights(model_file, file_sha256(model_file)) is not None
