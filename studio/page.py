"""Page set-up shared by every page, the page list for the Home page, and the way pages show bad input.

The studio follows Streamlit's classic multipage convention: ``app.py`` is Home and every other page
is a file in ``pages/`` whose name gives its order and address (``pages/4_generate.py`` → ``/generate``).
Streamlit runs a page file on its own when its address is opened first (a shared link straight after
a server start), so each page calls :func:`set_up` itself instead of relying on ``app.py`` having run:
page config and the sidebar are the same whichever page a visit starts on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.errors import EnvironmentFault, InputError, os_error_message
from core.paths import active_model_problem, shown_paths
from studio import access, rerun_timing
from studio.plain_text import plain

APP_TITLE = "Chordsmith"
#: the browser tab's icon: a file shipped beside this module (sent inline), so no page asks a font host on the
#: internet for it (a ``:material/…:`` page icon is fetched from fonts.gstatic.com and fails offline).
APP_ICON = Path(__file__).with_name("favicon.svg")


@dataclass(frozen=True)
class PageSpec:
    """One page: its script (relative to the repository root), title, icon and one line for the Home page."""

    path: str
    title: str
    icon: str
    blurb: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("app.py", "Home", ":material/home:", "What the studio does and the model in use."),
    PageSpec("pages/1_dataset.py", "Dataset", ":material/library_music:",
             "Explore the corpus: labels, lengths, frequent chords, transitions; search, read and hear progressions."),
    PageSpec("pages/2_training.py", "Training", ":material/model_training:",
             "Train a model in the background, follow its curves live, compare runs and choose the model in use."),
    PageSpec("pages/3_evaluation.py", "Evaluation", ":material/analytics:",
             "Test-set accuracy, perplexity and the n-gram baselines, per genre and mood."),
    PageSpec("pages/4_generate.py", "Generate", ":material/piano:",
             "Write progressions for a genre, mood and key; read them as notation and listen."),
)


def page_spec(title: str) -> PageSpec:
    """The :class:`PageSpec` titled ``title`` (one of :data:`PAGES`)."""
    return next(page for page in PAGES if page.title == title)


def set_up(title: str) -> PageSpec:
    """Configure the page titled ``title``: browser tab, wide layout, sidebar navigation, the heading.

    Call first on every page. Streamlit's own sidebar list is switched off in ``.streamlit/config.toml``
    (it labels pages by file name: "app", "generate"); this draws the same list with titles and icons.
    """
    rerun_timing.install()  # nothing unless the benchmarks asked for server-side timing (CHORDSMITH_RERUN_LOG)
    page = page_spec(title)
    tab = APP_TITLE if title == "Home" else f"{title} · {APP_TITLE}"
    st.set_page_config(page_title=tab, page_icon=APP_ICON, layout="wide")
    with st.sidebar:
        for entry in PAGES:
            st.page_link(entry.path, label=entry.title, icon=entry.icon)
        access.sidebar_panel()
    st.title(APP_TITLE if title == "Home" else title)
    pointer_problem = active_model_problem()
    if pointer_problem is not None:  # the studio goes on with the shipped default; this says why, on every page
        st.error(plain(shown_paths(pointer_problem)), icon=":material/error:")
    return page


@contextmanager
def input_errors() -> Iterator[None]:
    """Show bad input and machine faults raised in the block as ``st.error``: their message, never a traceback.

    An :class:`InputError` (a refused value), an :class:`EnvironmentFault` (a full disk, a folder
    blocked by a file, a model file that cannot be used: :class:`core.errors.ModelFault`) and an
    ``OSError`` (worded by :func:`core.errors.os_error_message`) are each one message, its paths
    relative to the project (:func:`core.paths.shown_paths`): a visitor never learns the server's layout.
    """
    try:
        yield
    except (InputError, EnvironmentFault) as error:
        st.error(plain(shown_paths(str(error))), icon=":material/error:")
    except OSError as error:
        st.error(plain(shown_paths(os_error_message(error))), icon=":material/error:")
