"""Chordsmith studio: ``streamlit run app.py``. Registers the pages; each page lives in ``app_pages/``.

The folder is deliberately not called ``pages/``: with a ``pages/`` folder beside the entrypoint,
Streamlit starts in its old multipage mode, and a first visit straight to ``/training`` after a
server start would run that page without this file (no navigation, no page config) until
someone opened ``/``.
"""

import streamlit as st

from studio.navigation import available_pages

st.set_page_config(page_title="Chordsmith", page_icon=":material/music_note:", layout="wide")
pages = [st.Page(page.path, title=page.title, icon=page.icon, default=page.title == "Home") for page in available_pages()]
st.navigation(pages).run()
