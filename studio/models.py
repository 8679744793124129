"""Which model a page works with: the model in use, or a run chosen on the page; one message when there is none."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from core.run_files import MODEL_FILE
from core.training import active_model, follow

MODEL_IN_USE = "model in use"
NO_MODEL_HINT = ("train one on the **Training** page and make it active (the default model, `models/default`, "
                 "appears once it has been trained)")


def model_version(folder: Path) -> float:
    """The model file's modification time: part of every cache key, so a retrained model is never served stale."""
    path = Path(folder) / MODEL_FILE
    return path.stat().st_mtime if path.exists() else 0.0


def choose_model_folder(key: str = "model-choice") -> Path | None:
    """A picker over the model in use and every run with a model (kept in the URL as ``run``).

    Returns the chosen folder, or ``None`` after a message when no model exists at all.
    """
    model = active_model.model_in_use()
    with_models = {run.name: run.folder for run in follow.list_runs() if run.has_model}
    options = ([MODEL_IN_USE] if model.exists else []) + list(with_models)
    if not options:
        st.info(f"No trained model yet: {NO_MODEL_HINT}.", icon=":material/info:")
        return None
    requested = st.query_params.get("run")
    if key not in st.session_state or (requested in with_models and st.session_state[key] != requested):
        st.session_state[key] = requested if requested in with_models else options[0]
    if st.session_state[key] not in options:
        st.session_state[key] = options[0]
    chosen = st.columns([2, 3])[0].selectbox("Model", options, key=key,
                          format_func=lambda o: f"{o} ({model.label})" if o == MODEL_IN_USE else f"run {o}")
    if chosen == MODEL_IN_USE:
        st.query_params.pop("run", None)
        return model.folder
    st.query_params["run"] = chosen
    return with_models[chosen]


def with_ensemble(folder: Path) -> tuple[str, float]:
    """The model a page generates with: ``folder``, or ``folder`` averaged with the runs chosen here (an ensemble).

    Returns what the loaders take (:func:`core.generation.ensemble.load_ensemble`: the folders
    joined by ``os.pathsep``) and a version covering every member, for the caches.
    """
    others = {run.name: run.folder for run in follow.list_runs()
              if run.has_model and run.folder.resolve() != Path(folder).resolve()}
    chosen = st.multiselect("Average with (ensemble)", list(others), key="ensemble", placeholder="no other model",
                            help="Each chord's probability becomes the mean of these models' and the model in use's.",
                            ) if others else []
    folders = [Path(folder), *(others[name] for name in chosen)]
    return os.pathsep.join(str(f) for f in folders), max(model_version(f) for f in folders)
