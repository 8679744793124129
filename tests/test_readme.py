"""The README stays a page a newcomer reads, and what it tells them to type works.

The README is the first thing read and the last thing re-checked, so it is held to a size, its fenced
shell commands are read back and checked against the tree (the scripts exist, every ``python -m core``
sub-command and flag is one the command line accepts, every ``python -m bench`` module exists), and the
cheap ones are run exactly as written (with the running interpreter for ``python``, and a private output
folder so the shipped default model is the one in use). Commands that start a server, train or run
benchmarks are skipped by name, each with its reason. Every relative link in the README and the pages
of ``docs/`` must lead to a file that exists.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_BYTES = 12 * 1024
MAX_IMAGE_BYTES = 400 * 1024
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}

#: commands not run here, by their leading words, with the reason; anything else in a README shell block runs.
NOT_RUN: dict[tuple[str, ...], str] = {
    ("./run.sh",): "starts the studio's server and stays up",
    ("./test.sh",): "runs the whole test suite (this test is part of it); .ci/run calls it",
    ("python", "-m", "core", "train"): "trains a model for minutes",
    ("python", "-m", "core", "serve"): "starts the HTTP server and stays up",
    ("python", "-m", "core", "export"): "loads TensorFlow and converts a model",
    ("python", "-m", "core", "evaluate"): "loads TensorFlow and scores every test song",
    ("python", "-m", "core", "data", "build"): "rebuilds the corpus from ../shared/data",
    ("python", "-m", "bench"): "runs benchmarks for minutes",
}
#: each run command's time limit, generous for a busy shared machine.
RUN_TIMEOUT_S = 300


def fenced_shell_commands(markdown: str) -> list[str]:
    """The commands in ``markdown``'s fenced shell blocks, one per line, continuation lines joined."""
    commands: list[str] = []
    for language, body in re.findall(r"^```(\w*)\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL):
        if language not in SHELL_LANGUAGES:
            continue
        for line in re.sub(r"\\\n\s*", " ", body).splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


def skip_reason(words: list[str]) -> str | None:
    """Why the command of ``words`` is not run here, or None when it is."""
    for prefix, reason in NOT_RUN.items():
        if tuple(words[: len(prefix)]) == prefix:
            return reason
    return None


def relative_links(markdown: str) -> list[str]:
    """Every link and image target in ``markdown`` that is not a web address or an anchor on the same page."""
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", markdown)
    return [t for t in targets if not re.match(r"^[a-z]+:", t) and not t.startswith("#")]


README_TEXT = README.read_text(encoding="utf-8")
COMMANDS = fenced_shell_commands(README_TEXT)
MARKDOWN_PAGES = [README, *sorted(DOCS.glob("*.md"))]


def test_readme_is_at_most_12_kb() -> None:
    size = len(README_TEXT.encode("utf-8"))
    assert size <= MAX_README_BYTES, f"README.md is {size} bytes; move detail into docs/"


def test_readme_keeps_the_two_commands_exactly() -> None:
    assert "./run.sh" in COMMANDS and "./test.sh" in COMMANDS


def test_the_command_reader_joins_continuations_and_drops_comments() -> None:
    text = "```bash\npython -m core generate --genre jazz \\\n    --length 4   # four chords\n```\n```python\nx = 1\n```\n"
    assert fenced_shell_commands(text) == ["python -m core generate --genre jazz --length 4"]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_readme_command_names_what_exists(command: str) -> None:
    words = shlex.split(command)
    if words[0].startswith("./"):
        script = ROOT / words[0]
        assert script.is_file() and os.access(script, os.X_OK), f"{words[0]} is not an executable file"
    elif words[:3] == ["python", "-m", "core"]:
        if words[3:] == ["--help"]:
            return
        try:
            build_parser().parse_args(words[3:])
        except SystemExit as refused:
            pytest.fail(f"python -m core refuses {command!r} (exit {refused.code})")
    elif words[:2] == ["python", "-m"] and words[2].split(".")[0] == "bench":
        module = ROOT.joinpath(*words[2].split("."))
        source = module / "__main__.py" if module.is_dir() else module.with_suffix(".py")
        assert source.is_file(), f"no module {words[2]}"
        for flag in (word.split("=")[0] for word in words[3:] if word.startswith("--")):
            assert flag in source.read_text(encoding="utf-8"), f"{words[2]} has no {flag}"
    else:
        pytest.fail(f"the README's command {command!r} is neither a script of the repository nor python -m core/bench")


@pytest.mark.parametrize("command", [c for c in COMMANDS if skip_reason(shlex.split(c)) is None])
def test_each_cheap_readme_command_runs(command: str, tmp_path: Path) -> None:
    words = shlex.split(command)
    assert words[:2] == ["python", "-m"], f"only python -m commands are run here: {command!r}"
    environment = {**os.environ, "CHORDSMITH_OUTPUT": str(tmp_path / "output")}
    done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{command!r} exited {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.strip(), f"{command!r} printed nothing"


def test_the_readme_runs_some_commands_and_skips_only_listed_ones() -> None:
    skipped = [c for c in COMMANDS if skip_reason(shlex.split(c))]
    assert len(skipped) < len(COMMANDS), "every README command is skipped: nothing it says is run"
    assert any(shlex.split(c)[3:4] == ["generate"] for c in COMMANDS if c not in skipped)


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = [t for t in relative_links(text) if not (page.parent / t.split("#")[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_the_link_reader_finds_relative_targets_only() -> None:
    text = "[a](docs/cli.md) ![shot](images/x.png) [web](https://example.org) [here](#top) [b](../bench/results.md#api)"
    assert relative_links(text) == ["docs/cli.md", "images/x.png", "../bench/results.md#api"]


def test_every_docs_page_is_linked_from_the_readme_or_another_page() -> None:
    linked = {(page.parent / t.split("#")[0]).resolve() for page in MARKDOWN_PAGES
              for t in relative_links(page.read_text(encoding="utf-8"))}
    orphans = [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert not orphans, f"docs pages nobody links to: {orphans}"


def test_images_in_the_docs_stay_small() -> None:
    images = sorted((DOCS / "images").glob("*.png"))
    assert images, "the README's screenshot is missing"
    for image in images:
        assert image.stat().st_size < MAX_IMAGE_BYTES, f"{image.name} is {image.stat().st_size} bytes"
