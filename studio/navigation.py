"""The studio's pages (one list for ``app.py`` and the Home page links) and the way pages show bad input."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.errors import InputError

APP_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    """One page: its script under ``app_pages/``, title, icon and one line for the Home page."""

    path: str
    title: str
    icon: str
    blurb: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/home.py", "Home", ":material/home:", "What the studio does and the model in use."),
    PageSpec("app_pages/dataset.py", "Dataset", ":material/library_music:",
             "Explore the corpus: labels, lengths, frequent chords, transitions; search, read and hear progressions."),
    PageSpec("app_pages/training.py", "Training", ":material/model_training:",
             "Train a model in the background, follow its curves live, compare runs and choose the model in use."),
    PageSpec("app_pages/evaluation.py", "Evaluation", ":material/analytics:",
             "Test-set accuracy, perplexity and the n-gram baselines, per genre and mood."),
    PageSpec("app_pages/generate.py", "Generate", ":material/piano:",
             "Write progressions for a genre, mood and key; read them as notation and listen."),
)


def available_pages() -> list[PageSpec]:
    """The pages whose script exists (Evaluation and Generate appear once they are written)."""
    return [page for page in PAGES if (APP_DIR / page.path).exists()]


@contextmanager
def input_errors() -> Iterator[None]:
    """Show an :class:`InputError` raised in the block as ``st.error`` (its message, never a traceback)."""
    try:
        yield
    except InputError as error:
        st.error(str(error), icon=":material/error:")
