"""Chordsmith studio, Home page: ``streamlit run app.py``.

What the studio does, the model in use with its test results, and the way to every page. The other
pages are files in ``pages/`` (Streamlit's classic multipage convention; see :mod:`studio.page`).
"""

import streamlit as st

from core.paths import shown_path
from core.training import active_model
from studio.page import PAGES, set_up

set_up("Home")
st.markdown(
    "Write chord progressions with a conditional LSTM: pick a **genre, mood, key and scale type** and the model "
    "proposes chords that fit.  \nExplore the corpus it learns from, train your own model in the background, "
    "evaluate it against n-gram baselines and play with what it writes."
)

model = active_model.model_in_use()
st.subheader("Model in use")
if not model.exists:
    st.warning(f"No trained model at `{shown_path(model.folder)}` yet: train one on the Training page and make it active.")
else:
    left, middle, right = st.columns(3)
    left.metric("Model", model.label)
    middle.metric("Test top-1 accuracy", f"{model.test_top1:.1%}" if model.test_top1 is not None else "—")
    right.metric("Test top-5 accuracy", f"{model.test_top5:.1%}" if model.test_top5 is not None else "—")
    if model.test_metrics:
        with st.expander("All test results"):
            st.dataframe({"metric": list(model.test_metrics), "value": list(model.test_metrics.values())},
                         hide_index=True, width="stretch")
    else:
        st.caption("No test_results.json beside this model yet.")
    st.caption(f"Folder: `{shown_path(model.folder)}`")

st.subheader("Pages")
for page in PAGES:
    if page.title != "Home":
        st.page_link(page.path, label=f"**{page.title}** — {page.blurb}", icon=page.icon)
