"""Where the benchmarks' figures are kept: bench/results.json, quality.json, recipes.json and the results.md made from them.

The one place that knows the files' names and shapes: the machine description every run records,
the merge that keeps the sections a partial run (``--only``) did not measure, and :func:`save`,
the one way a figure is stored, which writes the JSON atomically and renders results.md again
(the text comes from :mod:`bench.report`, which only turns data into Markdown). The measuring
modules hand their results here and never render.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench.report import results_markdown

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results.json"
QUALITY_JSON = BENCH_DIR / "quality.json"
RECIPES_JSON = BENCH_DIR / "recipes.json"
RESULTS_MD = BENCH_DIR / "results.md"

#: the sections of results.json (``python -m bench --only``), in the order the file lists them.
SECTIONS: tuple[str, ...] = ("generation", "training", "levers", "time_to_quality", "app", "memory", "inference", "page",
                             "api_load", "api_burst", "song", "visitors", "realism")
#: the sections of quality.json (``python -m bench quality --only``).
QUALITY_SECTIONS: tuple[str, ...] = ("evaluation", "conditioning", "guidance", "calibration", "strategies", "transfer")
#: results.json groups whose section has another name.
_SECTION_OF_GROUP = {"app path": "app", "training levers": "levers", "time to quality": "time_to_quality",
                     "generate page (browser)": "page", "api load": "api_load", "api burst": "api_burst"}


def machine() -> dict:
    """Date, CPU, cores, memory, load average and library versions, for the report header."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory_gib = round(int(meminfo.read_text().split()[1]) / 1024 / 1024, 1)
    versions = {}
    for name in ("numpy", "pandas", "tensorflow", "keras", "sklearn"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            continue
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib, "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()], "versions": versions,
    }


def load_average_now() -> list[float]:
    """The 1, 5 and 15-minute load averages, rounded for the files."""
    return [round(x, 2) for x in os.getloadavg()]


def read_json(path: Path) -> dict:
    """The stored object at ``path``; empty when the file is not there yet."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_json(path: Path, value: dict) -> None:
    """Write indented JSON (atomically)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(value, indent=2, default=float) + "\n", encoding="utf-8")
    partial.replace(path)


def render(output: Path | None = None) -> Path:
    """Write results.md (or ``output``) from whichever of results.json, recipes.json and quality.json exist."""
    output = output or RESULTS_MD
    output.write_text(results_markdown(read_json(RESULTS_JSON), read_json(RECIPES_JSON), read_json(QUALITY_JSON)),
                      encoding="utf-8")
    return output


def save(path: Path, value: dict) -> Path:
    """Store ``value`` as ``path`` (one of the JSON files above) and render results.md again; results.md's path."""
    write_json(path, value)
    return render()


def save_section(path: Path, name: str, section: dict) -> Path:
    """Replace one section of a stored file (the others kept as they are), then render; results.md's path."""
    return save(path, {**read_json(path), name: section})


def section_of(benchmark: dict) -> str:
    """The section a results.json entry came from (its group; "app path" is the ``app`` section)."""
    return _SECTION_OF_GROUP.get(benchmark["group"], benchmark["group"])


def speed_payload(meta: dict, benchmarks: list[dict], previous: dict, rerun: set[str] | None) -> dict:
    """results.json's content: this run's ``benchmarks``, and (when only the ``rerun`` sections ran) the other
    sections' entries of ``previous``, each marked with the date of the run that measured it."""
    if rerun is not None and previous:
        date = previous["meta"]["date"]
        kept = [{**b, "notes": b.get("notes", "") if "(from the run of" in b.get("notes", "")
                 else f"{b.get('notes', '')} (from the run of {date})".strip()}
                for b in previous.get("benchmarks", []) if section_of(b) not in rerun]
        benchmarks = sorted(benchmarks + kept, key=lambda b: SECTIONS.index(section_of(b)))
    return {"meta": meta, "benchmarks": benchmarks}


def quality_payload(meta: dict, default_model: str, previous: dict, rerun: set[str]) -> dict:
    """quality.json's content before a run of the ``rerun`` sections: the other sections of ``previous`` kept (with
    the date of the run that measured them) when it is for the same model."""
    payload = {"meta": meta, "default_model": default_model, "kept": {}}
    if previous.get("default_model") == default_model:
        for name in QUALITY_SECTIONS:
            if name not in rerun and name in previous:
                payload[name] = previous[name]
                payload["kept"][name] = previous.get("kept", {}).get(name) or previous["meta"]["date"]
    return payload
