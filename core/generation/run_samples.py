"""A run folder's ``generated_samples.json``: a few progressions per genre, written after training.

They are drawn with the library's default settings (:class:`core.config.GenerationSettings`,
the same the studio, the command line and the API start from), so the report shows what a user
of the model gets; the file records those settings beside the samples.
"""

from __future__ import annotations

from pathlib import Path

from core.conditions import GENRES, Conditions
from core.config import GenerationSettings
from core.generation.generate import generate
from core.generation.loading import load_generator
from core.run_files import GENERATED_SAMPLES_FILE, write_json_atomic


def write_generated_samples(run_dir: str | Path, per_genre: int = 2, length: int = 8, random_seed: int = 0) -> Path:
    """``generated_samples.json`` in a run folder: ``per_genre`` samples per genre (and open), written atomically."""
    run_dir = Path(run_dir)
    generator = load_generator(run_dir)
    settings = GenerationSettings(length=length, num_samples=per_genre, random_seed=random_seed)
    report = {"backend": generator.backend, "length": length, "random_seed": random_seed,
              "settings": settings.to_dict(), "samples": []}
    for genre in GENRES:
        samples = generate(generator, Conditions.parse(genre=genre), settings)
        report["samples"].extend(s.to_dict() for s in samples)
    path = run_dir / GENERATED_SAMPLES_FILE
    write_json_atomic(path, report)
    return path
