"""The Streamlit layer of Chordsmith: page registry, cached loaders and chart builders shared by every page.

``app.py`` and the pages under ``pages/`` import from here and from :mod:`core`; nothing here holds studio logic
(that lives in ``core``, with tests), only caching, figures and page plumbing.
"""
