"""The owner and visitors: password hashes, ``python -m core owner``, sign-in limits, and the pages refusing visitors.

The pages run under streamlit.testing (AppTest) against a private output folder and a private
secrets file (``CHORDSMITH_SECRETS``). The refusals are tested through Streamlit's own message path:
a session that was the owner's and is not any more (signed out, or idle too long) still holds the
owner's widgets, and sends their clicks and values as a visitor's browser could; nothing happens.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_dataset_training import fake_run, page, studio  # noqa: F401 - the shared fixture

from core import credentials
from core.cli import main
from core.config import SIGN_IN_ATTEMPTS
from core.training import active_model, processes
from studio import access
from tests.secrets_support import private_secrets

PASSWORD = "correct horse battery staple"
TRAINING = "pages/2_training.py"


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private secrets file (empty), and a fresh sign-in counter."""
    path = private_secrets(tmp_path, monkeypatch)
    monkeypatch.setattr(access, "ATTEMPTS", access.SignInAttempts())
    return path


@pytest.fixture
def with_password(secrets: Path) -> Path:
    credentials.store_hash(credentials.OWNER_KEY, credentials.hashed(PASSWORD))
    return secrets


# --------------------------------------------------------------------------- hashes and the command line


def test_a_hash_matches_its_password_only_and_never_holds_it() -> None:
    stored = credentials.hashed(PASSWORD)
    assert credentials.matches(PASSWORD, stored) and not credentials.matches(PASSWORD + "!", stored)
    assert PASSWORD not in stored and credentials.hashed(PASSWORD) != stored  # salted
    key = credentials.new_api_key()
    assert credentials.matches(key, credentials.key_hashed(key)) and not credentials.matches("x", credentials.key_hashed(key))
    for broken in ("", "scrypt$1$2", "plain-text", "scrypt$99999999$8$1$AA==$AA=="):
        assert not credentials.matches(PASSWORD, broken)


def test_storing_a_hash_keeps_the_other_secrets_and_the_environment_wins(secrets: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.write_text('other = "kept"\n[section]\nx = 1\n', encoding="utf-8")
    credentials.store_hash(credentials.OWNER_KEY, "scrypt$old")
    credentials.store_hash(credentials.OWNER_KEY, "scrypt$new")
    text = secrets.read_text(encoding="utf-8")
    assert 'other = "kept"' in text and "[section]" in text and "old" not in text
    assert credentials.stored_hash(credentials.OWNER_KEY) == "scrypt$new"
    assert secrets.stat().st_mode & 0o077 == 0
    monkeypatch.setenv(credentials.ENVIRONMENT[credentials.OWNER_KEY], "scrypt$from-env")
    assert credentials.stored_hash(credentials.OWNER_KEY) == "scrypt$from-env"


def test_set_password_reads_stdin_and_stores_only_a_hash(secrets: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["owner", "set-password"]) == 0
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err and PASSWORD not in secrets.read_text(encoding="utf-8")
    assert credentials.matches(PASSWORD, credentials.stored_hash(credentials.OWNER_KEY))
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["owner", "set-password"]) == 2
    assert capsys.readouterr().err.startswith("error: the owner password needs at least")
    assert credentials.matches(PASSWORD, credentials.stored_hash(credentials.OWNER_KEY))  # unchanged
    assert main(["owner", "clear-password"]) == 0 and not credentials.owner_password_set()


def test_new_api_key_is_printed_once_and_stored_as_a_hash(secrets: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["owner", "new-api-key"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key not in secrets.read_text(encoding="utf-8")
    assert credentials.matches(key, credentials.stored_hash(credentials.API_KEY_KEY))


def test_sign_in_attempts_are_limited_per_address_and_in_all() -> None:
    attempts = access.SignInAttempts(per_address=3, in_all=5, window_s=100)
    for second in range(3):
        assert attempts.wait_s("a", second) == 0
        attempts.failed("a", second)
    assert attempts.wait_s("a", 10) == pytest.approx(90) and attempts.wait_s("b", 10) == 0
    attempts.failed("b", 11)
    attempts.failed("c", 12)
    assert attempts.wait_s("d", 13) == pytest.approx(87)  # five in all: everyone waits
    assert attempts.wait_s("a", 101) == 0  # the oldest left the window


# --------------------------------------------------------------------------- the pages


def sign_in(at: AppTest, password: str) -> AppTest:
    at.text_input(key="access-password").set_value(password)
    next(b for b in at.button if b.key == "FormSubmitter:access-form-Sign in").click()
    return at.run()


def refused(at: AppTest) -> bool:
    return any("is for the studio's owner" in info.value for info in at.info)


def test_on_127_0_0_1_without_a_password_the_local_user_is_the_owner(studio: Path, secrets: Path) -> None:  # noqa: F811
    at = page(TRAINING).run()
    assert not at.exception and not refused(at)
    assert any(b.label == "Start training" for b in at.button)


def test_with_a_password_a_visitor_gets_generate_but_not_training(studio: Path, with_password: Path) -> None:  # noqa: F811
    at = page(TRAINING).run()
    assert not at.exception and refused(at)
    assert not any(b.label in ("Start training", "Make active", "Delete…") for b in at.button)
    evaluation = page("pages/3_evaluation.py").run()
    assert not any(b.key == "eval-compute" for b in evaluation.button)


def test_a_wrong_password_is_refused_and_too_many_wait(studio: Path, with_password: Path) -> None:  # noqa: F811
    at = page(TRAINING).run()
    for _ in range(SIGN_IN_ATTEMPTS):
        at = sign_in(at, "not the password")
        assert any("Wrong password" in e.value for e in at.error) and refused(at)
    at = sign_in(at, PASSWORD)  # right, but only after the wait
    assert any("Too many wrong passwords" in e.value for e in at.error) and refused(at), [e.value for e in at.error]


def test_the_owner_signs_in_and_out(studio: Path, with_password: Path) -> None:  # noqa: F811
    at = sign_in(page(TRAINING).run(), PASSWORD)
    assert not at.exception and not refused(at)
    assert any(b.label == "Start training" for b in at.button)
    next(b for b in at.button if b.key == "access-sign-out").click().run()
    assert refused(at)


def test_a_visitor_sending_the_owners_clicks_changes_nothing(studio: Path, with_password: Path,  # noqa: F811
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fake_run(studio, "first", [2.0, 1.6])
    started = []
    monkeypatch.setattr(processes, "start_training", lambda config: started.append(config) or "x")
    at = sign_in(page(TRAINING).run(), PASSWORD)
    start = next(b for b in at.button if b.label == "Start training")
    at.selectbox(key="model-choice").set_value(next(c for c in at.selectbox(key="model-choice").options if c == "first"))
    make_active = next(b for b in at.button if b.key == "make-active")
    rename_to, rename = at.text_input(key="rename-to"), next(b for b in at.button if b.key == "rename")
    monkeypatch.setenv("CHORDSMITH_OWNER_IDLE_MINUTES", "0")  # the sign-in lapses; the browser still has the widgets
    start.click().run()
    assert refused(at) and started == []
    make_active.click().run()
    assert refused(at) and active_model.active_run_name() != "first"
    rename_to.set_value("renamed")
    rename.click().run()
    assert refused(at) and (studio / "runs" / "first").is_dir() and not (studio / "runs" / "renamed").exists()


def test_bound_to_another_address_without_a_password_it_is_visitors_only(studio: Path, secrets: Path,  # noqa: F811
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(access, "bound_locally", lambda: False)
    at = page(TRAINING).run()
    assert not at.exception and refused(at)
    assert "python -m core owner set-password" in " ".join(i.value for i in at.info)
    assert not any(b.label == "Sign in" for b in at.button)
    generate = page("pages/4_generate.py")
    generate.query_params["seed"] = "1"
    generate.run()
    assert not generate.exception and not refused(generate)
