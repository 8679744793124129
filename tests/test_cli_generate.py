"""The generate, score and evaluate sub-commands, called in-process through core.cli.main."""

from __future__ import annotations

import io
import json

import pytest

from core.cli import main
from core.run_files import MODEL_FILE
from tests.tiny_models import saved_tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return str(saved_tiny_model(tmp_path_factory.mktemp("cli")))


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_generate_json(model_dir, capsys) -> None:
    code = main(["generate", "--model", model_dir, "--genre", "pop", "--key", "Am", "--length", "6", "--num-samples", "3",
                 "--random-seed", "5", "--format", "json", "--lock", "1:Am 6:E"])
    assert code == 0
    samples = json.loads(capsys.readouterr().out)
    assert len(samples) == 3
    for sample in samples:
        assert set(sample) >= {"chords", "roman", "probabilities", "conditions"}
        assert sample["chords"][0] == "Am" and sample["chords"][5] == "E"
        assert sample["conditions"] == {"genre": "pop", "mood": "unspecified", "key": "A minor", "scale_type": "minor"}
        assert sample["roman"][0] == "i" and sample["roman"][5] == "V"


def test_generate_text_is_reproducible(model_dir, capsys) -> None:
    args = ["generate", "--model", model_dir, "--random-seed", "3", "--seed-chords", "C G", "--in-key", "--key", "C"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    assert first.startswith("1. C") and "(C major)" in first


def test_generate_reads_typed_symbols_with_a_note_and_keeps_slash_basses(model_dir, capsys) -> None:
    code = main(["generate", "--model", model_dir, "--key", "C", "--length", "5", "--random-seed", "2", "--format", "json",
                 "--seed-chords", "C/E G7sus4", "--lock", "5:F/A"])
    assert code == 0
    captured = capsys.readouterr()
    sample = json.loads(captured.out)[0]
    assert sample["chords"][:2] == ["C/E", "Gsus4"] and sample["chords"][4] == "F/A" and sample["roman"][0] == "I6"
    assert sample["notes"] == ["G7sus4 read as Gsus4"] and captured.err.strip() == "note: G7sus4 read as Gsus4"
    assert len(sample["chords"]) == 5 and not sample["ended"]  # the requested length


def test_generate_export(model_dir, capsys, monkeypatch, tmp_path) -> None:
    import core.notation.export

    calls = []

    def fake_export(chords, out_dir, stem="progression", **kwargs):
        calls.append((list(chords), out_dir, stem, kwargs))
        return {"mid": out_dir / f"{stem}.mid"}

    monkeypatch.setattr(core.notation.export, "export_progression", fake_export)
    assert main(["generate", "--model", model_dir, "--num-samples", "2", "--random-seed", "1", "--export", str(tmp_path),
                 "--format", "json"]) == 0
    out = capsys.readouterr()
    assert len(json.loads(out.out)) == 2 and "sample_01.mid" in out.err
    assert [c[2] for c in calls] == ["sample_01", "sample_02"]


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--genre", "polka"], "polka"), (["--mood", "angry"], "angry"), (["--key", "H"], "H"),
        (["--seed-chords", "C Hm7"], "Hm7"), (["--lock", "2:Xyz"], "Xyz"), (["--length", "0"], "length"),
        (["--length", "abc"], "abc"), (["--temperature", "9"], "temperature"), (["--top-p", "0"], "top-p"),
        (["--top-k", "-2"], "top-k"), (["--num-samples", "5000"], "samples"), (["--in-key"], "key"),
        (["--lock", "9:C"], "lock position 9"), (["--lock", "1:C 1:G"], "two locks at the same position (1)"),
        (["--random-seed", "-1"], "random seed"), (["--temperature", "nan"], "temperature"), (["--gibbs-passes", "5"], "Gibbs"),
    ],
)
def test_generate_bad_input_is_one_line_and_exit_2(model_dir, capsys, flags, needle) -> None:
    assert main(["generate", "--model", model_dir, *flags]) == 2
    line = _error_line(capsys)
    assert line.startswith("error:") and needle in line


def test_unknown_genre_lists_the_accepted_ones(capsys) -> None:
    assert main(["generate", "--genre", "polka"]) == 2  # fails before any model is needed
    assert "accepted: unspecified, pop, rock" in _error_line(capsys)


def test_missing_model_is_an_input_error(tmp_path, capsys) -> None:
    assert main(["generate", "--model", str(tmp_path)]) == 2
    assert MODEL_FILE in _error_line(capsys)


def test_score_json_with_rank(model_dir, capsys) -> None:
    assert main(["score", "--model", model_dir, "--chords", "C G Am F", "--rank", "genre", "--format", "json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["chords"] == ["C", "G", "Am", "F"] and len(result["probabilities"]) == 4
    assert {"log_likelihood", "perplexity", "posterior"} <= set(result)
    assert sum(result["posterior"].values()) == pytest.approx(1.0)


def test_score_reads_stdin(model_dir, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("C G Am F\n\nDm7 G7 Cmaj7\n"))
    assert main(["score", "--model", model_dir, "--mood", "calm"]) == 0
    out = capsys.readouterr().out
    assert out.count("perplexity") == 2


def test_score_bad_chord(model_dir, capsys) -> None:
    assert main(["score", "--model", model_dir, "--chords", "C Q7"]) == 2
    assert "Q7" in _error_line(capsys)


def test_evaluate_cli(model_dir, capsys, monkeypatch) -> None:
    import core.evaluation.evaluate
    from tests.test_evaluate import FRAME

    monkeypatch.setattr(core.evaluation.evaluate, "shipped_table", lambda: FRAME)
    assert main(["evaluate", "--model", model_dir, "--format", "json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["test_windows"] == 2 and set(results["models"]) >= {"lstm", "trigram"}
    assert main(["evaluate", "--model", model_dir]) == 0
    assert "lstm_unconditioned" in capsys.readouterr().out
