"""bench.results_store: the merge that keeps unmeasured sections, the one save path, and results.md from the JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import results_store
from bench.report import results_markdown


def _entry(group: str, name: str, notes: str = "") -> dict:
    return {"group": group, "name": name, "description": name, "unit": "s", "median": 1.5, "spread": 0.1,
            "baseline": "—", "baseline_median": None, "ratio": None, "notes": notes}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store's files moved into ``tmp_path`` (the committed ones are never written)."""
    for name in ("RESULTS_JSON", "QUALITY_JSON", "RECIPES_JSON", "RESULTS_MD"):
        monkeypatch.setattr(results_store, name, tmp_path / getattr(results_store, name).name)
    return tmp_path


def test_a_partial_speed_run_keeps_the_other_sections_marked_with_their_date() -> None:
    previous = {"meta": {"date": "2026-01-02 03:04 UTC"},
                "benchmarks": [_entry("app path", "old_app"), _entry("generation", "old_generation"),
                               _entry("memory", "old_memory", "kept (from the run of 2025-12-01 00:00 UTC)")]}
    fresh = [_entry("generation", "new_generation")]
    merged = results_store.speed_payload({"date": "now"}, fresh, previous, rerun={"generation"})
    assert [b["name"] for b in merged["benchmarks"]] == ["new_generation", "old_app", "old_memory"]
    assert merged["benchmarks"][1]["notes"] == "(from the run of 2026-01-02 03:04 UTC)"
    assert merged["benchmarks"][2]["notes"] == "kept (from the run of 2025-12-01 00:00 UTC)"  # marked once only
    assert results_store.speed_payload({}, fresh, previous, rerun=None)["benchmarks"] == fresh


def test_quality_sections_are_kept_only_for_the_same_model() -> None:
    previous = {"meta": {"date": "D1"}, "default_model": "models/default", "kept": {"guidance": "D0"},
                "evaluation": {"rows": 1}, "guidance": {"rows": 2}, "transfer": {"rows": 3}}
    payload = results_store.quality_payload({"date": "D2"}, "models/default", previous, rerun={"transfer"})
    assert payload["evaluation"] == {"rows": 1} and "transfer" not in payload
    assert payload["kept"] == {"evaluation": "D1", "guidance": "D0"}
    assert results_store.quality_payload({}, "runs/other", previous, rerun={"transfer"})["kept"] == {}


def test_saving_one_section_keeps_the_others_and_renders_results_md(store: Path) -> None:
    speed = {"meta": {"date": "D", "cpu": "cpu", "cores": 2, "memory_gib": 4, "python": "3", "versions": {},
                      "load_average_at_start": [1.0]}, "benchmarks": [_entry("generation", "gen_s")]}
    rendered = results_store.save(results_store.RESULTS_JSON, speed)
    assert rendered == store / "results.md" and "| gen_s | 1.50 s |" in rendered.read_text(encoding="utf-8")
    results_store.save_section(results_store.RESULTS_JSON, "benchmarks", [_entry("memory", "peak_mib")])
    assert results_store.read_json(results_store.RESULTS_JSON)["meta"] == speed["meta"]
    text = rendered.read_text(encoding="utf-8")
    assert "| peak_mib |" in text and "gen_s" not in text and "## Model quality" not in text
    assert results_store.read_json(store / "missing.json") == {}


def test_results_md_is_what_the_renderer_makes_of_the_committed_json() -> None:
    """bench/results.md is never edited by hand: rendering the stored figures again changes no byte."""
    text = results_markdown(results_store.read_json(results_store.RESULTS_JSON),
                            results_store.read_json(results_store.RECIPES_JSON),
                            results_store.read_json(results_store.QUALITY_JSON))
    assert text == results_store.RESULTS_MD.read_text(encoding="utf-8")
