"""Fuzzing every sub-command's arguments (issue 13, part 7): status 0, 1 or 2, never a traceback.

Hypothesis draws argument lists for each sub-command the parser lists (``data build``, ``train``,
``serve`` … included): the command's own flags with values that are numbers of every kind (NaN,
infinities, huge, negative, fractions), odd text, chord-like text, lock-like text and paths (a
file, a folder, a missing path, a path under a file), plus stray tokens. Each list runs in-process
through :func:`core.cli.main`. Whatever it prints, a command ends with status 0, 1 or 2; a refusal
(1 or 2) is exactly one ``error:`` line; nothing prints a traceback or the last-resort "unexpected"
line (a bug).

Bounded: a few examples per command, a derandomized run, no time deadline per example (the
machine is shared), and the slow work behind the arguments replaced by stand-ins: training,
corpus build, the batch pipeline, export conversion, notation export and uvicorn's serving loop
(and its logging set-up),
and ``summary`` builds the tiny model whatever size was asked (the flags are still checked). Output
goes to a temporary folder, the active and default models are a tiny one, and evaluation reads a
few-song table: nothing outside the temporary folders is written.

Hostile files are among the paths drawn (issue 25): an ``.mxl`` and a ``.keras`` zip bomb, an archive
of thousands of entries, MIDI with 60,000 notes, MusicXML with 2,000 chord symbols, JSON nested
100,000 deep and random bytes (:mod:`tests.hostile_files`); each is also run through every command
that reads such a file (:func:`test_hostile_files_are_refused_in_one_line`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import paths
from core.cli import build_parser, main
from core.conditions import GENRES, KEYS, MOODS, SCALE_TYPES
from core.config import ComposerSettings, GenerationSettings, ModelConfig, Setting, TrainConfig
from core.vocabulary import VOCAB
from tests.hostile_files import hostile_files
from tests.tiny_models import TINY, saved_tiny_model

#: examples drawn per sub-command.
EXAMPLES = int(__import__("os").environ.get("FUZZ_EXAMPLES", "12"))


def leaf_commands(parser: argparse.ArgumentParser,
                  prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every runnable sub-command path (``("data", "build")``, ``("generate",)``…) and its parser."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(leaf_commands(sub, (*prefix, name)))
    return found or {prefix: parser}


COMMANDS = leaf_commands(build_parser())


class Sandbox:
    """Paths the drawn values may name, all under one temporary folder."""

    def __init__(self, root: Path, model: Path) -> None:
        self.root, self.model = root, model
        self.file = root / "a-file.txt"
        self.file.write_text("C G Am F\nnot a chord line\n", encoding="utf-8")
        self.folder = root / "a-folder"
        self.folder.mkdir(exist_ok=True)
        self.hostile = hostile_files(root / "hostile", model / "model.keras")

    def paths(self) -> list[str]:
        return [str(self.model), str(self.model / "model.keras"), str(self.file), str(self.folder),
                str(self.root / "missing"), str(self.file / "under-a-file"), str(self.root / "new" / "out.svg"),
                "relative-name", "", *map(str, self.hostile.values())]


NUMBERS = st.one_of(
    st.sampled_from(["nan", "-nan", "inf", "-inf", "Infinity", "1e400", "-1", "0", "1", "2", "0.5", "-0.0", "1e-320",
                     "4294967296", "99999999999999999999999", "0x10", "1_000", " 3 ", "3.0", "2.5"]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
TEXTS = st.one_of(
    st.sampled_from(["C G Am F", "1:C 4:G", "1:C 1:G", "0:C", "65:C", "C/E G/B", "Hm7", "pop", "jazz", "calm", "Am",
                     "Eb major", "F# minor", "major", "unspecified", "genre", "mood", "json", "text", "..", ".",
                     "-", "--", "-x", "run-1", "a b", "ü", "C " * 70, "x" * 5000]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20),
)


CHORD_SYMBOLS = [c.symbol for c in VOCAB.chords if c is not None]
PROGRESSIONS = st.lists(st.sampled_from(CHORD_SYMBOLS), min_size=1, max_size=8).map(" ".join)
LOCKS = st.lists(st.tuples(st.integers(1, 12), st.sampled_from(CHORD_SYMBOLS)), max_size=3).map(
    lambda pairs: " ".join(f"{position}:{chord}" for position, chord in pairs))
#: flags whose accepted values are labels or chords: drawn valid most of the time, so the handler runs.
LABELLED: dict[str, st.SearchStrategy[str]] = {
    "--genre": st.sampled_from(GENRES), "--mood": st.sampled_from(MOODS), "--key": st.sampled_from(KEYS),
    "--scale": st.sampled_from(SCALE_TYPES), "--chords": PROGRESSIONS, "--seed-chords": PROGRESSIONS,
    "--followed-by": PROGRESSIONS, "--lock": LOCKS,
}


def _setting_values(spec: Setting) -> st.SearchStrategy[str]:
    """Values a setting accepts (its limits and the values just outside them), as typed."""
    if spec.choices:
        return st.sampled_from(spec.choices)
    if spec.kind is str:
        return st.sampled_from(["run-a", "x", ".."])
    low = spec.low if spec.low is not None else 0
    high = spec.high if spec.high is not None else low + 100
    edges = st.sampled_from([low, high, low - 1, high + 1]).map(lambda v: str(spec.kind(v)))
    if spec.kind is int:
        return st.one_of(st.integers(int(low), int(min(high, low + 16))).map(str), edges)
    return st.one_of(st.floats(low, high, allow_nan=False).map(repr), edges)


SETTINGS_BY_FLAG: dict[str, Setting] = {
    flag: spec for config in (ModelConfig, TrainConfig, GenerationSettings, ComposerSettings)
    for spec in config.settings().values() for flag in spec.cli_flags
}


def _value(action: argparse.Action, sandbox: Sandbox) -> st.SearchStrategy[str]:
    anything = st.one_of(NUMBERS, TEXTS, st.sampled_from(sandbox.paths()))
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        return st.one_of(st.sampled_from([str(c) for c in action.choices]), TEXTS)
    flag = action.option_strings[0]
    if flag in LABELLED:
        return st.one_of(LABELLED[flag], anything)
    if flag in SETTINGS_BY_FLAG:
        return st.one_of(_setting_values(SETTINGS_BY_FLAG[flag]), anything)
    return anything


def argument_lists(parser: argparse.ArgumentParser, sandbox: Sandbox) -> st.SearchStrategy[list[str]]:
    """Lists of this parser's flags (with values where they take one), positional values and stray tokens."""
    pieces = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        flag = st.sampled_from(action.option_strings)
        takes_value = action.nargs != 0
        pieces.append(st.tuples(flag, _value(action, sandbox)).map(list) if takes_value else flag.map(lambda f: [f]))
    positionals = [a for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]
    pieces.append(st.sampled_from(sandbox.paths()).map(lambda p: [p]) if positionals else TEXTS.map(lambda t: [t]))
    return st.lists(st.one_of(pieces), max_size=5).map(lambda chunks: [token for chunk in chunks for token in chunk])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Sandbox:
    root = tmp_path_factory.mktemp("fuzz")
    return Sandbox(root, saved_tiny_model(root / "tiny-model", seed=2))


@pytest.fixture(scope="module")
def stand_ins(sandbox: Sandbox):
    """The slow work behind the arguments replaced, and every default path inside the sandbox (see the docstring)."""
    import uvicorn

    import core.corpus.build
    import core.dataset
    import core.evaluation.evaluate
    import core.model
    import core.notation.export
    import core.serving.export
    import core.training.train
    from core.serving.export import ExportResult
    from tests.test_evaluate import FRAME

    real_build_model = core.model.build_model
    out = sandbox.root / "output"

    def serve_nothing(self, sockets=None):
        for sock in sockets or ():
            sock.close()

    def export_nothing(model, fmt, out_dir, verify=True):
        return ExportResult(fmt, Path(out_dir) / "model", 0, 0.0, None)

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"OUTPUT_DIR": out, "RUNS_DIR": out / "runs", "ACTIVE_MODEL_FILE": out / "active_model.txt",
                            "DEFAULT_MODEL_DIR": sandbox.model}.items():
            patch.setattr(paths, name, value)
        patch.setattr(core.training.train, "train", lambda config, **kwargs: out / "runs" / str(config.run_name))
        patch.setattr(core.corpus.build, "build_corpus", lambda sources, out_path, log=print: None)
        patch.setattr(core.dataset, "describe_batch", lambda **kwargs: "a batch")
        patch.setattr(core.serving.export, "export_model", export_nothing)
        patch.setattr(core.notation.export, "export_progression", lambda chords, out_dir, stem="p", **kwargs: {})
        patch.setattr(core.evaluation.evaluate, "shipped_table", lambda: FRAME)
        patch.setattr(core.model, "build_model", lambda config=None, unroll=False: real_build_model(ModelConfig(**TINY)))
        patch.setattr(uvicorn.Server, "run", serve_nothing)
        patch.setattr(uvicorn.Config, "configure_logging", lambda self: None)  # its dictConfig closes pytest's handlers
        patch.setenv("CHORDSMITH_SECRETS", str(sandbox.root / "secrets.toml"))  # owner: never the real secrets
        for variable in ("CHORDSMITH_OWNER_PASSWORD_HASH", "CHORDSMITH_API_KEY_HASH"):
            patch.delenv(variable, raising=False)
        patch.chdir(sandbox.root)
        yield


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with stdin empty and stdout/stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            _stdin(io.StringIO("")):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def _stdin(stream):
    import sys

    saved, sys.stdin = sys.stdin, stream
    try:
        yield
    finally:
        sys.stdin = saved


def check_outcome(argv: list[str], status: int, out: str, err: str) -> None:
    """The contract: 0, 1 or 2; a refusal is one ``error:`` line; no traceback, no last-resort line."""
    assert status in (0, 1, 2), (argv, status, err)
    assert "Traceback" not in out + err, (argv, err)
    assert "unexpected " not in err, (argv, err)
    if status:
        lines = err.strip().splitlines()
        assert len(lines) >= 1 and lines[-1].startswith("error: "), (argv, err)
        assert not [line for line in lines if not line.startswith(("error: ", "note: "))], (argv, err)


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
def test_every_sub_command_survives_drawn_arguments(command: tuple[str, ...], sandbox, stand_ins) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_EXAMPLES"), database=None,
              suppress_health_check=list(HealthCheck))
    @given(extra=argument_lists(COMMANDS[command], sandbox))
    def run(extra: list[str]) -> None:
        argv = [*command, *extra]
        if command[0] in ("generate", "score", "export", "evaluate", "next", "serve") and "--model" not in extra:
            argv += ["--model", str(sandbox.model)]
        if command[0] == "serve" and "--port" not in extra:
            argv += ["--port", str(_free_port())]
        check_outcome(argv, *run_cli(argv))

    run()


def test_the_fuzz_covers_every_sub_command() -> None:
    assert {c[0] for c in COMMANDS} >= {"data", "summary", "train", "evaluate", "generate", "score", "export", "serve"}
    assert {("data", "build"), ("data", "stats"), ("data", "batch")} <= set(COMMANDS)
    assert os.environ.get("CHORDSMITH_TRACEBACK") is None  # the last-resort line must not be turned off here


#: each hostile file, and the commands that read its kind (issue 25): each refused in one line, never a traceback.
HOSTILE_COMMANDS: dict[str, list[list[str]]] = {
    "bomb.mxl": [["data", "import"]], "crowded.mxl": [["data", "import"]], "huge.mid": [["data", "import"]],
    "many_harmony.musicxml": [["data", "import"]], "noise.bin": [["data", "import"], ["train", "--config"]],
    "nested.json": [["train", "--config"]],
    "bomb.keras": [["generate", "--model"], ["score", "--chords", "C G", "--model"], ["next", "--model"],
                   ["evaluate", "--model"], ["export", "--format", "onnx", "--out", "exported", "--model"]],
}


@pytest.mark.parametrize("name", sorted(HOSTILE_COMMANDS))
def test_hostile_files_are_refused_in_one_line(name: str, sandbox, stand_ins) -> None:
    for command in HOSTILE_COMMANDS[name]:
        argv = [*command, str(sandbox.hostile[name])]
        status, out, err = run_cli(argv)
        check_outcome(argv, status, out, err)
        assert status in (1, 2) and len(err.strip().splitlines()) == 1, (argv, err)
