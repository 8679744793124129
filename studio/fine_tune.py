"""The Training page's fine-tuning panel: a trained model tuned on a genre/source/mood, or on songs the user uploads.

Both start an ordinary background training through :func:`core.training.processes.start_training`
(so the live panel follows it); what is read and checked lives in :mod:`core.corpus.user_import`
and :mod:`core.config`. An upload is read once per set of files and kept in the session.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.conditions import GENRES, MOODS
from core.config import TrainConfig
from core.corpus.user_import import (
    FINE_TUNE_RECIPE,
    ImportRefused,
    ImportResult,
    fine_tune_config,
    import_songs,
    write_import,
)
from core.corpus.user_songs import EXTENSIONS, MAX_FILE_BYTES, FileReading
from core.errors import InputError
from core.training import active_model, processes, run_names
from core.training.lock import TrainingBusy, current_training
from studio import access
from studio.page import input_errors
from studio.plain_text import plain

ANY = "(any)"


def started(name: str, what: str) -> None:
    """After a start: a note for the next run of the page, the run in the URL, and a rerun."""
    st.session_state["training_flash"] = f"Started **{name}** in the background ({what}): follow it above."
    st.query_params["run"] = name
    st.rerun()


def subset_panel() -> None:
    """Fine-tune a chosen model on the corpus songs of one genre, source or mood."""
    choices = active_model.model_choices()
    with st.form("subset-form"):
        base_column, data_column, limits_column = st.columns(3)
        base = base_column.selectbox("Start from", choices, format_func=lambda c: c.label, key="tune-base")
        freeze = base_column.checkbox("Freeze the embeddings", key="tune-freeze",
                                      help="Keep the chord and condition embeddings of the model it starts from.")
        genre = data_column.selectbox("Genre", [ANY, *GENRES[1:]], index=GENRES.index("jazz"), key="tune-genre")
        mood = data_column.selectbox("Mood", [ANY, *MOODS[1:]], key="tune-mood")
        source = data_column.text_input("Source", placeholder="any (e.g. jazz-standards)", key="tune-source")
        minutes = limits_column.number_input("Time budget, minutes", value=2.0, min_value=0.0, step=1.0, key="tune-minutes")
        lr = limits_column.number_input("Learning rate", value=FINE_TUNE_RECIPE["lr"], step=1e-4, format="%.5f",
                                        key="tune-lr")
        run_name = limits_column.text_input("Run name", placeholder="empty: run-<date>-<time>", key="tune-name")
        submitted = st.form_submit_button("Fine-tune", type="primary", icon=":material/tune:")
    if submitted:
        with input_errors():
            access.require_owner("Fine-tuning")
            name = processes.start_training(TrainConfig.from_values({
                "init_from": str(base.folder), "freeze_embeddings": freeze, "genre": None if genre == ANY else genre,
                "mood": None if mood == ANY else mood, "source": source or None, "max_minutes": minutes, "lr": lr,
                "run_name": run_name,
            }))
            started(name, f"fine-tuning {base.label}")


def _read_upload(files: list, genre: str, mood: str) -> ImportResult:
    """The import of the uploaded files, read once per content and labels (kept in the session)."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.getvalue() + b"\0")
    key = ("song-import", digest.hexdigest(), genre, mood)
    if st.session_state.get("song-import-key") != key:
        st.session_state.pop("song-import", None)
        progress = st.progress(0.0, text="Reading the files…")

        def before_file(index: int, name: str) -> None:  # an st call: where Streamlit stops the run of a visitor who left
            progress.progress(index / len(files), text=f"Reading {name} ({index + 1} of {len(files)})…")

        try:
            result = import_songs([(file.name, file.getvalue()) for file in files], genre=genre, mood=mood,
                                  before_file=before_file)
        finally:
            progress.empty()
        st.session_state["song-import"], st.session_state["song-import-key"] = result, key
    return st.session_state["song-import"]


def files_frame(readings: list[FileReading]) -> pd.DataFrame:
    """One row per uploaded file: its format, songs and chords read, and how many things were not read."""
    return pd.DataFrame([{
        "file": reading.file, "format": reading.format, "songs": len(reading.songs), "chords": reading.chords,
        "not read": len(reading.problems), "read as the nearest chord": len(reading.notes),
        "keys guessed": reading.guessed_keys,
    } for reading in readings])


def show_readings(readings: list[FileReading]) -> None:
    """Per file: the table of what was read, every line that was not read (and why), and the notes."""
    st.dataframe(files_frame(readings), hide_index=True, width="stretch")
    not_read = [str(problem) for reading in readings for problem in reading.problems]
    notes = [str(note) for reading in readings for note in reading.notes]
    if not_read:
        st.warning(f"{len(not_read)} thing(s) could not be read and were left out:", icon=":material/warning:")
        st.code("\n".join(not_read), language="text")
    if notes:
        with st.expander(f"{len(notes)} symbol(s) read as the nearest chord the model knows"):
            st.code("\n".join(notes), language="text")


def show_import(result: ImportResult) -> None:
    """What was read (:func:`show_readings`) and which songs are held out."""
    summary = result.summary()
    show_readings(result.files)
    songs, windows = summary["songs"], summary["windows"]
    st.caption(f"Songs: {songs['train']} to train on, {songs['validation']} to stop early on, {songs['test']} held out "
               f"to compare before and after ({windows['train']} / {windows['validation']} / {windows['test']} progressions). "
               f"Stopping early on: {plain(', '.join(summary['validation_songs'])) or 'none'}; compared before and after: "
               f"{plain(', '.join(summary['test_songs'])) or 'none'}.")


def songs_panel() -> None:
    """Upload songs, see what was read, fine-tune the shipped default on them."""
    st.caption(f"Plain-text chord charts (one progression per line, an optional `key: G` line; `title:` lines group lines "
               f"into songs), ChordPro (`[C]` inline chords, `{{key: G}}`; each `{{title: …}}` or `{{new_song}}` starts a "
               f"song), MusicXML with chord symbols, or MIDI (chords from notes sounding together). At most "
               f"{MAX_FILE_BYTES // 1_000_000} MB per file.")
    files = st.file_uploader("Your songs", accept_multiple_files=True, key="song-files",
                             type=sorted(ext.lstrip(".") for ext in EXTENSIONS))
    label_genre, label_mood = st.columns(2)
    genre = label_genre.selectbox("Genre of these songs", GENRES, key="song-genre")
    mood = label_mood.selectbox("Mood of these songs", MOODS, key="song-mood")
    if not files:
        return
    with input_errors():
        access.require_owner("Reading uploaded songs")
        try:
            result = _read_upload(files, genre, mood)
        except ImportRefused as refused:  # the files were read: show what each gave beside why it is refused
            st.error(plain(str(refused)), icon=":material/error:")
            show_readings(refused.readings)
            return
        show_import(result)
        st.caption(f"Fine-tuning starts from the shipped default and trains for at most {FINE_TUNE_RECIPE['max_minutes']:g} "
                   f"minutes (learning rate {FINE_TUNE_RECIPE['lr']:g}), keeping the best epoch on the songs held for "
                   "stopping early; when it ends, the held-out songs' perplexity before and after shows above.")
        name = st.text_input("Run name", placeholder="empty: run-<date>-<time>", key="song-run-name")
        if st.button("Fine-tune the default on these songs", type="primary", icon=":material/tune:", key="song-tune"):
            if (busy := current_training()) is not None:
                raise TrainingBusy(busy)  # before the import is written
            if name and run_names.run_dir(name).exists():
                raise InputError(f"a run named {name!r} already exists; choose another name or leave it empty")
            table = write_import(result)
            run = processes.start_training(fine_tune_config(table, run_name=name or None))
            started(run, f"the default, fine-tuned on {table.parent.name}")
