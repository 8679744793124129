"""Supplied text renders as plain text: studio.plain_text.plain, and the Generate page fed hostile links and fields.

Markdown, HTML and Streamlit's own directives (colours, icons, emoji) go through every URL parameter
of the Generate page and through its text fields (Seed chords, Analyze, the composer); every element
that shows them back must carry them escaped: no link, image, coloured span, icon or bare link can
form from them. The same payloads in a real browser are in tests/test_plain_text_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_dataset_training import page, studio  # noqa: F401 - the shared fixture

from core.training import active_model
from studio.plain_text import WORD_JOINER, as_read, plain
from tests.tiny_models import saved_tiny_model

GENERATE = "pages/4_generate.py"

#: each would render as something other than its characters if shown as Markdown; all name the marker "evil".
PAYLOADS = (
    "[Click evil](https://evil.example/x)",
    "![evil](https://evil.example/p.png)",
    ":red[**evil HACKED**]",
    ":material/skull: evil :smile:",
    "<img src=https://evil.example/h.png>evil",
    "evil https://evil.example/b www.evil.example",
    "evil@evil.example `evil` ~~evil~~ $evil$",
    "# evil\n- evil\n1. evil",
)
#: every parameter the Generate page reads from its address.
PARAMETERS = ("genre", "mood", "key", "scale", "length", "samples", "temperature", "top_k", "top_p", "seed", "in_key",
              "let_end", "guidance", "transpose", "tempo", "voicing", "seed_chords", "analyze", "p1", "compose", "fav",
              "model", "view", "locks", "swaps")

#: what Markdown or Streamlit would turn into something else, when not escaped by plain().
_RAW_MARKUP = (
    re.compile(r"(?<!\\)[\[\]<>`~$*_#]"),  # links, images, HTML, code, strike, maths, emphasis, headings
    re.compile(r":(?=[A-Za-z0-9/+])"),  # :red[…], :material/…:, :smile:, https://
    re.compile(r"@(?=[^\s\u2060])"),  # e-mail autolinks
    re.compile(r"(?i)www"),  # bare www. links
    re.compile(r"^\s*(?:[-+=]|\d+[.)])", re.MULTILINE),  # list items, setext underlines
)
#: the page's own icon at the start of a caption (studio.analyze_panel's notes), not supplied text.
_OWN_ICON = re.compile(r"^:material/[a-z_]+: ")


def raw_markup(shown: str) -> list[str]:
    """The Markdown-making pieces left unescaped in ``shown`` (an element's Markdown source)."""
    text = _OWN_ICON.sub("", shown)
    return [found.group(0) for pattern in _RAW_MARKUP for found in pattern.finditer(text)]


# --------------------------------------------------------------------------- plain() itself


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_escapes_every_markup_and_reads_back_as_typed(payload: str) -> None:
    escaped = plain(payload)
    assert raw_markup(escaped) == [], escaped
    assert as_read(escaped) == payload


def test_the_markup_check_finds_each_payload_unescaped() -> None:  # the check above can fail
    for payload in PAYLOADS:
        assert raw_markup(payload), payload


def test_plain_leaves_ordinary_prose_readable() -> None:
    prose = "length=999: length must be from 2 to 64, got 999; using 8 (C7/E, don't)."
    assert plain(prose) == prose
    assert plain("https://x") == f"https:{WORD_JOINER}//x" and plain("a\\b") == "a\\\\b"


# --------------------------------------------------------------------------- the Generate page


@pytest.fixture
def model(studio: Path) -> Path:  # noqa: F811 - pytest fixture injection
    folder = saved_tiny_model(studio / "runs" / "tiny", end_bias=-3.0)
    active_model.set_active("tiny")
    return folder


def shown_texts(at: AppTest) -> list[str]:
    """The Markdown source of every element and label the page shows (what Streamlit renders as Markdown)."""
    kinds = ("markdown", "caption", "warning", "error", "info", "success", "toast", "title", "header", "subheader")
    texts = [str(element.value) for kind in kinds for element in at.get(kind)]
    widgets = ("button", "text_input", "text_area", "selectbox", "slider", "number_input", "toggle", "tabs")
    return texts + [str(getattr(widget, "label", "")) for kind in widgets for widget in at.get(kind)]


def assert_nothing_rendered(at: AppTest) -> int:
    """No element carrying a payload shows it as markup; returns how many elements carried one."""
    assert not at.exception, at.exception
    carrying = [text for text in shown_texts(at) if "evil" in text]
    for text in carrying:
        assert raw_markup(text) == [], (text, raw_markup(text))
    return len(carrying)


@pytest.mark.slow
def test_every_url_parameter_shows_every_payload_as_plain_text(model: Path) -> None:
    carried = 0
    for shift in range(len(PAYLOADS)):
        at = page(GENERATE)
        for number, name in enumerate(PARAMETERS):
            at.query_params[name] = PAYLOADS[(number + shift) % len(PAYLOADS)]
        at.run()
        carried += assert_nothing_rendered(at)
    assert carried >= len(PAYLOADS) * 8  # the bad-value warnings do show the payloads, escaped


@pytest.mark.slow
def test_the_text_fields_show_every_payload_as_plain_text(model: Path) -> None:
    at = page(GENERATE)
    at.query_params.update({"seed": "1", "samples": "1", "view": "analyze"})
    at.run()
    carried = 0
    for payload in PAYLOADS:
        at.text_input(key="gen-seed_chords").set_value(payload)
        at.text_area(key="gen-analyze").set_value(payload).run()
        carried += assert_nothing_rendered(at)
    assert carried >= len(PAYLOADS)  # the Analyze error names what it could not read
    composed = page(GENERATE)
    composed.query_params.update({"seed": "1", "samples": "1", "view": "compose"})
    composed.run()
    for payload in PAYLOADS:
        composed.text_input(key="gen-compose-text").set_value(payload).run()
        assert_nothing_rendered(composed)
