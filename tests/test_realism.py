"""bench.realism: the real-vs-generated judge separates clearly different sets, not alike ones; its features and rule."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("sklearn")

from bench import realism  # noqa: E402
from core.chords import Chord  # noqa: E402


def _progressions(chords: list[Chord], count: int, length: int, seed: int) -> list[list[Chord]]:
    """``count`` random walks over ``chords`` (no chord twice in a row), ``length`` chords each."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        walk = [rng.choice(chords)]
        while len(walk) < length:
            walk.append(rng.choice([c for c in chords if c != walk[-1]]))
        out.append(walk)
    return out


DIATONIC = [Chord(0, "maj"), Chord(5, "maj"), Chord(7, "maj"), Chord(9, "min")]  # C F G Am
CHROMATIC = [Chord(1, "dim"), Chord(6, "aug"), Chord(11, "min"), Chord(3, "dim")]


def _features(progressions: list[list[Chord]]) -> list[dict[str, float]]:
    return [realism.ngram_features(p, 0) for p in progressions]


def test_features_are_key_relative_ngrams_with_start_and_end_markers() -> None:
    in_g = [Chord(7, "maj"), Chord(2, "7")]  # G D7 in G major
    features = realism.ngram_features(in_g, 7)
    assert features == realism.ngram_features([Chord(0, "maj"), Chord(7, "7")], 0)  # the same as C G7 in C
    assert {"1:C", "1:G7", "2:^ C", "2:C G7", "2:G7 $", "3:^ C G7", "3:C G7 $"} == set(features)


def test_the_judge_tells_clearly_different_sets_apart() -> None:
    real = _features(_progressions(DIATONIC, 60, 6, seed=1))
    generated = _features(_progressions(CHROMATIC, 60, 6, seed=2))
    result = realism.judge_accuracy(real, generated)
    assert result["accuracy"] >= 0.98
    assert result["count"] == 120 and len(result["fold_accuracies"]) == realism.FOLDS


def test_the_judge_cannot_tell_a_set_from_itself_or_from_another_draw_of_the_same_process() -> None:
    real = _features(_progressions(DIATONIC, 80, 6, seed=3))
    same = realism.judge_accuracy(real, real, groups=[*range(80), *range(80)])  # each copy in its original's fold
    assert same["accuracy"] == pytest.approx(0.5)
    again = realism.judge_accuracy(real, _features(_progressions(DIATONIC, 80, 6, seed=4)))
    assert abs(again["accuracy"] - 0.5) <= max(0.15, 3 * again["standard_error"])
    assert 0 < again["standard_error"] < 0.1


def test_the_judge_needs_enough_items_and_one_group_per_item() -> None:
    few = _features(_progressions(DIATONIC, 3, 4, seed=5))
    with pytest.raises(ValueError, match="at least"):
        realism.judge_accuracy(few, few)
    many = _features(_progressions(DIATONIC, 10, 4, seed=6))
    with pytest.raises(ValueError, match="one group per item"):
        realism.judge_accuracy(many, many, groups=[0, 1])


def _row(t: float, judge: float, perplexity: float, adherence: float, error: float = 0.01) -> dict:
    return {"temperature": t, "top_p": 1.0, "guidance": 0.0, "judge_accuracy": judge, "judge_standard_error": error,
            "sample_perplexity": perplexity, "genre_adherence": adherence}


def test_choose_takes_the_least_distinguishable_adherent_row_near_the_real_perplexity() -> None:
    real = {"sample_perplexity": 10.0, "genre_adherence": 0.40}
    rows = [_row(0.8, 0.55, 6.0, 0.50),   # least distinguishable, but far tamer than real songs
            _row(1.0, 0.60, 9.5, 0.45),
            _row(1.1, 0.605, 11.0, 0.42),  # tied with 1.0 (within one standard error), perplexity not as close
            _row(1.2, 0.58, 10.0, 0.35)]   # below the genre ceiling
    assert realism.choose(rows, real)["temperature"] == 1.0
    assert realism.choose(rows, real, band=2.0)["temperature"] == 0.8  # a wider band lets the tamest row in
    assert realism.choose([rows[3]], real)["temperature"] == 1.2  # nothing eligible: every row is
    with pytest.raises(ValueError):
        realism.choose([], real)


def _measured(t: float, p: float, g: float, judge: float) -> dict:
    return {"temperature": t, "top_p": p, "guidance": g, "judge_accuracy": judge, "judge_standard_error": 0.01,
            "judge_fold_accuracies": [judge - 0.01, judge, judge, judge + 0.01, judge], "judge_median": judge,
            "sample_perplexity": 9.0, "genre_adherence": 0.5, "same_as_a_real_window": 0.0, "count": 200}


def _report() -> dict:
    rows = [_measured(1.1, 0.95, 0.5, 0.6), _measured(1.0, 1.0, 0.0, 0.7)]
    return {"model": "models/default", "quick": True, "seconds": 1.0, "load_average_at_start": [1.0, 1.0, 1.0],
            "load_average_at_end": [2.0, 1.0, 1.0], "real_test": {"sample_perplexity": 10.0, "genre_adherence": 0.4,
                                                                 "count": 100, "songs": 20},
            "real_validation": {"sample_perplexity": 10.0, "genre_adherence": 0.4, "count": 100, "songs": 20},
            "rows": rows, "chosen": {"temperature": 1.1, "top_p": 0.95, "guidance": 0.5},
            "test": {"chosen": rows[0], "raw": rows[1], "current_defaults": _measured(1.2, 0.95, 1.0, 0.65)}}


def test_the_test_figures_go_to_the_results_store_as_a_realism_group_beside_the_raw_model() -> None:
    from bench.report import results_markdown
    from bench.results_store import speed_payload

    report = _report()
    entries = [r.to_dict() for r in realism.results(report)]
    chosen = entries[0]
    assert chosen["group"] == "realism" and chosen["median"] == pytest.approx(60.0)
    assert chosen["baseline_median"] == pytest.approx(70.0) and chosen["ratio"] == pytest.approx(70 / 60)
    previous = {"meta": {"date": "2026-12-07 19:53 UTC"},
                "benchmarks": [{"group": "song", "name": "song_x", "notes": ""},
                               {"group": "realism", "name": "old", "notes": ""}]}
    payload = speed_payload({"date": "now"}, entries, previous, {"realism"})
    assert [b["name"] for b in payload["benchmarks"]] == ["song_x", *[e["name"] for e in entries]]
    meta = {"date": "now", "cpu": "cpu", "cores": 2, "memory_gib": 1, "python": "3", "versions": {},
            "load_average_at_start": [1, 1, 1]}
    assert "### realism" in results_markdown({"meta": meta, "benchmarks": entries}, {}, {})


def test_a_finished_run_is_recorded_from_its_report_without_running_again(tmp_path, monkeypatch, capsys) -> None:
    import json

    from bench import results_store

    for name in ("RESULTS_JSON", "QUALITY_JSON", "RECIPES_JSON", "RESULTS_MD"):  # the committed files are never written
        monkeypatch.setattr(results_store, name, tmp_path / getattr(results_store, name).name)
    saved = tmp_path / "realism.json"
    saved.write_text(json.dumps(_report()), encoding="utf-8")
    assert realism.main(["--from-report", str(saved), "--record"]) == 0
    assert "chosen: T = 1.1, top-p = 0.95, guidance = 0.5" in capsys.readouterr().out
    stored = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert [b["group"] for b in stored["benchmarks"]] == ["realism", "realism"]
    assert stored["meta"]["load_average_at_start"] == [1.0, 1.0, 1.0]
    assert "### realism" in (tmp_path / "results.md").read_text(encoding="utf-8")
