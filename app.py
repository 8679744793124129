"""Chordsmith studio: ``streamlit run app.py``. Registers the pages; each page lives in ``pages/``."""

import streamlit as st

from studio.navigation import available_pages

st.set_page_config(page_title="Chordsmith", page_icon=":material/music_note:", layout="wide")
pages = [st.Page(page.path, title=page.title, icon=page.icon, default=page.title == "Home") for page in available_pages()]
st.navigation(pages).run()
