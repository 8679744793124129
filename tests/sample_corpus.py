"""A small progression table in the shipped table's layout, for tests that must not need data/."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.corpus.table import COLUMNS, write_table

_SONGS = (
    # song_id, source, title, artist, genre, mood, tonic, scale, split, windows
    ("s1", "pop909", "Sunny Road", "The Wheels", "pop", "happy", "C", "major", "train",
     ["C G Am F", "F G C", "Am F C G"]),
    ("s2", "nottingham", "Greensleeves", "", "folk", "", "A", "minor", "train", ["Am G F E", "Am Dm E Am"]),
    ("s3", "jazz_standards", "Blue Hour", "Miles Ahead", "jazz", "calm", "Bb", "major", "validation",
     ["Cm7 F7 Bbmaj7", "Ebmaj7 Am7b5 D7 Gm7"]),
    ("s4", "when_in_rome", "Sonata in G", "Mozart", "classical", "tense", "G", "major", "test", ["G D7 G C D G"]),
    ("s5", "pop909", "Rain Again", "Grey Skies", "rock", "sad", "E", "minor", "test", ["Em C G D", "Em Am B7 Em"]),
)


def sample_frame() -> pd.DataFrame:
    """Five songs, ten windows, every source, genre/mood/scale mixes including empty labels."""
    rows = []
    for song_id, source, title, artist, genre, mood, tonic, scale, split, windows in _SONGS:
        for i, chords in enumerate(windows):
            rows.append({
                "window_id": f"{song_id}-w{i}", "song_id": song_id, "song_group": song_id, "split": split,
                "source": source, "title": title, "artist": artist, "section": f"part {i + 1}", "genre": genre,
                "genre_raw": genre, "subgenre": "", "mood": mood, "mood_evidence": "", "key_tonic": tonic,
                "scale_type": scale, "chords": chords, "n_chords": len(chords.split()), "ends": int(i == len(windows) - 1),
            })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_sample_table(path: Path) -> Path:
    """Write :func:`sample_frame` as a gzip table at ``path``; returns ``path``."""
    write_table(sample_frame(), path)
    return path
