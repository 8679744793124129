"""Dataset: the corpus the model learns from — labels, lengths, chords, transitions; search, read, listen."""

import streamlit as st

from core.conditions import GENRES, MOODS, SCALE_TYPES
from core.corpus import browse
from studio import charts, loaders
from studio.page import input_errors, set_up

set_up("Dataset")

with input_errors():
    path = loaders.corpus_path()
    stats = loaders.headline(path)
    songs, windows, chords, used = st.columns(4)
    songs.metric("Songs", f"{stats['songs']:,}")
    windows.metric("Progression windows", f"{stats['windows']:,}")
    chords.metric("Chords", f"{stats['chords']:,}")
    used.metric("Chord symbols used", f"{stats['chords_used']} of {stats['vocabulary_size'] - 3}")

    overview, chord_tab, browse_tab = st.tabs(["Labels and lengths", "Chords and transitions", "Browse progressions"])

    with overview:
        measure = st.radio("Count", ["songs", "windows"], horizontal=True, key="measure")
        left, right = st.columns(2)
        for index, (column, title) in enumerate(
            (("source", "Source"), ("genre", "Genre"), ("mood", "Mood"), ("scale_type", "Scale type"), ("key", "Key"))
        ):
            target = left if index % 2 == 0 else right
            target.plotly_chart(charts.count_bars(loaders.label_counts(path, column), column, title, measure),
                                key=f"counts-{column}")
        right.plotly_chart(charts.length_bars(loaders.lengths(path, "all", "all", "all")), key="lengths-all")

    with chord_tab:
        genre_col, mood_col, scale_col, top_col = st.columns(4)
        genre = genre_col.selectbox("Genre", ["all", *GENRES], key="genre")
        mood = mood_col.selectbox("Mood", ["all", *MOODS], key="mood")
        scale_type = scale_col.selectbox("Scale type", ["all", *SCALE_TYPES], key="scale_type")
        top = top_col.slider("Chords shown", 5, 40, 20, key="top")
        counts = loaders.chord_counts(path, genre, mood, scale_type, top)
        if counts.empty:
            st.info("No progressions with these labels.")
        else:
            st.plotly_chart(charts.chord_bars(counts), key="chord-bars")
            st.plotly_chart(charts.transition_heatmap(loaders.transitions(path, genre, mood, scale_type, top)),
                            key="transitions")
            st.plotly_chart(charts.length_bars(loaders.lengths(path, genre, mood, scale_type)), key="lengths-filtered")

    with browse_tab:
        query_col, unit_col = st.columns([3, 1])
        query = query_col.text_input("Search title, artist or chords", placeholder="e.g. beatles, or: Am F C G",
                                     key="query")
        unit = unit_col.radio("Show", ["windows", "songs"], horizontal=True, key="unit")
        found = loaders.search(path, query, unit == "songs")
        st.caption(f"{len(found):,} {unit} found · tick a row to read it as notation and hear it")
        picked = st.dataframe(found.head(2000), hide_index=True, width="stretch", height=320,
                              on_select="rerun", selection_mode="single-row", key="results")
        if not found.empty:
            rows = picked.selection.rows if picked else []
            row = found.iloc[rows[0] if rows else 0]
            st.subheader(browse.window_label(row))
            key = browse.window_key(row)
            st.image(loaders.notation_svg(row["chords"], key, str(row["title"] or "Progression")), width="stretch")
            st.audio(loaders.progression_wav(row["chords"]), format="audio/wav")
