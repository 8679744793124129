"""The studio's page frame (studio/page.py): faults raised inside a page's work are shown as one error box."""

from __future__ import annotations

import pytest


def _page_showing(fault: str) -> None:
    """A page whose work raises ``fault`` inside :func:`studio.page.input_errors` (run by AppTest)."""
    import errno

    from core.errors import EnvironmentFault, InputError, ModelFault
    from studio.page import input_errors

    raised = {"input": InputError("bad value"), "environment": EnvironmentFault("the disk is full"),
              "model": ModelFault("cannot load the model x.keras: the file is empty"),
              "os": OSError(errno.ENOSPC, "No space left on device", "/tmp/x")}
    with input_errors():
        raise raised[fault]


@pytest.mark.parametrize(("fault", "shown"), [
    ("input", "bad value"), ("environment", "the disk is full"), ("model", "the file is empty"),
    ("os", "the disk is full (no space left on device): /tmp/x"),
])
def test_pages_show_faults_and_unusable_models_as_errors(fault: str, shown: str) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page_showing, args=(fault,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [shown] or shown in at.error[0].value
