"""Dataset: the corpus the model learns from — labels, lengths, chords, transitions; whole songs; search, read, listen."""

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.conditions import GENRES, MOODS, SCALE_TYPES
from core.corpus import browse, song_view
from core.corpus.song_stats import song_stats
from core.corpus.songs import SONGS_FILE, load_songs
from studio import charts, loaders
from studio.page import input_errors, set_up

set_up("Dataset")


@st.cache_data(show_spinner="Counting sections…")
def _song_figures(path: str, mtime: float) -> dict[str, object]:
    return song_stats(load_songs(Path(path)))


def _strip_figure(strip: pd.DataFrame) -> go.Figure:
    """A song's sections as rows of chord boxes, each as wide as its beats (hatched where the length is unknown)."""
    figure = go.Figure()
    names = dict(song_view.section_names(strip))
    for index, rows in strip.groupby("section_index", sort=True):
        figure.add_bar(
            y=[names[int(index)]] * len(rows), x=rows["width"], base=rows["start"] - rows["start"].min(),
            orientation="h", text=rows["chord"], textposition="inside", insidetextanchor="middle", showlegend=False,
            marker_pattern_shape=["" if timed else "/" for timed in rows["timed"]],
            hovertemplate="%{text}: %{x} beats<extra></extra>",
        )
    figure.update_layout(barmode="overlay", height=60 + 28 * len(names), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                         yaxis={"autorange": "reversed"}, xaxis_title="beats from the section's start")
    return figure


def _songs_tab(path: str) -> None:
    """Whole songs: section and duration figures, and one song as a strip of sections to read and hear."""
    songs_path = Path(path).parent / SONGS_FILE
    if not songs_path.exists():
        st.info(f"The song table {SONGS_FILE} is not there yet: build it with "
                "'python -m core data build --sources ../shared/data'.")
        return
    figures = _song_figures(str(songs_path), songs_path.stat().st_mtime)
    songs_metric, sections_metric, timed_metric = st.columns(3)
    songs_metric.metric("Songs", f"{figures['songs']:,}")
    sections_metric.metric("Songs with sections", f"{figures['songs_with_sections']:,}")
    timed_metric.metric("Chords with a duration", f"{figures['chords_with_duration_share']:.1%}")
    left, right = st.columns(2)
    left.caption("Songs with section labels, per source")
    left.dataframe(pd.DataFrame(figures["sections_by_source"]).T, width="stretch", key="sections-by-source")
    right.caption("Section labels (occurrences)")
    right.bar_chart(pd.Series({k: v["occurrences"] for k, v in figures["section_labels"].items()}), height=260)
    for column, grouping in zip(st.columns(2), ("by_genre", "by_section"), strict=True):
        column.caption(f"Harmonic rhythm {grouping.replace('_', ' ')}: mean beats per chord")
        column.bar_chart(pd.Series({k: v["mean_beats"] for k, v in figures["harmonic_rhythm"][grouping].items()}),
                         height=240)
    absolute, roman = st.columns(2)
    for column, kind, title in ((absolute, "absolute", "Chord moves"), (roman, "roman", "The same in Roman numerals")):
        column.caption(title)
        column.dataframe(pd.Series(figures["transitions"][kind], name="count"), width="stretch", key=f"moves-{kind}")
    _song_view(load_songs(songs_path))


def _song_view(songs: pd.DataFrame) -> None:
    """Pick a song; see its sections as a strip; read and hear one section."""
    st.subheader("A song, section by section")
    query = st.text_input("Find a song (title, artist or id)", placeholder="e.g. yesterday", key="song-query")
    choices = song_view.song_choices(songs, query)
    if choices.empty:
        st.info("No song matches.")
        return
    labels = [f"{row.title} — {row.artist or row.source} ({row.song_id})" for row in choices.itertuples()]
    picked = st.selectbox("Song", range(len(labels)), format_func=labels.__getitem__, key="song")
    strip = song_view.song_strip(songs, choices["song_id"].iloc[picked])
    st.plotly_chart(_strip_figure(strip), key="song-strip")
    names = song_view.section_names(strip)
    section = st.selectbox("Section", [index for index, _ in names], format_func=dict(names).__getitem__, key="section")
    chords, key = song_view.section_progression(strip, section)
    if chords:
        st.image(loaders.notation_svg(chords, key, dict(names)[section]), width="stretch")
        st.audio(loaders.progression_wav(chords), format="audio/wav")

with input_errors():
    path = loaders.corpus_path()
    stats = loaders.headline(path)
    songs, windows, chords, used = st.columns(4)
    songs.metric("Songs with windows", f"{stats['songs']:,}")
    windows.metric("Progression windows", f"{stats['windows']:,}")
    chords.metric("Chords", f"{stats['chords']:,}")
    used.metric("Chord symbols used", f"{stats['chords_used']} of {stats['vocabulary_size'] - 3}")

    overview, chord_tab, browse_tab, songs_tab = st.tabs(
        ["Labels and lengths", "Chords and transitions", "Browse progressions", "Songs"])

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

    with songs_tab:
        _songs_tab(path)
